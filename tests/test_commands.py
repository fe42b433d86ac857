"""Commands do what their words say: asking for what is not there fails (exit 2) naming
what is; nothing is created by a command that cannot run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from dumps import write_hive_split
from typer.testing import CliRunner

from pipeline import compute
from pipeline.cli import app
from pipeline.nightly import run_job
from pipeline.settings import Settings

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


def test_rerun_of_one_model_reads_only_its_dumps(landed, monkeypatch):
    """It checked and listed every model's dumps; another model's changed dump stopped it."""
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

    from pipeline.console import LONGEST_LINE

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
