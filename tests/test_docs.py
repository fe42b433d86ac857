"""The docs stay true: the README's and docs/'s examples run, the generated reference pages
cover every setting and command, the figures they quote are measured, and the quick start's
test command is what CI runs.

Conventions of the pages (docs/*.md and README.md): a ```sql block runs on the demo
warehouse and must return rows; a ```python block runs in an empty folder (nothing is
written into the checkout) and has a check below; a ```py block is shown, not run (it needs
torch, a Trainer, Airflow); a ```toml block loads as settings.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
while not (ROOT / "pyproject.toml").is_file():  # wherever tests/ puts this file
    ROOT = ROOT.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
DEMO_NIGHT = "2026-11-23"


def blocks(language: str, pages: list[Path] = PAGES) -> list[tuple[str, str]]:
    """(page:n, code) of every ```language block of the pages, in order."""
    found = []
    for page in pages:
        codes = re.findall(rf"^```{language}\n(.+?)\n```$", page.read_text(), re.S | re.M)
        found += [(f"{page.name}:{n}", code) for n, code in enumerate(codes, start=1)]
    return found


def reference() -> ModuleType:
    """docs/hooks/reference.py, the generator of the settings and command pages."""
    spec = importlib.util.spec_from_file_location("docs_reference", DOCS / "hooks/reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the quick start and CI --------------------------------------------------------------
def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "pip install" in commands[0] and "lossgram demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_and_builds_the_docs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert quick_start_commands()[1] in ci.splitlines()
    assert "mypy pipeline" in ci and "ruff check pipeline" in ci
    assert "mkdocs build --strict" in ci


def test_readme_stays_short_and_links_every_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in DOCS.glob("*.md"):
        assert f"(docs/{page.name})" in readme, f"README links no docs/{page.name}"


def test_readme_names_exactly_the_settings():
    from pipeline.settings import setting_fields

    readme = (ROOT / "README.md").read_text()
    paragraph = readme.split("Every setting is", 1)[1].split("\n\n", 1)[0]
    named = re.findall(r"`([a-z_]+)`", paragraph)
    assert named == [field.name for field in setting_fields()]


def test_every_page_is_in_the_nav():
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(nav: Any) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        items = nav.values() if isinstance(nav, dict) else nav
        return [page for item in items for page in pages(item)]

    assert sorted(pages(config["nav"])) == sorted(page.name for page in DOCS.glob("*.md"))
    assert config["hooks"] == ["docs/hooks/reference.py"] and config["strict"] is True


def test_the_docs_name_no_machine_paths():
    texts = [*PAGES, ROOT / "bench" / "README.md", ROOT / "bench" / "HISTORY.md"]
    for page in texts:
        text = page.read_text()
        for banned in ("shared/", "/work/", "/home/", "/Users/"):
            assert banned not in text, f"{page.name} mentions {banned}"


def test_files_the_docs_name_exist():
    """Every repository path a page names in `code` exists (tests by file name alone, so
    they may move between folders of tests/)."""
    tests = {path.name for path in (ROOT / "tests").rglob("test_*.py")}
    for page in PAGES:
        text = page.read_text()
        for path in re.findall(r"`((?:pipeline|sql|bench|scripts|data/demo)/[\w/.*-]+)`", text):
            if "NNN" not in path and ".." not in path:  # sql/schema/NNN_*.sql: patterns
                assert list(ROOT.glob(path.rstrip("/"))), f"{page.name} names {path}"
        for name in re.findall(r"`(test_\w+\.py)", page.read_text()):
            assert name in tests, f"{page.name} names {name}"


# -- generated reference pages ---------------------------------------------------------
def test_the_settings_page_lists_every_setting():
    from pipeline.settings import setting_fields

    assert "<!-- generated: settings -->" in (DOCS / "settings.md").read_text()
    table = reference().settings_markdown()
    for field in setting_fields():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{field.name}`<"))
        assert f"`LOSSGRAM_{field.name.upper()}`" in row
        assert field.metadata["help"].split()[0] in row


def test_the_command_page_lists_every_command_and_option():
    import typer.main

    from pipeline.cli.app import app

    assert "<!-- generated: commands -->" in (DOCS / "cli.md").read_text()
    page = reference().cli_markdown()
    group = typer.main.get_command(app)
    assert len(group.commands) == len(app.registered_commands)
    for name, command in group.commands.items():
        section = page.split(f"## `lossgram {name}`", 1)[1].split("\n## ", 1)[0]
        for parameter in command.params:
            for flag in parameter.opts:
                assert flag in section or parameter.param_type_name == "argument", (name, flag)
        assert "Example:" in section
    assert re.search(r"\b3 the --fail-on gate", page)  # the exit codes, from the app's help


def test_deploy_recipes_exist():
    deploy = (DOCS / "deploy.md").read_text()
    for recipe in ("crontab", "systemd", "CronJob", "Airflow", "concurrencyPolicy: Forbid"):
        assert recipe in deploy
    assert "3 a `--fail-on` condition met" in deploy


# -- examples run ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`lossgram demo` in a folder of its own: warehouse and reports of the bundled nights."""
    from typer.testing import CliRunner

    from pipeline.cli.app import app

    folder = tmp_path_factory.mktemp("demo")
    paths = {name: str(folder / name) for name in ("inbox", "warehouse", "reports")}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        result = CliRunner().invoke(
            app, ["demo", *(f"--{name}={path}" for name, path in paths.items())]
        )
    assert result.exit_code == 0, result.output
    return folder


def query(demo: Path, sql: str) -> Any:
    from pipeline.cli.user_sql import run_user_query

    return run_user_query(demo / "warehouse", sql, timeout_seconds=60, limit=None).frame


@pytest.mark.parametrize(("where", "sql"), blocks("sql"), ids=[w for w, _ in blocks("sql")])
def test_sql_examples_return_rows_on_the_demo(demo, where, sql):
    frame = query(demo, sql)
    assert frame.height >= 1, f"{where} returns no rows on the demo warehouse"
    if "sample_id" in frame.columns:  # a sample once (one epoch per model and night)
        assert frame["sample_id"].n_unique() == frame.height, where
    if "lag(" in sql:  # night over night: one row per model and night
        assert frame.select("model", "snapshot_date").is_duplicated().sum() == 0
        assert frame.height == 8  # 4 models x 2 nights


def test_sql_examples_cover_the_queries_the_docs_promise():
    pages = [DOCS / "warehouse-and-sql.md"]
    examples = [sql for _, sql in blocks("sql", pages)]
    assert len(examples) >= 5
    assert any("judged_epochs" in sql and "ORDER BY l.ce DESC" in sql for sql in examples)
    assert any(f"DATE '{DEMO_NIGHT}'" in sql for sql in examples)  # a night of the demo
    assert (ROOT / "data" / "demo" / DEMO_NIGHT).is_dir()


def test_reports_page_sizes_are_measured(demo):
    """The sizes reports.md quotes are the demo's, within 10%."""
    text = " ".join((DOCS / "reports.md").read_text().split())
    quoted = re.search(
        r"model pages are (\d+)-(\d+) KB, its night pages (\d+)-(\d+) KB and its dashboard "
        r"(\d+) KB, plus one ([\d.]+) MB script",
        text,
    )
    assert quoted, "reports.md no longer quotes the demo's page sizes"
    reports = demo / "reports"
    nights = [path for path in reports.iterdir() if path.is_dir()]
    night_pages = [(night / "index.html").stat().st_size for night in nights]
    model_pages = [
        page.stat().st_size
        for night in nights
        for page in night.glob("*.html")
        if page.name != "index.html" and not page.name.startswith("compare-")
    ]
    script = next(reports.glob("vega-*.js")).stat().st_size
    measured = [
        min(model_pages) / 1e3,
        max(model_pages) / 1e3,
        min(night_pages) / 1e3,
        max(night_pages) / 1e3,
        (reports / "index.html").stat().st_size / 1e3,
        script / 1e6,
    ]
    for said, size in zip(quoted.groups(), measured, strict=True):
        assert abs(float(said) - size) <= 0.1 * size + 1, (quoted.group(0), measured)


def check_sklearn(folder: Path, namespace: dict[str, Any]) -> None:
    """Its dumps pass `lossgram losses`: the 1797 digits, train and test."""
    from pipeline.cli.losses_command import losses_to_parquet
    from pipeline.settings import Settings

    written = losses_to_parquet(
        [folder / "data/inbox" / DEMO_NIGHT], folder / "o.parquet", Settings().reader_options()
    )
    assert written.rows == 1797


def check_without_lossgram(folder: Path, namespace: dict[str, Any]) -> None:
    """The dump passes `lossgram losses`, with the losses scipy gives."""
    import json

    import numpy as np
    import polars as pl
    import pyarrow.parquet as pq
    from scipy.special import log_softmax

    from pipeline.cli.losses_command import losses_to_parquet
    from pipeline.settings import Settings

    [dump] = (folder / "data/inbox" / DEMO_NIGHT).iterdir()
    out = folder / "o.parquet"
    written = losses_to_parquet([dump], out, Settings().reader_options())
    frame = pl.read_parquet(dump)
    assert written.rows == frame.height
    losses = pl.read_parquet(out)
    assert losses["sample_id"].to_list() == frame["sample_id"].to_list()
    rows = np.arange(frame.height)
    if "logits" in frame.columns:
        classes = json.loads(pq.read_schema(dump).metadata[b"lossgram.classes"])
        labels = np.array([classes.index(name) for name in frame["label"]])
        scores = np.stack(frame["logits"].to_numpy()).astype(np.float64)
        expected = -log_softmax(scores, axis=1)[rows, labels]
    else:
        probs = np.stack(frame["probs"].to_numpy())
        expected = -np.log(probs[rows, frame["label"].to_numpy()])
    np.testing.assert_allclose(losses["ce"].to_numpy(), expected, atol=1e-6)


def check_manifest(folder: Path, namespace: dict[str, Any]) -> None:
    """Reading the files the manifest lists gives every row of the `losses` view, the
    derived columns as the view derives them."""
    [(rows, p_true, correct)] = query(
        folder / "data", "select count(*), sum(p_true), count(*) filter (where correct) from losses"
    ).rows()
    read = namespace["losses"].select(pl.len(), pl.col("p_true").sum(), pl.col("correct").sum())
    assert read.collect().row(0) == pytest.approx((rows, p_true, correct), rel=1e-12)


# What each ```python block is checked for, by a phrase only it holds.
PYTHON_CHECKS: dict[str, Callable[[Path, dict[str, Any]], None]] = {
    "predict_proba": check_sklearn,
    "os.replace": check_without_lossgram,
    "_manifest.json": check_manifest,
}


@pytest.mark.parametrize(("where", "code"), blocks("python"), ids=[w for w, _ in blocks("python")])
def test_python_examples_run(where, code, tmp_path, monkeypatch, request):
    """Each runs in an empty folder (with a copy of the demo warehouse as data/warehouse
    when it reads one), then its check looks at what it wrote."""
    checks = [check for phrase, check in PYTHON_CHECKS.items() if phrase in code]
    assert len(checks) == 1, f"{where}: give this example one check in PYTHON_CHECKS"
    if checks[0] is check_without_lossgram:  # for training code that cannot install lossgram
        assert "pipeline" not in code and "lossgram" not in code.replace("lossgram.classes", "")
    if "data/warehouse" in code:
        demo = request.getfixturevalue("demo")
        shutil.copytree(demo / "warehouse", tmp_path / "data" / "warehouse")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(code, where, "exec"), namespace)
    checks[0](tmp_path, namespace)


def test_every_example_kind_is_known():
    """Pages hold only the kinds of block this file knows what to do with."""
    known = {"sql", "python", "py", "toml", "sh", "text", "json", "sparksql", "cron", "ini", "yaml"}
    for page in PAGES:
        kinds = set(re.findall(r"^```(\w+)$", page.read_text(), re.M))
        assert kinds <= known, (page.name, kinds - known)


@pytest.mark.parametrize(("where", "toml"), blocks("toml"), ids=[w for w, _ in blocks("toml")])
def test_toml_examples_are_valid_settings(where, toml, tmp_path):
    from pipeline.settings import load_settings

    config = tmp_path / "lossgram.toml"
    config.write_text(toml)
    load_settings(config, env={})


def test_blocks_shown_but_not_run_need_what_the_tests_lack():
    for where, code in blocks("py"):
        assert any(needs in code for needs in ("torch", "trainer", "airflow")), where
