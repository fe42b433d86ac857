"""Computing one night's dumps into staging: small dumps of one schema in one query, the
others alone, every outcome in the order of the paths; a task past the time bound is
given up (told to stop) and its dumps rejected with a line saying so."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import numpy as np
import polars as pl

from pipeline.base.options import IngestOptions, ReaderOptions
from pipeline.ingest import compute
from pipeline.ingest.compute import _run_bounded, _Task, compute_snapshot
from pipeline.warehouse.layout import DUMP_COLUMN
from tests.helpers.dumps import write_dump

NIGHT = dt.date(2026, 11, 20)
OPTIONS = IngestOptions(ReaderOptions(split="test", model="m"))


def logits_dump(path: Path, labels: list[int], dtype: type = np.float32) -> Path:
    logits = np.random.default_rng(len(labels)).normal(size=(len(labels), 3)).astype(dtype)
    return write_dump(path, {"sample_id": np.arange(len(labels)), "label": labels,
                             "logits": logits})  # fmt: skip


def test_a_night_is_computed_in_the_order_of_its_paths(tmp_path):
    inbox, staging = tmp_path / "inbox", tmp_path / "staging"
    staging.mkdir()
    paths = [
        logits_dump(inbox / "a.parquet", [0, 1, 2]),  # a and c: one schema, one query
        logits_dump(inbox / "b.parquet", [0, 1], dtype=np.float64),  # alone
        logits_dump(inbox / "c.parquet", [2, 5]),  # batched, and rejected alone
    ]
    seen = []
    results = compute_snapshot(paths, staging, NIGHT, OPTIONS, lambda *step: seen.append(step))
    assert [r.outcome.path for r in results] == paths
    assert [r.outcome.status for r in results] == ["ingested", "ingested", "rejected"]
    assert [r.outcome.rows for r in results] == [3, 2, 0]
    assert "column 'label': 1 row: is outside [0, 3)" in str(results[2].outcome.error)
    assert results[0].staged == staging / "batch-000000.parquet"  # shared with c ...
    assert results[1].staged == staging / "000001.parquet"
    assert results[2].staged is None
    batch = pl.read_parquet(results[0].staged)
    assert set(batch[DUMP_COLUMN]) == {str(paths[0]), str(paths[2])}  # ... placing keeps a's
    assert [count for count, _, _ in seen] == [1, 2, 3] and {t for _, t, _ in seen} == {3}
    assert all(r.fingerprint.size == p.stat().st_size for r, p in zip(results, paths, strict=True))


def test_under_skip_a_batch_keeps_each_dumps_good_rows(tmp_path):
    staging = tmp_path / "staging"
    staging.mkdir()
    paths = [logits_dump(tmp_path / "a.parquet", [0, 9]), logits_dump(tmp_path / "b.parquet", [1])]
    skip = IngestOptions(OPTIONS.reader, skip_bad_rows=True)
    results = compute_snapshot(paths, staging, NIGHT, skip, lambda *step: None)
    assert [(r.outcome.status, r.outcome.rows, r.outcome.rows_rejected) for r in results] == [
        ("ingested", 1, 1),
        ("ingested", 1, 0),
    ]
    assert results[0].dropped["sample_id"].to_list() == ["1"]


def test_a_task_past_the_time_bound_is_given_up_and_told_to_stop(monkeypatch):
    monkeypatch.setattr(compute, "POLL_SECONDS", 0.01)
    stopped = threading.Event()

    def until_stopped(stop: threading.Event) -> list:
        stop.wait(600)  # a bound for a broken test, not a pace
        stopped.set()
        return []

    task = _Task([0], until_stopped)
    (given_up,) = list(_run_bounded([task], at_once=2, timeout_seconds=0.05))
    assert given_up == (task, None)
    assert task.stop.is_set() and task.seconds >= 0.05
    assert stopped.wait(600)  # it noticed, and its late result is dropped


def test_tasks_run_two_at_once_and_their_errors_reach_the_caller():
    both_running = threading.Barrier(2, timeout=600)

    def together(stop: threading.Event) -> list:
        both_running.wait()  # would time out if the tasks ran one after the other
        return [(0, "done")]

    tasks = [_Task([0], together), _Task([1], together)]
    assert [result for _, result in _run_bounded(tasks, 2, None)] == [[(0, "done")]] * 2

    def broken(stop: threading.Event) -> list:
        raise OSError("disk gone")

    try:
        list(_run_bounded([_Task([0], broken)], 2, None))
    except OSError as error:
        assert str(error) == "disk gone"
    else:
        raise AssertionError("the task's error did not reach the caller")


def test_a_dump_whose_reading_takes_too_long_is_rejected_and_recorded(tmp_path):
    huge = tmp_path / "huge.parquet"
    with huge.open("wb") as handle:
        handle.truncate(64 * 2**30)  # sparse: hashing it takes minutes
    staging = tmp_path / "staging"
    staging.mkdir()
    bounded = IngestOptions(OPTIONS.reader, timeout_seconds=0.2)
    (result,) = compute_snapshot([huge], staging, NIGHT, bounded, lambda *step: None)
    assert result.outcome.status == "rejected" and result.record
    assert "(dump_timeout): given up" in str(result.outcome.error)
    assert result.fingerprint.size == 64 * 2**30 and result.fingerprint.sha256 == "unread"
