"""The lakehouse: after each commit the night's losses and aggregate tables are Delta
Lake tables partitioned by snapshot_date. Read back with deltalake and Polars (and DuckDB
over the frame Polars reads) and compared row for row with `lossgram sql`; a night
committed again replaces its partition in one commit per table; `lossgram export` writes the
same tables once; a run killed before its export is caught up by the next."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.cli.user_sql import run_user_query
from pipeline.warehouse.lakehouse import LAKEHOUSE_TABLES, NIGHT_KEY
from tests.helpers.dumps import write_hive_split
from tests.helpers.paths import LOSSGRAM

NIGHTS = ("2026-11-22", "2026-11-23")
KEYS = {
    "losses": ["snapshot_date", "model", "split", "epoch", "sample_id"],
    "histograms": ["snapshot_date", "model", "split", "epoch", "label", "bin"],
    "summaries": ["snapshot_date", "model", "split", "epoch"],
    "verdicts": ["snapshot_date", "model", "heldout_split"],
}


def write_night(inbox: Path, night: str, seed: int = 0) -> None:
    for index, (model, split) in enumerate(
        [("mlp", "train"), ("mlp", "test"), ("tree", "train"), ("tree", "test")]
    ):
        write_hive_split(inbox, night, model, split, n=90, seed=seed + index,
                         signal=2.0 if split == "train" else 0.8)  # fmt: skip


def lossgram(root: Path, *args: str) -> str:
    where = ["--warehouse", str(root / "wh")]
    if args[0] in ("run", "rerun"):
        where += ["--inbox", str(root / "inbox"), "--reports", str(root / "r")]
    env = {"LOSSGRAM_LAKEHOUSE": str(root / "lake")}
    done = CliRunner().invoke(app, [*args, *where], env=env)
    assert done.exit_code == 0, done.output
    return done.output


def warehouse_table(root: Path, table: str) -> pl.DataFrame:
    sql = f"SELECT * FROM {table}"
    if table == "losses":
        sql = "SELECT * REPLACE (CAST(sample_id AS VARCHAR) AS sample_id) FROM losses"
    frame = run_user_query(root / "wh", sql, timeout_seconds=60, limit=None).frame
    return frame.sort(KEYS[table], nulls_last=True)


def lake_table(location: Path, table: str) -> pl.DataFrame:
    return pl.read_delta(str(location / table)).sort(KEYS[table], nulls_last=True)


def same_rows(root: Path, location: Path) -> None:
    for table in LAKEHOUSE_TABLES:
        expected, found = warehouse_table(root, table), lake_table(location, table)
        assert_frame_equal(found.select(expected.columns), expected, check_dtypes=False)


def test_each_commit_mirrors_its_night_and_a_new_commit_replaces_it(tmp_path):
    write_night(tmp_path / "inbox", NIGHTS[0])
    lossgram(tmp_path, "run")
    write_night(tmp_path / "inbox", NIGHTS[1], seed=10)
    lossgram(tmp_path, "run")
    same_rows(tmp_path, tmp_path / "lake")
    losses = DeltaTable(str(tmp_path / "lake" / "losses"))
    assert losses.metadata().partition_columns == ["snapshot_date"]
    versions = losses.version()
    write_hive_split(tmp_path / "inbox", NIGHTS[0], "mlp", "test", n=60, seed=99)  # changed
    lossgram(tmp_path, "run")  # the new version replaces its rows: night 1 committed again
    same_rows(tmp_path, tmp_path / "lake")
    assert losses.version() == versions  # the handle is pinned...
    assert DeltaTable(str(tmp_path / "lake" / "losses")).version() == versions + 1  # one commit
    last = DeltaTable(str(tmp_path / "lake" / "losses")).history(1)[0]
    assert last[NIGHT_KEY] == NIGHTS[0] and last["operation"] == "WRITE"
    # DuckDB over the Arrow of the Delta table, as a reader without the extension would.
    connection = duckdb.connect()
    connection.register("lake_verdicts", pl.read_delta(str(tmp_path / "lake" / "verdicts")))
    night = "SELECT count(*) FROM lake_verdicts WHERE snapshot_date = DATE '2026-11-22'"
    assert connection.execute(night).fetchall() == [(2,)]
    assert lake_table(tmp_path / "lake", "losses").filter(
        (pl.col("model") == "mlp") & (pl.col("split") == "test")
    ).group_by("snapshot_date").len().sort("snapshot_date")["len"].to_list() == [60, 90]


def test_export_writes_the_whole_warehouse_once(tmp_path):
    write_night(tmp_path / "inbox", NIGHTS[0])
    where = ["--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "wh")]
    assert CliRunner().invoke(app, ["run", *where, "--reports", str(tmp_path / "r")]).exit_code == 0
    output = lossgram(tmp_path, "export", "--format", "delta", "--to", str(tmp_path / "out"))
    assert "exported 1 night(s)" in output
    same_rows(tmp_path, tmp_path / "out")
    again = lossgram(tmp_path, "export", "--to", str(tmp_path / "out"))
    assert "exported 0 night(s)" in again  # already there from the same commit
    wrong = CliRunner().invoke(app, ["export", "--format", "iceberg", "--to", "x",
                                     "--warehouse", str(tmp_path / "wh")])  # fmt: skip
    assert wrong.exit_code == 2 and "only delta" in wrong.output


@pytest.mark.slow
def test_a_run_killed_before_its_lakehouse_export_is_caught_up(tmp_path):
    write_night(tmp_path / "inbox", NIGHTS[0])
    env = {**os.environ, "LOSSGRAM_LAKEHOUSE": str(tmp_path / "lake"),
           "LOSSGRAM_KILL_AT": "before_lakehouse"}  # fmt: skip
    where = ["--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "wh"),
             "--reports", str(tmp_path / "r")]  # fmt: skip
    killed = subprocess.run([LOSSGRAM, "run", *where], env=env, capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "lake" / "losses").exists()  # committed, not exported
    lossgram(tmp_path, "run")  # nothing new to ingest: it catches the lakehouse up
    same_rows(tmp_path, tmp_path / "lake")
