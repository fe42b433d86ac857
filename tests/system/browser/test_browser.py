"""The report pages in a real browser: Debian's Chromium driven by Playwright, network off.

Each page must open from file://, draw its charts, log no error, fetch nothing from the
network and show hostile names as text. Playwright downloads no browser here: it launches
/usr/bin/chromium (CI installs it; see .ci/run).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.nightly.driver import run_job
from pipeline.report import pages, writing
from pipeline.report.charts import EXTRA_COLOURS
from pipeline.report.data import model_report, night_models, night_report, page_name
from pipeline.report.pages import shared_bundle
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from tests.helpers.paths import DEMO

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow

DEMO_DAY = "2026-11-23"
HOSTILE_DAY = "2026-11-24"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHARTS = ".vega-embed svg.marks, .vega-embed canvas.marks"
MAX_PAGE_BYTES = 150_000  # a page stays under 150 KB, the scripts shared (README, Reports)

PAYLOAD = "</script><b>x <img src=x onerror=alert(1)> \"' Ünïcødé 模型"
HOSTILE_MODEL = "../../" + PAYLOAD
HOSTILE_SPLIT = PAYLOAD  # a third split: shown in tables, legends and tooltips
HOSTILE_CLASSES = [f"{PAYLOAD} {index}" for index in range(3)]


@dataclasses.dataclass
class Visit:
    """An opened page and everything it did: console errors, requests, dialogs."""

    page: Page
    errors: list[str]
    requests: list[str]
    dialogs: list[str]

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        left = [url for url in self.requests if urlparse(url).scheme not in ("file", "data")]
        assert left == [], f"requests left file://: {left}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# Before a page's own scripts: every vegaEmbed call is kept, so a test can wait until each
# chart has drawn or failed (its promise settled) instead of sleeping and hoping.
TRACK_CHARTS = """
(() => {
  const embeds = [];
  let embed;
  window.lossgramEmbeds = embeds;
  Object.defineProperty(window, "vegaEmbed", {
    configurable: true,
    get: () => embed,
    set: (real) => {
      embed = (...args) => {
        const drawn = real(...args);
        embeds.push(drawn.then(() => "drawn", () => "failed"));
        return drawn;
      };
    },
  });
})();
"""
# Resolves once every chart embedded so far has settled and the next frame is painted;
# "timeout" after a minute (a bound for a hung page, not a pace).
SETTLED = """
() => Promise.race([
  Promise.all(window.lossgramEmbeds ?? [])
    .then(() => new Promise((done) => requestAnimationFrame(() => done("settled")))),
  new Promise((done) => setTimeout(() => done("timeout"), 60000)),
])
"""


def settle(page: Page) -> None:
    """Wait until every chart the page embedded has drawn or failed (its error logged)."""
    assert page.evaluate(SETTLED) == "settled"


@pytest.fixture
def visit(browser: Browser) -> Iterator[Callable[[Path, int], Visit]]:
    """visit(path, charts): open a page offline and wait until its charts drew."""
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    context.add_init_script(TRACK_CHARTS)

    def open_page(path: Path, charts: int) -> Visit:
        page = context.new_page()
        seen = Visit(page, [], [], [])
        page.on(
            "console",
            lambda message: seen.errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: seen.errors.append(f"pageerror: {error}"))
        page.on("request", lambda request: seen.requests.append(request.url))

        def on_dialog(dialog):  # an alert() would block the page: record it, then close it
            seen.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(path.as_uri(), wait_until="load")
        settle(page)  # every chart drawn, or failed with its error logged
        assert seen.errors == []
        assert page.locator(CHARTS).count() == charts
        assert page.locator(".chart").count() == charts  # no chart div left empty
        for chart in page.locator(CHARTS).all():
            box = chart.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 100
        return seen

    yield open_page
    context.close()


def build(inbox: Path, root: Path) -> Settings:
    """The nightly job on an inbox, then every report page."""
    settings = Settings(inbox=inbox, warehouse=root / "warehouse", reports=root / "reports")
    summary = run_job(settings)
    assert summary.status == "succeeded", summary
    writing.write_reports(
        Warehouse(settings.warehouse), settings.reports, settings.report_options()
    )
    return settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The two demo nights of real dumps, through the job and the report writer."""
    root = tmp_path_factory.mktemp("demo")
    for night in DEMO.iterdir():
        shutil.copytree(night, root / "inbox" / night.name)
    return build(root / "inbox", root)


def write_hostile_dumps(inbox: Path) -> None:
    """One model, three splits; the model, split, class names and sample ids are hostile."""
    rng = np.random.default_rng(0)
    for index, (split, signal) in enumerate([("train", 6.0), ("test", 0.5), (HOSTILE_SPLIT, 1.0)]):
        n = 200
        labels = rng.integers(0, len(HOSTILE_CLASSES), n)
        logits = rng.normal(size=(n, len(HOSTILE_CLASSES))).astype(np.float32)
        logits[np.arange(n), labels] += signal
        table = pa.table(
            {
                "sample_id": [f"{PAYLOAD} #{row}" for row in range(n)],
                "label": [HOSTILE_CLASSES[label] for label in labels],
                "logits": pa.FixedSizeListArray.from_arrays(
                    pa.array(logits.ravel()), len(HOSTILE_CLASSES)
                ),
                "model": [HOSTILE_MODEL] * n,
                "split": [split] * n,
            }
        ).replace_schema_metadata({"lossgram.classes": json.dumps(HOSTILE_CLASSES)})
        path = inbox / HOSTILE_DAY / f"part-{index}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("hostile")
    write_hostile_dumps(root / "inbox")
    return build(root / "inbox", root)


def model_pages(settings: Settings, day: str) -> list[Path]:
    return sorted(p for p in (settings.reports / day).glob("*.html") if p.name != "index.html")


# -- the demo pages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "charts"),
    [
        (f"{DEMO_DAY}/mlp.html", 7),  # has epochs: the per-epoch trend and the cartography
        (f"{DEMO_DAY}/tree.html", 5),
        (f"{DEMO_DAY}/index.html", 1),
        ("index.html", 3),  # the dashboard: verdict timeline, held-out loss, gap / H
    ],
)
def test_page_draws_its_charts_offline(demo, visit, page, charts):
    opened = visit(demo.reports / page, charts)
    opened.assert_clean()
    # The page, and the shared chart scripts in the reports folder when it draws charts.
    bundle = [(demo.reports / shared_bundle(demo.reports)).as_uri()] if charts else []
    assert opened.requests == [(demo.reports / page).as_uri(), *bundle]


@pytest.mark.parametrize(
    ("page", "charts"), [(f"{DEMO_DAY}/mlp.html", 7), (f"{DEMO_DAY}/index.html", 1)]
)
def test_standalone_pages_carry_their_scripts(demo, visit, tmp_path, page, charts):
    """--standalone: a page copied anywhere alone still draws, requesting nothing else."""
    writing.write_reports(
        Warehouse(demo.warehouse), tmp_path / "reports", demo.report_options(), standalone=True
    )
    alone = tmp_path / "elsewhere" / "page.html"
    alone.parent.mkdir()
    shutil.copy(tmp_path / "reports" / page, alone)
    opened = visit(alone, charts)
    opened.assert_clean()
    assert opened.requests == [alone.as_uri()]
    assert not list((tmp_path / "reports").glob("vega-*.js"))


def test_night_panels_go_worst_first_and_can_share_one_y_scale(demo, visit):
    opened = visit(demo.reports / DEMO_DAY / "index.html", 1)
    page = opened.page
    panels = page.locator("#night-histograms").inner_text()
    # The demo's tree overfits most (gap / H 195%), the underfit logreg least.
    assert panels.index("tree") < panels.index("mlp") < panels.index("logreg")
    shared_before = page.locator("#night-histograms svg.marks").inner_html()
    page.locator("#shared-y").check()
    settle(page)  # the panels embedded again, with one y scale
    assert opened.errors == []
    assert page.locator("#night-histograms svg.marks").count() == 1
    assert page.locator("#night-histograms svg.marks").inner_html() != shared_before


def test_night_page_links_every_model_and_sorts(demo, visit):
    night = demo.reports / DEMO_DAY / "index.html"
    page = visit(night, 1).page
    links = page.locator("#verdicts tbody a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert sorted(hrefs) == [p.name for p in model_pages(demo, DEMO_DAY)]
    models = [links.nth(i).inner_text() for i in range(links.count())]
    page.locator("#verdicts th", has_text="model").click()
    assert page.locator("#verdicts tbody a").all_inner_texts() == sorted(models)
    page.locator("#verdicts th", has_text="model").click()
    assert page.locator("#verdicts tbody a").all_inner_texts() == sorted(models, reverse=True)


def test_index_links_every_night(demo, visit):
    page = visit(demo.reports / "index.html", 3).page
    for href in page.locator("a").evaluate_all("links => links.map(a => a.href)"):
        assert Path(urlparse(href).path).is_file(), href


def test_pages_stay_under_the_size_limit(demo):
    written = [*demo.reports.glob("*/*.html"), demo.reports / "index.html"]
    assert len(written) == 2 * 4 + 2 + 1  # 4 models + a night page per night, the index
    sizes = {str(p.relative_to(demo.reports)): p.stat().st_size for p in written}
    assert max(sizes.values()) <= MAX_PAGE_BYTES, sizes
    assert len(list(demo.reports.glob("vega-*.js"))) == 1  # one shared copy of the scripts


def test_the_dashboard_shows_every_model_and_night(demo, visit):
    page = visit(demo.reports / "index.html", 3).page
    timeline = page.locator("#verdict-timeline").inner_text()  # the axis labels (SVG text)
    for model in ("forest", "logreg", "mlp", "tree"):
        assert model in timeline
    assert "2026-11-22" in timeline and DEMO_DAY in timeline


def test_the_night_page_flags_what_changed(tmp_path, visit):
    """A model that fitted last night and overfits tonight is flagged first; one that
    vanished is flagged too; the first night has nothing to compare with."""
    inbox = tmp_path / "inbox"
    rng = np.random.default_rng(0)
    nights = {"2026-11-22": {"a": 6.0, "b": 6.0}, "2026-11-23": {"a": 0.3}}
    for night, models in nights.items():
        for model, test_signal in models.items():
            for split, signal in (("train", 6.0), ("test", test_signal)):
                labels = rng.integers(0, 4, 400)
                logits = rng.normal(size=(400, 4))
                logits[np.arange(400), labels] += signal
                path = inbox / night / f"model={model}" / f"split={split}" / "part-0.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pl.DataFrame(
                    {"sample_id": np.arange(400), "label": labels,
                     "logits": pl.Series(logits, dtype=pl.Array(pl.Float64, 4))}
                ).write_parquet(path)  # fmt: skip
    settings = build(inbox, tmp_path)
    page = visit(settings.reports / "2026-11-23" / "index.html", 1).page
    changes = page.locator("#changes li")
    texts = changes.all_inner_texts()
    assert changes.first.get_attribute("class") == "change regression"
    assert any("a test: good fit -> overfit · against 2026-11-22" in text for text in texts)
    against = page.locator("#changes li a.against-previous")  # a's flip and its gap move
    assert against.count() == 2 and len({link.get_attribute("href") for link in against.all()}) == 1
    compared = settings.reports / "2026-11-23" / str(against.first.get_attribute("href"))
    opened = visit(compared, 2)  # the overlay and the paired view of a against itself
    assert "a@2026-11-22 vs a@2026-11-23" in opened.page.locator("h1").inner_text()
    assert page.locator("#hints li").count() == 2  # a regressed; b vanished
    assert any("b test: no verdict tonight" in text for text in texts)
    first = visit(settings.reports / "2026-11-22" / "index.html", 1).page
    assert first.locator("#changes li").count() == 0


def test_comparison_page_draws_and_names_the_models(demo, tmp_path, visit):
    page = writing.write_comparison(
        Warehouse(demo.warehouse), tmp_path / "reports", demo.report_options(), ["mlp", "forest"]
    )
    opened = visit(page, 2)  # the overlaid histograms, the paired differences
    opened.assert_clean()
    text = opened.page.locator("body").inner_text()
    assert "mlp vs forest" in text and "samples they share" in text
    assert opened.page.locator("#compare-statistics tr").count() == 3
    assert opened.page.locator("table.most-worse tr").count() > 1


# -- hostile names ----------------------------------------------------------------------


def assert_inert(opened: Visit) -> None:
    """Nothing from the data became markup or ran."""
    opened.assert_clean()
    page = opened.page
    assert page.locator("img").count() == 0
    assert page.locator("b").count() == 0
    html = page.content()
    assert "<img src=x" not in html and "<b>x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # there, escaped as text


def test_hostile_names_stay_text_on_the_model_page(hostile, visit):
    (model_page,) = model_pages(hostile, HOSTILE_DAY)
    opened = visit(model_page, 5)
    assert_inert(opened)
    page = opened.page
    tables = page.locator("table")
    assert PAYLOAD in tables.nth(0).inner_text()  # the split, in the statistics
    top_losses = tables.nth(1).inner_text()
    assert f"{PAYLOAD} #" in top_losses  # sample ids
    # Classes by their declared names (as text), in the table and on the chart's axis.
    assert any(name in top_losses for name in HOSTILE_CLASSES)
    axis = page.locator("#per-class").inner_text()  # long names cut with an ellipsis
    assert axis.count(PAYLOAD[:20]) >= len(HOSTILE_CLASSES)


def test_hostile_names_stay_text_in_chart_tooltips(hostile, visit):
    """Hover a bar of the hostile split: vega-tooltip shows its name as text."""
    (model_page,) = model_pages(hostile, HOSTILE_DAY)
    opened = visit(model_page, 5)
    colour = EXTRA_COLOURS[0]  # the first split that is not train/val/test
    bars = opened.page.locator(f'#per-class svg.marks .mark-rect path[fill="{colour}"]')
    assert bars.count() == len(HOSTILE_CLASSES)  # one bar per class for the hostile split
    bars.first.hover()
    page = opened.page
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=60_000)  # a bound for a hung page
    assert PAYLOAD in tooltip.inner_text()
    assert_inert(opened)


def test_hostile_names_stay_text_on_the_night_page(hostile, visit):
    opened = visit(hostile.reports / HOSTILE_DAY / "index.html", 1)
    assert_inert(opened)
    (model_page,) = model_pages(hostile, HOSTILE_DAY)
    assert opened.page.locator("#verdicts a").get_attribute("href") == model_page.name


def test_model_page_file_name_is_safe(hostile):
    written = {p.relative_to(hostile.reports) for p in hostile.reports.rglob("*")}
    (model_page,) = model_pages(hostile, HOSTILE_DAY)
    assert written == {
        Path(HOSTILE_DAY),
        Path(HOSTILE_DAY, "index.html"),
        Path(HOSTILE_DAY, "verdicts.json"),
        Path(HOSTILE_DAY, ".rendered"),  # the model pages written (a stopped render resumes)
        Path(HOSTILE_DAY, model_page.name),
        Path("index.html"),
        Path(shared_bundle(hostile.reports)),
    }
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.html", model_page.name)
    assert model_page.resolve().parent == (hostile.reports / HOSTILE_DAY).resolve()
    raw = page_name(HOSTILE_MODEL)
    assert "/" not in raw and not raw.startswith(".")


def test_model_name_survives_the_warehouse(hostile, visit):
    (model_page,) = model_pages(hostile, HOSTILE_DAY)
    page = visit(model_page, 5).page
    assert page.locator("h1").inner_text().startswith(HOSTILE_MODEL)


def test_templates_escape_a_raw_model_name(hostile, visit, tmp_path):
    """Until the warehouse keeps raw model names: render them straight into the templates."""
    warehouse = Warehouse(hostile.warehouse)
    connection = warehouse.connect()
    try:
        (stored,) = night_models(connection, dt.date.fromisoformat(HOSTILE_DAY))
        report = model_report(
            connection, dt.date.fromisoformat(HOSTILE_DAY), stored, hostile.report_options()
        )
        night = night_report(connection, dt.date.fromisoformat(HOSTILE_DAY))
    finally:
        connection.close()
    report = dataclasses.replace(report, model=HOSTILE_MODEL)
    night = dataclasses.replace(
        night,
        models=[HOSTILE_MODEL],
        verdicts=[{**verdict, "model": HOSTILE_MODEL} for verdict in night.verdicts],
        histograms=night.histograms.with_columns(model=pl.lit(HOSTILE_MODEL)),
    )
    model_file = tmp_path / HOSTILE_DAY / page_name(HOSTILE_MODEL)
    night_file = tmp_path / HOSTILE_DAY / "index.html"
    model_file.parent.mkdir()
    model_file.write_text(pages.render_model_page(report), encoding="utf-8")
    night_file.write_text(pages.render_night_page(night), encoding="utf-8")
    assert model_file.resolve().parent == night_file.parent.resolve()

    opened = visit(model_file, 5)
    assert_inert(opened)
    assert opened.page.title().startswith(HOSTILE_MODEL)
    assert opened.page.locator("h1").inner_text().startswith(HOSTILE_MODEL)
    assert opened.page.locator("nav").inner_text().endswith(HOSTILE_MODEL)

    opened = visit(night_file, 1)
    assert_inert(opened)
    link = opened.page.locator("#verdicts a")
    assert link.inner_text() == HOSTILE_MODEL
    assert link.get_attribute("href") == model_file.name


def test_a_sweep_page_draws_and_names_its_recommendation(tmp_path, visit):
    """Four configurations of one model (depth 1..4) with a learning rate that stays: one
    chart pair (depth varies), the overlay, the recommended configuration in a banner,
    and links to it from the night page and the dashboard."""
    from pipeline.writer import write_dump

    rng = np.random.default_rng(4)
    for depth, signal in ((1, 0.3), (2, 1.5), (3, 3.0), (4, 4.0)):
        for split, boost in (("train", signal * 1.5), ("test", signal)):
            labels = rng.integers(0, 3, 200)
            logits = rng.normal(size=(200, 3))
            logits[np.arange(200), labels] += boost
            write_dump(tmp_path / "inbox" / "2026-11-23" / f"d{depth}-{split}.parquet",
                       sample_ids=np.arange(200), labels=labels, logits=logits, split=split,
                       model=f"net-d{depth}", params={"depth": depth, "lr": 0.01})  # fmt: skip
    settings = build(tmp_path / "inbox", tmp_path)
    night = settings.reports / "2026-11-23"
    (sweep,) = night.glob("sweep-*.html")
    opened = visit(sweep, 3)
    banner = opened.page.locator("#recommended").inner_text()
    assert "RECOMMENDED" in banner.upper() and "depth = " in banner
    assert opened.page.locator("#configurations tr").count() == 5  # header + 4
    night_page = visit(night / "index.html", 1).page
    assert night_page.locator(f'#sweeps a[href="{sweep.name}"]').count() == 1
    dashboard = visit(settings.reports / "index.html", 3).page
    assert dashboard.locator("a.sweep").count() == 1
