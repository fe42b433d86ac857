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
from pipeline.warehouse.store import LocalStore
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


@pytest.fixture
def counted(monkeypatch):
    """The catalog commits made (each copies the catalog), and the store folders listed."""
    made = {"commits": 0, "listed": []}
    commit, listing = Warehouse.commit, LocalStore.list

    def counted_commit(warehouse):
        made["commits"] += 1
        return commit(warehouse)

    def counted_list(store, folder):
        made["listed"].append(folder)
        return listing(store, folder)

    monkeypatch.setattr(Warehouse, "commit", counted_commit)
    monkeypatch.setattr(LocalStore, "list", counted_list)

    def taken():
        done = dict(made)
        made["commits"], made["listed"] = 0, []
        return done

    return taken


def test_a_run_commits_once_a_night_and_a_run_with_nothing_new_once(tmp_path, counted):
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    for seed, split in enumerate(("train", "test")):
        write_hive_split(settings.inbox, "2026-11-20", "mlp", split, n=40, seed=seed)
    assert run_job(settings).status == "succeeded"
    assert counted()["commits"] == 2  # the new catalog made, then the night and the run
    write_hive_split(settings.inbox, "2026-11-21", "mlp", "test", n=40)
    one = run_job(settings)
    assert (one.status, one.snapshot_dates, counted()["commits"]) == ("succeeded", [dt.date(
        2026, 11, 21)], 1)  # fmt: skip
    assert run_job(settings).files_unchanged == 3 and counted()["commits"] == 1
    for night in ("2026-11-22", "2026-11-23"):
        write_hive_split(settings.inbox, night, "mlp", "test", n=40)
    two = run_job(settings)
    assert len(two.snapshot_dates) == 2 and counted()["commits"] == 2
    assert len(two.verdicts) == 2  # both nights', from the last night's commit
    with Warehouse(settings.warehouse).reading(losses_view=False) as connection:
        runs = connection.sql(
            "SELECT status, len(snapshot_dates), files_ingested FROM job_runs ORDER BY started_at"
        ).fetchall()
    assert runs == [("succeeded", 1, 2), ("succeeded", 1, 1), ("succeeded", 0, 0),
                    ("succeeded", 2, 2)]  # fmt: skip


def test_the_clean_up_lists_only_where_earlier_runs_wrote(tmp_path, counted):
    """After runs the catalog records as ended, only the nights they wrote into are
    listed; after a run that died before any commit, every folder, and the dead run is
    in the history as failed."""
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    layout = Warehouse(settings.warehouse).layout
    write_hive_split(settings.inbox, "2026-11-20", "mlp", "test", n=40)
    run_job(settings)
    assert counted()["listed"] == ["losses", "histograms"]  # a new warehouse: all of it
    write_hive_split(settings.inbox, "2026-11-21", "mlp", "test", n=40)
    run_job(settings)
    assert counted()["listed"] == sorted(layout.night_folders(NIGHT))  # the first run's
    orphan = layout.root / layout.partition(dt.date(2026, 11, 21), "mlp") / "x-000000-0.parquet"
    orphan.write_bytes(b"a file no commit lists, in a night the last run wrote into")
    run_job(settings)  # nothing new
    assert counted()["listed"] == sorted(layout.night_folders(dt.date(2026, 11, 21)))
    assert not orphan.exists()
    run_job(settings)  # after a run that wrote nothing: nothing to list
    assert counted()["listed"] == []
    dead = {"run_id": "dead", "command": "run", "started_at": "2026-11-22T02:00:00+00:00",
            "lossgram_version": "0.1.0", "settings": "{}", "settings_fingerprint": "f"}  # fmt: skip
    (layout.root / ".runs" / "dead.json").write_text(
        json.dumps({"run": dead, "folders": layout.night_folders(dt.date(2026, 11, 22))})
    )
    run_job(settings)
    assert counted()["listed"] == ["losses", "histograms"]
    with Warehouse(settings.warehouse).reading(losses_view=False) as connection:
        rows = connection.sql("SELECT status, error FROM job_runs WHERE run_id = 'dead'")
        assert rows.fetchall() == [("failed", "interrupted: the process ended mid-run")]
    assert not (layout.root / ".runs" / "dead.json").exists()


def test_expired_retired_files_are_deleted_by_path_and_forgotten(tmp_path, counted):
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    write_hive_split(settings.inbox, "2026-11-20", "mlp", "test", n=40)
    run_job(settings)
    write_hive_split(settings.inbox, "2026-11-20", "mlp", "test", n=40, seed=5)  # changed
    run_job(settings)
    warehouse = Warehouse(settings.warehouse)
    with warehouse.reading(losses_view=False) as connection:
        retired = [path for (path,) in connection.sql("SELECT path FROM retired_files").fetchall()]
    assert sorted(path.partition("/")[0] for path in retired) == ["histograms", "losses"]
    assert all((warehouse.layout.root / path).is_file() for path in retired)  # for readers
    with warehouse.commit() as catalog:  # as if retired two hours ago
        catalog.execute("UPDATE retired_files SET retired_at = now() - INTERVAL 2 HOUR")
    counted()
    run_job(settings)
    assert not any((warehouse.layout.root / path).exists() for path in retired)
    assert counted()["listed"] == sorted(warehouse.layout.night_folders(NIGHT))
    with warehouse.reading(losses_view=False) as connection:
        assert connection.sql("SELECT count(*) FROM retired_files").fetchall() == [(0,)]


def test_a_hand_edited_or_foreign_note_stops_no_run_and_deletes_nothing_outside(tmp_path, counted):
    """A note naming folders outside losses/ and histograms/ is read as "everywhere"
    (those two, whole): the clean-up never lists tables/ or a path outside the
    warehouse. A note whose run the next commit could not record (no start time) is
    unreadable, not an error every later run trips on."""
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    layout = Warehouse(settings.warehouse).layout
    write_hive_split(settings.inbox, "2026-11-20", "mlp", "test", n=40)
    assert run_job(settings).status == "succeeded"
    counted()
    outside = tmp_path / "outside" / "mine.parquet"
    exported = layout.root / "tables" / "mine.parquet"
    for path in (outside, exported):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not lossgram's to delete")
    run = {"run_id": "edited", "command": "run", "started_at": "2026-11-22T02:00:00+00:00",
           "lossgram_version": "0.1.0", "settings": "{}", "settings_fingerprint": "f"}  # fmt: skip
    notes = layout.root / ".runs"
    (notes / "edited.json").write_text(
        json.dumps({"run": run, "folders": ["tables", "../outside"]})
    )
    no_start = {key: value for key, value in run.items() if key != "started_at"}
    (notes / "foreign.json").write_text(json.dumps({"run": no_start, "folders": []}))
    write_hive_split(settings.inbox, "2026-11-21", "mlp", "test", n=40)
    summary = run_job(settings)
    assert summary.status == "succeeded"
    assert counted()["listed"] == ["losses", "histograms"]
    assert outside.exists() and exported.exists()
    # Both read, then forgotten with the first commit: only this run's note is left.
    assert [note.name for note in notes.iterdir()] == [f"{summary.run_id}.json"]
    with Warehouse(settings.warehouse).reading(losses_view=False) as connection:
        rows = connection.sql("SELECT run_id, status FROM job_runs WHERE run_id = 'edited'")
        assert rows.fetchall() == [("edited", "failed")]
