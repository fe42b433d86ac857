"""Each night's histograms live in a Parquet file of their own, out of the catalog that
every commit copies: the catalog holds no histogram row after a commit, the `histograms`
view (the stock duckdb CLI's too) reads the files, and a night computed again replaces
its file whole, keeping the rows of the models it did not recompute."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.nightly.driver import rerun_job, run_job
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from tests.helpers.dumps import write_hive_split

DAY = "2026-11-20"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh", lock_timeout=0)


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:  # as the stock CLI would
        return con.execute(sql).fetchall()


def land(settings: Settings, day: str = DAY, seed: int = 0) -> None:
    for model in ("mlp", "tree"):
        for split, offset in (("train", 0), ("test", 1)):
            write_hive_split(settings.inbox, day, model, split, n=120, seed=seed + offset)
    assert run_job(settings).status == "succeeded"


def test_a_night_s_histograms_are_one_file_and_the_catalog_holds_none(settings):
    land(settings)
    land(settings, "2026-11-21", seed=5)
    database = settings.warehouse / "lossgram.duckdb"
    assert query(database, "select count(*) from histogram_rows") == [(0,)]
    files = query(database, "select snapshot_date, path, rows from histogram_files order by 1")
    assert [day for day, _, _ in files] == [dt.date(2026, 11, 20), dt.date(2026, 11, 21)]
    on_disk = sorted(p.relative_to(settings.warehouse).as_posix()
                     for p in (settings.warehouse / "histograms").rglob("*.parquet"))  # fmt: skip
    assert on_disk == [path for _, path, _ in files]
    # The view reads every row of the files, and each group's fractions add up to 1.
    counted = query(
        database, "select snapshot_date, count(*) from histograms group by 1 order by 1"
    )
    assert [rows for _, rows in counted] == [rows for _, _, rows in files]
    sums = query(
        database,
        "select sum(fraction) from histograms group by snapshot_date, model, split, epoch, label",
    )
    assert np.allclose([total for (total,) in sums], 1.0)
    # A filter on the night reads that night's file alone (the folder names it).
    one = query(database, "select count(*) from histograms where snapshot_date = '2026-11-21'")
    assert one == [(files[1][2],)]


def test_a_model_computed_again_keeps_the_other_models_rows(settings):
    land(settings)
    database = settings.warehouse / "lossgram.duckdb"
    ask = "select model, split, label, bin, count from histograms order by all"
    before = query(database, ask)
    (old_file,) = query(database, "select path from histogram_files")
    assert rerun_job(settings, dt.date.fromisoformat(DAY), model="tree").status == "succeeded"
    assert query(database, ask) == before  # same dumps: the same rows, tree's recomputed
    (new_file,) = query(database, "select path from histogram_files")
    assert new_file != old_file
    retired = query(database, "select path from retired_files")
    assert (old_file[0],) in retired  # kept for readers until it expires
    assert {model for model, *_ in query(database, ask)} == {"mlp", "tree"}


def test_a_moved_warehouse_reads_its_histograms_where_they_are(settings, tmp_path):
    land(settings)
    moved = tmp_path / "moved"
    shutil.copytree(settings.warehouse, moved)
    shutil.rmtree(settings.warehouse)
    with Warehouse(moved).reading(losses_view=False) as connection:
        assert connection.execute("select count(*) from histograms").fetchone()[0] > 0
