"""Opening a warehouse for writing (nightly/recovery.py): what a dead run left is cleared
(staging, unfinished catalogs, files no commit lists), the run is noted on disk and
planned without a commit (its first commit records it as running), a plan that fails is
the run's recorded outcome, and the manifest says what is committed."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from pipeline.base.errors import InboxError
from pipeline.base.results import RunSummary
from pipeline.ingest.inbox import InboxPlan
from pipeline.nightly.driver import run_job
from pipeline.nightly.job_options import JobOptions
from pipeline.nightly.recovery import open_for_writing
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from tests.helpers.dumps import write_hive_split


NIGHT = dt.date(2026, 11, 20)


@pytest.fixture
def landed(tmp_path):
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    for seed, split in enumerate(("train", "test")):
        write_hive_split(settings.inbox, "2026-11-20", "mlp", split, n=40, seed=seed)
    assert run_job(settings).status == "succeeded"
    return settings


def catalog_bytes(warehouse: Warehouse) -> bytes:
    return warehouse.catalog.read_bytes()


def lineage(settings: Settings, warehouse: Warehouse):
    return JobOptions.from_settings(settings, warehouse.layout).lineage


def test_what_a_dead_run_left_is_cleared_and_the_run_recorded(landed):
    warehouse = Warehouse(landed.warehouse)
    layout = warehouse.layout
    live = layout.data_files()
    night = layout.root / layout.partition(NIGHT, "mlp")
    (night / "dead-000000-0.parquet").write_bytes(b"placed, never committed")
    (night / ".dead-000001-0.parquet.tmp").write_bytes(b"cut half way")
    (layout.staging / "dead" / "2026-11-20").mkdir(parents=True)
    layout.catalogs.mkdir(exist_ok=True)
    (layout.catalogs / "next-dead.duckdb").write_bytes(b"unfinished commit")
    summary = RunSummary("r2", "run")
    planned = InboxPlan({NIGHT: []}, 0, 0, landed.inbox)
    before = catalog_bytes(warehouse)
    opened = open_for_writing(
        warehouse, summary, lineage(landed, warehouse), lambda _: planned, time.monotonic()
    )
    assert opened.planned is planned
    assert sorted({f.path for f in opened.committed}) == live  # a batch file: once per dump
    assert layout.data_files() == live  # only what the catalog lists stays
    assert not list(night.glob(".*.tmp"))
    assert not layout.staging.exists() and not layout.catalogs.exists()
    assert catalog_bytes(warehouse) == before  # nothing committed yet
    # The run's note stands for it until its first commit: who it is, where it writes.
    note = json.loads((layout.root / ".runs" / "r2.json").read_text())
    assert note["run"]["run_id"] == "r2" and note["run"]["command"] == "run"
    assert note["folders"] == sorted(layout.night_folders(NIGHT))
    with opened.commits.commit():
        pass
    with warehouse.reading(losses_view=False) as connection:
        runs = connection.sql("SELECT run_id, status FROM job_runs ORDER BY started_at").fetchall()
    assert runs[-1] == ("r2", "running")  # finished by the driver's last commit
    assert sorted(p.name for p in (layout.root / ".runs").iterdir()) == ["r2.json"]
    manifest = json.loads((layout.root / "losses" / "_manifest.json").read_text())
    assert manifest["commit"] == "r2:start"
    assert ["losses/" + entry["path"] for entry in manifest["files"]] == live


def test_a_plan_that_fails_is_the_runs_recorded_outcome(landed):
    warehouse = Warehouse(landed.warehouse)
    summary = RunSummary("r2", "rerun")

    def plan(_):
        raise InboxError("cannot rerun 2026-11-20, recorded dumps changed: x: missing")

    started = time.monotonic()
    opened = open_for_writing(warehouse, summary, lineage(landed, warehouse), plan, started)
    assert opened.planned is None
    assert summary.status == "failed" and "x: missing" in str(summary.error)
    with warehouse.reading(losses_view=False) as connection:
        [(status, error)] = connection.sql(
            "SELECT status, error FROM job_runs WHERE run_id = 'r2'"
        ).fetchall()
    assert status == "failed" and "x: missing" in error
