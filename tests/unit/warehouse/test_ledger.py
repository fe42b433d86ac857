"""The ledger on a real catalog: runs (a dead one marked failed by the next), the dumps
each run read (the latest record wins, a dump read again replaces its record), live and
retired files (a dump read again or a rerun retires what it replaces; retired files are
kept for readers a while), and lineage fingerprints."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipeline.base.errors import InboxError
from pipeline.base.results import ComputedDump, FileOutcome, Fingerprint, RunSummary
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.layout import PlacedFile
from pipeline.warehouse.ledger import (
    Lineage,
    commit_files,
    dumps_of_model,
    expired_files,
    finish_run,
    forget_retired,
    job_history,
    kept_files,
    known_dumps,
    live_files,
    record_dumps,
    record_snapshot,
    recorded_dumps,
    recorded_inboxes,
    stale_snapshots,
    start_run,
)

NIGHT = dt.date(2026, 11, 20)
LINEAGE = Lineage("1.0", {"eps": 1e-12, "bins": "log"}, {"eps": 1e-12})


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "wh")


def replaced(*paths: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"path": list(paths), "snapshot_date": [NIGHT] * len(paths)},
        schema={"path": pl.String, "snapshot_date": pl.Date},
    )


def computed(path: str, sha256: str, status: str = "ingested", rows: int = 3) -> ComputedDump:
    outcome = FileOutcome(Path(path), NIGHT, status, rows=rows)
    return ComputedDump(outcome, Fingerprint(10, 1.0, sha256), pl.DataFrame(), None)


def test_fingerprints_follow_the_settings_not_their_order():
    same = Lineage("1.0", {"bins": "log", "eps": 1e-12}, {"eps": 1e-12})
    assert same.fingerprint == LINEAGE.fingerprint and len(LINEAGE.fingerprint) == 16
    other = Lineage("1.0", {"eps": 1e-6, "bins": "log"}, {"eps": 1e-6})
    assert other.fingerprint != LINEAGE.fingerprint
    assert other.loss_fingerprint != LINEAGE.loss_fingerprint
    newer = Lineage("1.1", LINEAGE.settings, LINEAGE.loss_settings)
    assert newer.fingerprint != LINEAGE.fingerprint  # the version is lineage too ...
    assert newer.loss_fingerprint == LINEAGE.loss_fingerprint  # ... not the losses'


def test_a_run_is_recorded_and_a_dead_one_is_marked_failed_by_the_next(warehouse):
    with warehouse.commit() as catalog:
        start_run(catalog, "dead", "run", LINEAGE)  # never finished: the process died
    with warehouse.commit() as catalog:
        start_run(catalog, "next", "rerun", LINEAGE)
        summary = RunSummary("next", "rerun", status="succeeded", seconds=1.5)
        summary.outcomes.append(FileOutcome(Path("/in/a.parquet"), NIGHT, "ingested", rows=7))
        finish_run(catalog, summary)
    with warehouse.reading(losses_view=False) as connection:
        runs = dict(connection.sql("SELECT run_id, status FROM job_runs").fetchall())
        history = job_history(connection, 10)
    assert runs == {"dead": "failed", "next": "succeeded"}
    assert history["run_id"].to_list() == ["next", "dead"]  # newest first
    assert history.row(0, named=True)["rows_ingested"] == 7


def test_the_latest_record_of_a_dump_is_what_the_ledger_knows(warehouse):
    inbox = "/srv/inbox"
    with warehouse.commit() as catalog:
        start_run(catalog, "r1", "run", LINEAGE)
        record_dumps(catalog, "r1", [computed(f"{inbox}/a.parquet", "1" * 64)], Path(inbox),
                     replaced())  # fmt: skip
    with warehouse.commit() as catalog:
        start_run(catalog, "r2", "run", LINEAGE)
        again = [computed(f"{inbox}/a.parquet", "2" * 64), computed(f"{inbox}/b.parquet", "3" * 64)]
        record_dumps(catalog, "r2", again, Path(inbox), replaced(f"{inbox}/a.parquet"))
        known = known_dumps(catalog)
        recorded = recorded_dumps(catalog, NIGHT)
        inboxes = recorded_inboxes(catalog, NIGHT)
    assert [(k.path, k.fingerprint.sha256[0], k.key) for k in known] == [
        (f"{inbox}/a.parquet", "2", "a.parquet"),
        (f"{inbox}/b.parquet", "3", "b.parquet"),
    ]
    assert len(recorded) == 2  # a's first record was replaced, not kept beside
    assert inboxes == [inbox]


def test_a_dump_left_for_the_next_run_is_not_recorded(warehouse):
    changing = computed("/in/a.parquet", "1" * 64)
    changing = ComputedDump(changing.outcome, changing.fingerprint, pl.DataFrame(), None, False)
    with warehouse.commit() as catalog:
        record_dumps(catalog, "r1", [changing], None, replaced())
        assert known_dumps(catalog) == []


def placed(path: str, dump: str, model: str = "m", rows: int = 3) -> PlacedFile:
    return PlacedFile(f"losses/snapshot_date=2026-11-20/model={model}/{path}", NIGHT, model, dump,
                      rows)  # fmt: skip


def test_files_are_retired_by_the_dumps_or_the_night_that_replace_them(warehouse):
    batch = [placed("batch.parquet", "/in/x"), placed("batch.parquet", "/in/y")]
    tree = [placed("tree.parquet", "/in/t", model="tree")]
    with warehouse.commit() as catalog:
        commit_files(catalog, "r1", [*batch, *tree], LINEAGE)
    with warehouse.commit() as catalog:  # /in/y read again: its batch file goes whole
        commit_files(catalog, "r2", [placed("y.parquet", "/in/y")], LINEAGE, replaced("/in/y"))
        assert sorted((f.path.rsplit("/", 1)[1], f.dump_path) for f in live_files(catalog)) == [
            ("tree.parquet", "/in/t"),
            ("y.parquet", "/in/y"),
        ]
        assert dumps_of_model(catalog, NIGHT, "tree") == ["/in/t"]
    with warehouse.commit() as catalog:  # a rerun of model m replaces its files alone
        commit_files(catalog, "r3", [placed("m.parquet", "/in/x")], LINEAGE, rerun=(NIGHT, ["m"]))
        live = sorted(f.path.rsplit("/", 1)[1] for f in live_files(catalog))
        assert live == ["m.parquet", "tree.parquet"]
        retired = catalog.sql("SELECT path, run_id FROM retired_files ORDER BY run_id").fetchall()
        assert [(p.rsplit("/", 1)[1], run) for p, run in retired] == [
            ("batch.parquet", "r2"),
            ("y.parquet", "r3"),
        ]
        # Retired files stay on disk for readers a while, then are deleted and forgotten.
        assert expired_files(catalog, 3600.0) == []
        assert len(kept_files(catalog, expired_files(catalog, 3600.0))) == 4
        expired = expired_files(catalog, -1.0)
        assert [p.rsplit("/", 1)[1] for p in expired] == ["batch.parquet", "y.parquet"]
        assert {p.rsplit("/", 1)[1] for p in kept_files(catalog, expired)} == {
            "m.parquet",
            "tree.parquet",
        }
        forget_retired(catalog, expired)
        assert catalog.sql("SELECT count(*) FROM retired_files").fetchall() == [(0,)]


def test_a_model_that_is_not_there_is_named_with_those_that_are(warehouse):
    with warehouse.commit() as catalog:
        commit_files(catalog, "r1", [placed("a.parquet", "/in/a", model="mlp")], LINEAGE)
        with pytest.raises(InboxError, match="no model 'resnet' on 2026-11-20; models there: mlp"):
            dumps_of_model(catalog, NIGHT, "resnet")


def test_nights_computed_with_other_loss_settings_are_stale(warehouse):
    with warehouse.commit() as catalog:
        commit_files(catalog, "r1", [placed("a.parquet", "/in/a")], LINEAGE)
        record_snapshot(catalog, NIGHT, "r1", LINEAGE)
        assert stale_snapshots(catalog, LINEAGE) == []
        other = Lineage("1.0", LINEAGE.settings, {"eps": 1e-6})
        assert stale_snapshots(catalog, other) == ["2026-11-20"]
