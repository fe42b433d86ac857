"""Commands do what their words say: asking for what is not there fails (exit 2) naming
what is; nothing is created by a command that cannot run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.ingest import compute
from pipeline.nightly.driver import run_job
from pipeline.settings import Settings
from tests.helpers.dumps import write_hive_split

DAY = "2026-11-20"


def write_split(inbox: Path, model: str, split: str, seed: int = 0) -> Path:
    return write_hive_split(inbox, DAY, model, split, n=60, classes=3, signal=0.0, seed=seed)


@pytest.fixture
def landed(tmp_path: Path) -> Settings:
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    for index, model in enumerate(("mlp", "tree")):
        write_split(settings.inbox, model, "train", seed=index)
        write_split(settings.inbox, model, "test", seed=10 + index)
    assert run_job(settings).status == "succeeded"
    return settings


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_run_with_no_inbox_fails_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, output = invoke("run", "--inbox", str(tmp_path / "nonexistent"))
    assert code == 2 and "no inbox folder at" in output
    assert list(tmp_path.iterdir()) == []  # no stray data/warehouse
    code, output = invoke("run")  # the default inbox does not exist either
    assert code == 2 and list(tmp_path.iterdir()) == []


def test_backfill_with_start_after_end_fails(landed):
    code, output = invoke(
        "backfill", "--start", "2026-11-07", "--end", "2026-11-01",
        "--inbox", str(landed.inbox), "--warehouse", str(landed.warehouse),
    )  # fmt: skip
    assert code == 2 and "--start 2026-11-07 is after --end 2026-11-01" in output


def test_rerun_of_a_model_that_is_not_there_names_the_models(landed):
    code, output = invoke(
        "rerun", "--date", DAY, "--model", "resnet", "--warehouse", str(landed.warehouse)
    )
    assert code == 2 and "no model 'resnet' on 2026-11-20; models there: mlp, tree" in output


def test_rerun_of_one_model_reads_only_its_dumps(landed, monkeypatch, tmp_path):
    """It checked and listed every model's dumps; another model's changed dump stopped it.
    Run without --reports, its pages go to ./reports: the test's folder, not the checkout
    (this test once rewrote the checkout's reports/index.html)."""
    (landed.inbox / DAY / "model=tree" / "split=test" / "part-0.parquet").unlink()
    read = []
    original = compute.open_dump
    monkeypatch.setattr(compute, "plan_batches", lambda *args: [])
    monkeypatch.setattr(
        compute, "open_dump", lambda path, o: read.append(path) or original(path, o)
    )
    code, output = invoke(
        "rerun", "--date", DAY, "--model", "mlp", "--warehouse", str(landed.warehouse)
    )
    assert code == 0, output
    assert sorted(p.parent.parent.name for p in read) == ["model=mlp", "model=mlp"]
    assert Path.cwd() == tmp_path and (tmp_path / "reports" / "index.html").is_file()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--date", "2026-01-01"], "no night 2026-01-01 in the warehouse; nights: 2026-11-20"),
        (["--model", "resnet"], "no model 'resnet' in the nights asked for; models: mlp, tree"),
    ],
)
def test_report_of_what_is_not_there_names_what_is(landed, tmp_path, flags, message):
    code, output = invoke(
        "report", *flags, "--warehouse", str(landed.warehouse), "--reports", str(tmp_path / "r")
    )
    assert code == 2 and message in output


def test_long_errors_are_cut_in_the_terminal_and_kept_whole_in_the_ledger(tmp_path):
    import duckdb

    from pipeline.cli.console import LONGEST_LINE

    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    deep = settings.inbox / DAY / "/".join(["x" * 100] * 8)  # an 800-character path
    bad = write_split(deep, "mlp", "test")
    pl.read_parquet(bad).with_columns(label=pl.lit(99)).write_parquet(bad)
    code, output = invoke(
        "run", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse),
        "--reports", str(tmp_path / "r"),
    )  # fmt: skip
    assert code == 1
    line = next(line for line in output.splitlines() if line.startswith("rejected:"))
    assert len(line) < LONGEST_LINE + 120 and "ledger tables keep it whole" in line
    database = settings.warehouse / "lossgram.duckdb"
    with duckdb.connect(str(database), read_only=True) as connection:
        [(error,)] = connection.execute("select error from ingested_files").fetchall()
    assert str(bad) in error and "is outside [0, 3)" in error
    bad.unlink()  # a rerun now fails naming the 800-character path: a long run error
    code, output = invoke("rerun", "--date", DAY, "--warehouse", str(settings.warehouse))
    assert code == 2 and "cannot rerun" in output and "keep it whole" in output
    code, output = invoke("history", "--warehouse", str(settings.warehouse))
    assert code == 0 and len(output.splitlines()) < 60  # the error's cell is cut
    assert "rerun" in output and "failed" in output
    code, output = invoke("history", "--warehouse", str(settings.warehouse), "--format", "json")
    assert str(bad) in output  # whole


@pytest.mark.slow
def test_a_copied_project_reads_nothing_again(landed, tmp_path):
    """The ledger knows a dump by its path inside the inbox and its content: a copy of
    the project (inbox and warehouse) reads nothing again; a changed dump replaces its
    rows (not kept twice); a rerun after the original is gone reads the moved dumps."""
    import shutil

    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copytree(landed.inbox, copy / "inbox")  # new mtimes: content decides
    shutil.copytree(landed.warehouse, copy / "wh")
    moved = Settings(inbox=copy / "inbox", warehouse=copy / "wh")
    again = run_job(moved)
    assert again.status == "succeeded" and again.outcomes == []
    assert again.files_unchanged == again.files_seen == 4

    write_hive_split(moved.inbox, DAY, "mlp", "test", n=50, classes=3, seed=99)
    changed = run_job(moved)
    assert [o.path.parent.parent.name for o in changed.outcomes] == ["model=mlp"]
    assert changed.status == "succeeded"
    code, output = invoke(
        "sql",
        "select count(*) from losses where model = 'mlp' and split = 'test'",
        "--warehouse",
        str(moved.warehouse),
        "--format",
        "csv",
    )
    assert code == 0 and output.split()[-1] == "50"  # the old 60 rows were replaced

    shutil.rmtree(landed.inbox)
    rerun = invoke(
        "rerun",
        "--date",
        DAY,
        "--inbox",
        str(moved.inbox),
        "--warehouse",
        str(moved.warehouse),
        "--reports",
        str(tmp_path / "r"),
    )
    assert rerun[0] == 0, rerun[1]
    code, output = invoke(
        "sql",
        f"select count(*), count(distinct path) from ingested_files where snapshot_date = '{DAY}'",
        "--warehouse",
        str(moved.warehouse),
        "--format",
        "csv",
    )
    assert output.splitlines()[-1] == "4,4"  # one record per dump, at its new place


def test_skipped_inbox_entries_are_listed_by_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "inbox"
    write_split(inbox, "mlp", "train")
    write_split(inbox, "mlp", "test", seed=1)
    for index in range(12):
        (inbox / f"notes-{index:02d}.csv").write_text("a,b\n")
    code, output = invoke("run", "--inbox", str(inbox))
    assert code == 0, output
    listed = [line for line in output.splitlines() if line.startswith("skipped: ")]
    assert len(listed) == 11  # ten named, then where to find the rest
    assert listed[0] == f"skipped: {inbox / 'notes-00.csv'}: not a .parquet file"
    assert "2 more inbox entries" in listed[-1] and "skipped_entries" in listed[-1]


@pytest.mark.slow
def test_the_catalog_can_live_apart_from_the_warehouse(tmp_path, monkeypatch):
    """Setting `catalog`: the DuckDB file on the driver's disk, the losses on a shared file
    system; the warehouse folder names it (catalog.location), so every reader finds it."""
    monkeypatch.delenv("LOSSGRAM_CATALOG", raising=False)
    warehouse, catalog = tmp_path / "shared" / "wh", tmp_path / "local" / "lossgram.duckdb"
    settings = Settings(inbox=tmp_path / "inbox", warehouse=warehouse, catalog=catalog)
    write_split(settings.inbox, "mlp", "train")
    write_split(settings.inbox, "mlp", "test", seed=1)
    assert run_job(settings).status == "succeeded"
    assert catalog.is_file() and not list(warehouse.glob("*.duckdb"))
    assert (warehouse / "catalog.location").read_text().strip() == str(catalog)
    code, output = invoke("rerun", "--date", DAY, "--warehouse", str(warehouse),
                          "--reports", str(tmp_path / "r"))  # fmt: skip
    assert code == 0, output  # (the pointer is found without the setting)
    code, output = invoke("sql", "select count(*) from losses", "--warehouse", str(warehouse),
                          "--format", "csv")  # fmt: skip
    assert code == 0 and output.split()[-1] == "120"
    assert invoke("history", "--warehouse", str(warehouse))[0] == 0
    code, output = invoke("report", "--warehouse", str(warehouse), "--reports", str(tmp_path / "p"))
    assert code == 0 and (tmp_path / "p" / "index.html").is_file()
    elsewhere = Settings(inbox=settings.inbox, warehouse=warehouse, catalog=tmp_path / "x.duckdb")
    monkeypatch.setenv("LOSSGRAM_CATALOG", str(tmp_path / "x.duckdb"))
    code, output = invoke("run", "--inbox", str(settings.inbox), "--warehouse", str(warehouse))
    assert code == 2 and f"the warehouse's catalog is {catalog}" in output
    assert not elsewhere.catalog.exists()  # type: ignore[union-attr]
