"""Render the report pages (per model, per night, comparisons, the index of nights) as
HTML text, and the shared chart script they load."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import math
import os
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import polars as pl
import vl_convert
from markupsafe import Markup

from pipeline.base.files import atomic_write_text
from pipeline.report import charts, overview_charts
from pipeline.report.compare import Comparison
from pipeline.report.data import (
    ModelReport,
    NightReport,
    page_name,
)
from pipeline.report.sweeps import Sweep

# The night page draws the worst models' panels alone: thousands stay a page one can open.
MAX_NIGHT_PANELS = 24
STATISTIC_COLUMNS = (
    "split", "n", "mean_ce", "weighted_mean_ce", "std_ce", "median_ce", "p90_ce", "p99_ce",
    "max_ce", "accuracy", "mean_confidence", "ece", "brier", "clipped", "ln_c", "label_entropy",
)  # fmt: skip


@cache
def bundle_text() -> str:
    """Vega, Vega-Lite and vega-embed as one script.

    Building it takes seconds, so it is kept on disk per vl-convert version
    (bench/README.md); a cache that cannot be written is only a slower start.
    """
    cache = _bundle_cache_path()
    try:
        return cache.read_text(encoding="utf-8")
    except OSError:
        bundle: str = vl_convert.javascript_bundle()  # type: ignore[call-arg]  # stub omits it
        with contextlib.suppress(OSError):
            atomic_write_text(cache, bundle)
        return bundle


def vega_bundle() -> Markup:
    """The bundle inline, in a <script> element (a page sent alone)."""
    # A literal </script> inside the bundle would end the element early.
    return Markup("<script>{}</script>").format(
        Markup(bundle_text().replace("</script", "<\\/script"))
    )


def shared_bundle(reports: Path) -> str:
    """The bundle as one file per reports folder, named by its content (a new vl-convert
    writes a new file; pages written before keep theirs): its file name."""
    text = bundle_text()
    name = f"vega-{hashlib.sha256(text.encode()).hexdigest()[:16]}.js"
    if not (reports / name).is_file():
        atomic_write_text(reports / name, text)
    return name


def bundle_tag(bundle_file: str | None, depth: int) -> Markup:
    """How a page `depth` folders below the reports folder loads the charts' scripts:
    the shared file by a relative path (works from file:// and any static host), or
    inline when there is none (--standalone)."""
    if bundle_file is None:
        return vega_bundle()
    return Markup('<script src="{}"></script>').format("../" * depth + bundle_file)


def _bundle_cache_path() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    version = importlib.metadata.version("vl-convert-python")
    return root / "lossgram" / f"vega-bundle-{version}.js"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(fmt=format_number, pct=format_percent, thresholds=threshold_items)
    return env


def format_number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def threshold_items(thresholds: str | dict[str, Any]) -> list[tuple[str, Any]]:
    """The stored thresholds JSON as (name, value) pairs for the banner."""
    parsed = json.loads(thresholds) if isinstance(thresholds, str) else thresholds
    return list(parsed.items())


def format_percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    # Not validated against the Vega-Lite schema again for every page (a quarter of the
    # render time): the chart builders' specs are validated by the golden tests.
    # Data inline by design (offline pages): bounded by the page, not Altair's 5,000 rows.
    with alt.data_transformers.disable_max_rows():
        spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec


def model_charts(report: ModelReport) -> dict[str, dict[str, Any]]:
    """The chart specs of a model page, keyed by the id of the div each goes into."""
    specs = {
        "histogram-log": _spec(
            charts.loss_histogram(
                report.histograms,
                markers=report.markers,
                log_x=True,
                title="Loss histogram (log x)",
            )
        ),
        "histogram-linear": _spec(
            charts.loss_histogram(
                report.linear_histograms,
                markers=_within(report.markers, report.linear_histograms),
                log_x=False,
                title="Loss histogram (linear x)",
                height=200,
            )
        ),
        "per-class": _spec(charts.per_class_losses(report.per_class)),
        "trend-nights": _spec(
            charts.loss_trend(report.nights, x="snapshot_date", title="Mean loss per night")
        ),
        "calibration": _spec(charts.reliability_diagram(report.calibration, report.ece)),
    }
    if report.cartography is not None:
        specs["cartography"] = _spec(
            charts.cartography_map(report.cartography.grid, report.cartography.cuts)
        )
    if report.epochs.height:
        specs["trend-epochs"] = _spec(
            charts.loss_trend(
                report.epochs, x="epoch", title="Mean loss per epoch", best=report.best_epoch
            )
        )
    return specs


def _within(markers: dict[str, float], bars: pl.DataFrame) -> dict[str, float]:
    """The markers near the bars' range (up to twice its end): H and ln C just past the
    last bar stay, a clip cap at 27.6 nats would squeeze losses near 2 into a sliver."""
    if not bars.height:
        return markers
    end = bars.select(pl.col("lower").max() + (pl.col("upper") - pl.col("lower")).min()).item()
    return {name: value for name, value in markers.items() if value <= 2 * end}


def statistic_columns(statistics: pl.DataFrame) -> tuple[str, ...]:
    """The statistics table's columns: PyTorch's weighted mean only where class weights
    make it differ from the plain mean."""
    if "weighted_mean_ce" in statistics.columns:
        apart = (pl.col("weighted_mean_ce") - pl.col("mean_ce")).abs() > 1e-12 * pl.col("mean_ce")
        if statistics.select(apart.any()).item():
            return STATISTIC_COLUMNS
    return tuple(name for name in STATISTIC_COLUMNS if name != "weighted_mean_ce")


def render_model_page(
    report: ModelReport, pngs: list[str] | None = None, bundle_file: str | None = None
) -> str:
    specs = model_charts(report)
    return (
        environment()
        .get_template("model.html.j2")
        .render(
            r=report,
            charts=specs,
            bundle=bundle_tag(bundle_file, depth=1),
            stat_columns=statistic_columns(report.statistics),
            has_epochs="trend-epochs" in specs,
            pngs=pngs or [],
        )
    )


def render_night_page(
    night: NightReport,
    bundle_file: str | None = None,
    folder: Path | None = None,
    regressed: dict[str, str] | None = None,
    sweeps: list[tuple[str, str]] | None = None,
) -> str:
    """The night's page; regressed: model -> its comparison with its previous night;
    sweeps: (parameter names, page) of each sweep."""
    regressed = regressed or {}
    ordered = sorted(
        night.verdicts,
        key=lambda v: -(v["normalised_gap"] if v["normalised_gap"] is not None else -math.inf),
    )
    specs = {}
    if night.histograms.height:
        # Worst gap / H first (a model's largest over its held-out splits), H marked.
        worst: dict[str, float] = {}
        entropy: dict[str, float] = {}
        for v in night.verdicts:
            gap = v["normalised_gap"] if v["normalised_gap"] is not None else -math.inf
            worst[v["model"]] = max(worst.get(v["model"], -math.inf), gap)
            if v["label_entropy"] is not None:
                entropy.setdefault(v["model"], float(v["label_entropy"]))
        order = sorted(night.models, key=lambda model: -worst.get(model, -math.inf))
        shown = order[:MAX_NIGHT_PANELS]  # every model is in the table and has its page
        panels = night.histograms.filter(pl.col("model").is_in(shown))
        specs["night-histograms"] = _spec(charts.night_histograms(panels, shown, entropy))
    return (
        environment()
        .get_template("night.html.j2")
        .render(
            night=night,
            verdicts=ordered,
            charts=specs,
            panels_left_out=max(0, len(night.models) - MAX_NIGHT_PANELS),
            comparisons=sorted(p.name for p in folder.glob("compare-*.html")) if folder else [],
            hints=night_hints(night, ordered, regressed),
            regressed=regressed,
            sweeps=sweeps or [],
            bundle=bundle_tag(bundle_file, depth=1),
            links={model: page_name(model) for model in night.models},
        )
    )


def night_hints(
    night: NightReport, ordered: list[dict[str, Any]], regressed: dict[str, str]
) -> list[dict[str, str]]:
    """One line per regressed or overfit model, regressions first: what happened and where
    to look (its comparison with its previous night, or its first tuning hint)."""
    hints: dict[str, dict[str, str]] = {}
    for change in night.changes:
        if change.severity == "regression" and change.model not in hints:
            text = change.text.split(": ", 1)[-1]
            page = regressed.get(change.model, "")
            link = f"against {change.previous_date}" if page else ""
            hints[change.model] = {"model": change.model, "text": f"regressed: {text}",
                                   "page": page, "link": link}  # fmt: skip
    for v in ordered:
        if v["verdict"] == "overfit" and v["model"] not in hints:
            first = v["hints"][0] if v["hints"] else ""
            text = f"overfits on {v['heldout_split']}" + (f": {first}" if first else "")
            hints[v["model"]] = {"model": v["model"], "text": text, "page": "", "link": ""}
    return list(hints.values())


def render_comparison(found: Comparison, bundle_file: str | None = None) -> str:
    specs = {"overlay": _spec(overview_charts.model_overlay(found.histograms, found.split))}
    for index, paired in enumerate(found.paired, start=1):
        specs[f"paired-{index}"] = _spec(
            overview_charts.difference_histogram(paired.histogram, paired.model_a, paired.model_b)
        )
    return (
        environment()
        .get_template("compare.html.j2")
        .render(
            c=found,
            statistics=found.statistics.to_dicts(),
            charts=specs,
            bundle=bundle_tag(bundle_file, depth=1),
        )
    )


def render_sweep(sweep: Sweep, bundle_file: str | None = None) -> str:
    """A sweep's page: each varying parameter's loss and gap / H charts, the recommended
    configuration, every configuration, and the overlaid histograms."""
    specs = {}
    for index, param in enumerate(sweep.varying, start=1):
        rows = sweep.rows.filter(pl.col("param") == param)
        log_x = sweep.log_axis(param)
        for kind, measure, title in (
            ("loss", "heldout_mean_ce", "held-out mean loss (nats)"),
            ("gap", "gap_over_h", "gap / H"),
        ):
            chart = overview_charts.sweep_points(rows, param, measure, title, log_x=log_x)
            specs[f"sweep-{index}-{kind}"] = _spec(chart)
    if sweep.histograms.height:
        split = str(sweep.rows["heldout_split"].drop_nulls().first())
        specs["overlay"] = _spec(overview_charts.model_overlay(sweep.histograms, split))
    configurations = sweep.configurations
    return (
        environment()
        .get_template("sweep.html.j2")
        .render(
            s=sweep,
            best=sweep.recommended,
            params=sorted(set(sweep.rows["param"].to_list())),
            varying=sweep.varying,
            configurations=configurations.to_dicts(),
            links={model: page_name(model) for model in configurations["model"]},
            charts=specs,
            bundle=bundle_tag(bundle_file, depth=1),
        )
    )


# The dashboard draws and lists the latest nights; older ones are linked by month, so a
# year of nights stays a page of ~200 KB (bench/README.md, A year of nights).
DASHBOARD_NIGHTS = 60


def render_index(
    all_nights: list[dict[str, Any]],
    dashboard: pl.DataFrame,
    bundle_file: str | None = None,
    reports: Path | None = None,
) -> str:
    """The dashboard: charts of the nights in `dashboard` (the latest DASHBOARD_NIGHTS),
    a table of as many latest nights, older nights linked by month; with the reports
    folder, each listed night's sweep pages are linked. The three charts share one copy
    of their data."""
    specs: dict[str, dict[str, Any]] = {}
    shared: dict[str, Any] = {}
    if dashboard.height:
        # Four significant digits: what the tooltips show, in a third of the bytes.
        data = dashboard.with_columns(pl.col("mean_heldout", "normalised_gap").round_sig_figs(4))
        specs = {
            "verdict-timeline": _spec(overview_charts.verdict_timeline(data)),
            "heldout-trend": _spec(
                overview_charts.model_trends(data, "mean_heldout", "held-out mean loss")
            ),
            "gap-trend": _spec(overview_charts.model_trends(data, "normalised_gap", "gap / H")),
        }
        for spec in specs.values():  # one dataset (one name: Altair names it by content)
            shared.update(spec.pop("datasets", {}))
    recent, older = all_nights[:DASHBOARD_NIGHTS], all_nights[DASHBOARD_NIGHTS:]
    months: dict[str, list[str]] = {}
    for night in older:
        day = str(night["snapshot_date"])
        months.setdefault(day[:7], []).append(day)
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            nights=recent,
            older_months=months,
            sweeps={
                str(night["snapshot_date"]): sorted(
                    page.name
                    for page in (reports / str(night["snapshot_date"])).glob("sweep-*.html")
                )
                for night in recent
            }
            if reports
            else {},
            charts=specs,
            chart_data=shared,
            bundle=bundle_tag(bundle_file, depth=0),
        )
    )
