"""The nightly driver (nightly/driver.py): what it refuses before creating anything, the
run it records for what it lands, a rerun that finds nothing recorded, and the writer
lock around every run."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipeline.base.errors import InboxError, WarehouseError
from pipeline.nightly.driver import rerun_job, run_job
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from tests.helpers.dumps import write_hive_split

NIGHT = dt.date(2026, 11, 20)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh", lock_timeout=0)


def test_no_inbox_and_a_backwards_range_are_refused_before_anything_is_made(settings):
    with pytest.raises(InboxError, match=r"no inbox folder at .*inbox: create it or pass --inbox"):
        run_job(settings)
    settings.inbox.mkdir()
    with pytest.raises(InboxError, match="--start 2026-11-21 is after --end 2026-11-20"):
        run_job(settings, date_range=(dt.date(2026, 11, 21), NIGHT), command="backfill")
    assert not settings.warehouse.exists()


def test_a_run_lands_its_night_and_records_itself(settings):
    for seed, split in enumerate(("train", "test")):
        write_hive_split(settings.inbox, "2026-11-20", "mlp", split, n=40, seed=seed)
    summary = run_job(settings, snapshot_date=dt.date(2026, 12, 1))
    assert (summary.status, summary.command, summary.exit_code) == ("succeeded", "run", 0)
    assert summary.snapshot_dates == [NIGHT]  # the date folder, not the run's date
    assert (summary.files_seen, summary.files_ingested, summary.rows_ingested) == (2, 2, 80)
    assert [v["model"] for v in summary.verdicts] == ["mlp"]
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        runs = con.sql("SELECT run_id, command, status, files_ingested FROM job_runs").fetchall()
    assert runs == [(summary.run_id, "run", "succeeded", 2)]
    again = run_job(settings)
    assert (again.files_unchanged, again.outcomes, again.snapshot_dates) == (2, [], [])


def test_a_rerun_of_a_night_nothing_was_recorded_for_fails_as_its_outcome(settings):
    write_hive_split(settings.inbox, "2026-11-20", "mlp", "test", n=40)
    run_job(settings)
    summary = rerun_job(settings, dt.date(2026, 1, 1))
    assert summary.status == "failed" and summary.exit_code == 2
    assert summary.error == "no dumps were recorded for 2026-01-01: nothing to rerun"
    assert rerun_job(settings, NIGHT).status == "succeeded"
    unknown = rerun_job(settings, NIGHT, model="resnet")
    assert unknown.status == "failed"
    assert unknown.error == "no model 'resnet' on 2026-11-20; models there: mlp"


def test_every_run_holds_the_writer_lock(settings):
    write_hive_split(settings.inbox, "2026-11-20", "mlp", "test", n=40)
    with Warehouse(settings.warehouse).lock(0), pytest.raises(WarehouseError, match="locked"):
        run_job(settings)
    assert run_job(settings).status == "succeeded"  # released by the holder, taken at once
