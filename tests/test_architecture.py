"""Layering contract: the import graph checked by import-linter against the contracts in
pyproject.toml ([tool.importlinter]), plus what importing a module really loads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "pipeline.settings",
    "pipeline.contract",
    "pipeline.contract.cross_entropy",
    "pipeline.ingest.loss_pass",
    "pipeline.nightly.driver",
    "pipeline.warehouse.catalog",
]
UI = ["typer", "altair", "jinja2", "rich"]


def modules_loaded_by(module: str, candidates: list[str]) -> str:
    code = f"import sys, {module}; print(','.join(m for m in {candidates!r} if m in sys.modules))"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_ui(module):
    loaded = modules_loaded_by(module, UI)
    assert loaded == "", f"importing {module} pulled in {loaded}"


def test_writer_imports_nothing_heavy():
    heavy = ["duckdb", "altair", "vl_convert", "jinja2", "typer", "rich"]
    loaded = modules_loaded_by("pipeline.writer", heavy)
    assert loaded == "", f"importing pipeline.writer pulled in {loaded}"


def test_the_command_line_starts_without_the_data_libraries():
    """`lossgram --version`, `--help` and argument errors load no Polars, pyarrow, DuckDB
    or Altair: each command imports what it uses (startup 0.16 s instead of 0.7 s)."""
    heavy = ["polars", "pyarrow", "duckdb", "numpy", "altair", "pyspark", "fsspec"]
    loaded = modules_loaded_by("pipeline.cli.app", heavy)
    assert loaded == "", f"importing pipeline.cli.app pulled in {loaded}"


DATA_LIBRARIES = ("polars", "pyarrow", "numpy")
# What a command that only reads the catalog and prints never needs: the data libraries,
# the report layer, rich's progress bars (a pipe draws none), and pydantic-settings with
# the asyncio and ssl it imports (~40 ms: the settings layer their sources themselves).
NOT_AT_START = (
    *DATA_LIBRARIES,
    "altair",
    "jinja2",
    "rich.progress",
    "pydantic_settings",
    "asyncio",
    "ssl",
)


def heavy_modules_after(
    argv: list[str], candidates: tuple[str, ...] = DATA_LIBRARIES
) -> tuple[str, str]:
    """Run `lossgram ARGV` in a fresh interpreter: its stdout, and which of the candidate
    modules (by default Polars, pyarrow and numpy) it loaded (one comma-separated line)."""
    code = (
        "import sys\n"
        "from pipeline.cli.app import entry\n"
        f"sys.argv = ['lossgram', *{argv!r}]\n"
        "try:\n"
        "    entry()\n"
        "finally:\n"
        f"    print(','.join(m for m in {candidates!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    *output, loaded = done.stdout.splitlines() or [""]
    return "\n".join(output), loaded


@pytest.mark.slow
def test_a_run_with_nothing_new_loads_no_data_library(tmp_path):
    """A night that finds no new dump records the run and checks the exports with DuckDB
    alone: it loads no Polars, pyarrow or numpy (the no-op night, 1.1 s -> 0.5 s), nor
    the report layer or rich's progress bars (with --json, into a pipe)."""
    from tests.helpers.dumps import write_hive_split

    inbox = tmp_path / "inbox"
    for split, seed in (("train", 0), ("test", 1)):
        write_hive_split(inbox, "2026-11-23", "mlp", split, n=60, classes=3, seed=seed)
    where = ["--inbox", str(inbox), "--warehouse", str(tmp_path / "wh")]
    argv = ["run", *where, "--reports", str(tmp_path / "r"), "--json"]
    first, loaded = heavy_modules_after(argv)
    assert '"files_ingested": 2' in first and "polars" in loaded  # the test can fail
    again, loaded = heavy_modules_after(argv, NOT_AT_START)
    assert '"files_unchanged": 2' in again and '"status": "succeeded"' in again
    assert loaded == "", f"a run with nothing new loaded {loaded}"


def test_a_query_runs_without_polars_or_pyarrow(tmp_path):
    """`lossgram sql` prints DuckDB's own rows as a table or JSON: a query loads DuckDB,
    not Polars, pyarrow or numpy (startup 0.65 s -> 0.45 s). CSV, every row by default,
    is Polars' to write."""
    from pipeline.settings import Settings
    from pipeline.warehouse.catalog import Warehouse

    with Warehouse(Settings(warehouse=tmp_path / "wh").warehouse).commit():
        pass  # an empty warehouse: the catalog and its tables, no losses yet
    query = ["sql", "select 42 as answer", "--format", "json", "--warehouse", str(tmp_path / "wh")]
    output, loaded = heavy_modules_after(query)
    assert output == '[{"answer": 42}]' and loaded == ""


def test_a_query_as_a_table_loads_only_what_it_prints_with(tmp_path):
    """`lossgram sql "select 1"` (a table, the default) loads DuckDB, pydantic and rich's
    table: not the data libraries, the report layer, rich's progress bars or
    pydantic-settings; and the settings' help is not parsed from their source (sql select
    1: 0.41 s -> 0.3x s)."""
    from pipeline.settings import Settings
    from pipeline.warehouse.catalog import Warehouse

    with Warehouse(Settings(warehouse=tmp_path / "wh").warehouse).commit():
        pass
    checked = (*NOT_AT_START, "rich.table")
    output, loaded = heavy_modules_after(
        ["sql", "select 1", "--warehouse", str(tmp_path / "wh")], checked
    )
    assert "│ 1 │" in output and loaded == "rich.table"  # the test can fail
    assert not Settings.model_config.get("use_attribute_docstrings")


def test_the_command_line_leaves_its_objects_to_the_exit(tmp_path):
    """Every command ends with the collector frozen, so Python's exit does not collect the
    cycles through every module loaded (45-115 ms after `lossgram sql` had printed)."""
    code = (
        "import gc, sys\n"
        "from pipeline.cli.app import entry\n"
        f"sys.argv = ['lossgram', 'sql', 'select 1', '--warehouse', {str(tmp_path)!r}]\n"
        "try:\n"
        "    entry()\n"
        "finally:\n"
        "    print('frozen', gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "no warehouse at" in done.stderr and done.returncode == 2  # it failed, and froze
    assert done.stdout.splitlines()[-1] == "frozen True"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the package under root, with root's pyproject.toml contracts."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_import_graph_keeps_the_layering_contracts():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 kept, 0 broken" in result.stdout


def test_layering_contract_can_fail(tmp_path):
    """The contract test is not vacuous: in a copy of the package where a core module
    imports the CLI, the same check fails and names the import."""
    shutil.copytree(ROOT / "pipeline", tmp_path / "pipeline")
    (tmp_path / "pipeline" / "contract" / "probe.py").write_text("import pipeline.cli.app\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "pipeline.contract.probe -> pipeline.cli.app" in result.stdout


def test_readme_lists_every_entry_of_the_package_one_line_each():
    """The README's map of the code is `ls pipeline/`, one line per entry, no more."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## How the code is laid out", 1)[1].split("```text\n", 1)[1]
    listed = [line.split()[0] for line in block.split("```", 1)[0].splitlines()[1:]]
    present = [
        path.name + ("/" if path.is_dir() else "")
        for path in (ROOT / "pipeline").iterdir()
        if path.name != "__pycache__"
    ]
    assert sorted(listed) == sorted(present)
    assert len(present) <= 14  # ~11 stages and modules, plus __init__ and __main__


def test_each_folder_says_its_one_job():
    for init in (ROOT / "pipeline").glob("*/__init__.py"):
        docstring = init.read_text().lstrip()
        assert docstring.startswith('"""') and len(docstring) > 40, init


def test_the_store_is_one_seam():
    """Only the store module tells a folder from an object store: no caller branches on
    `store is None` or on the location's scheme."""
    for module in (ROOT / "pipeline").rglob("*.py"):
        if module.name == "store.py":
            continue
        text = module.read_text()
        for branch in ("store is None", "store is not None", "is_object_store("):
            assert branch not in text, f"{module.relative_to(ROOT)}: {branch}"


def test_no_module_outgrows_one_job():
    """A module past 400 lines does two jobs (CONVENTIONS: split it along them)."""
    sizes = {
        str(module.relative_to(ROOT)): len(module.read_text().splitlines())
        for module in (ROOT / "pipeline").rglob("*.py")
    }
    assert {name: lines for name, lines in sizes.items() if lines > 400} == {}
