"""Compute one snapshot's dumps into its staging folder: every dump's losses, outcome and
fingerprint. Small dumps of one schema go many to a query; two queries run at once."""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from pipeline.base.files import NoSpaceError, file_sha256
from pipeline.base.options import IngestOptions
from pipeline.base.progress import Progress
from pipeline.base.results import ComputedDump, FileOutcome, Fingerprint, fingerprint
from pipeline.contract import (
    Dump,
    DumpError,
    Problem,
    declared_classes,
    open_batch,
    open_dump,
    problems_found,
)
from pipeline.contract.batching import BATCH_ROWS, BatchPlan, plan_batches
from pipeline.contract.params import declared_params
from pipeline.contract.reader import unreadable
from pipeline.ingest.loss_pass import Counted, batch_losses_to_parquet, dump_losses_to_parquet

# Small dumps spend most of their time in per-query overhead, not in compute, so two
# queries run at once to keep both cores busy (bench/README.md, many-files target).
DUMPS_AT_ONCE = 2


class SnapshotCompute(Protocol):
    """An engine's loss stage: compute_snapshot here, or its Spark twin."""

    def __call__(
        self,
        paths: Sequence[Path],
        staging: Path,
        snapshot_date: dt.date,
        options: IngestOptions,
        progress: Progress,
    ) -> list[ComputedDump]: ...


def compute_snapshot(
    paths: Sequence[Path],
    staging: Path,
    snapshot_date: dt.date,
    options: IngestOptions,
    progress: Progress,
) -> list[ComputedDump]:
    """Every dump's losses into staging/<position>.parquet (a batch's into
    staging/batch-<position>.parquet), in the order of paths. A task
    (one dump, or a batch of small ones) that takes longer than options.timeout_seconds
    rejects its dumps and is left behind; the night goes on."""
    computer = _SnapshotComputer(paths, staging, snapshot_date, options)
    batches = plan_batches(paths, options.reader.folders_below)
    batched = {index for batch in batches for index in batch.positions}
    tasks = [
        *(_Task(batch.positions, partial(computer.batch, batch)) for batch in batches),
        *(_Task([i], partial(computer.one, i)) for i in range(len(paths)) if i not in batched),
    ]
    by_index: dict[int, ComputedDump] = {}
    for task, results in _run_bounded(tasks, DUMPS_AT_ONCE, options.timeout_seconds):
        if results is None:  # too slow: given up
            results = [(index, computer.too_slow(index, task.seconds)) for index in task.positions]
        for index, result in results:
            by_index[index] = result
            progress(len(by_index), len(paths), result.outcome.path.name)
    return [by_index[index] for index in sorted(by_index)]


Results = list[tuple[int, "ComputedDump"]]


@dataclass(eq=False)
class _Task:
    """Dumps computed together (their positions) and the call that computes them."""

    positions: list[int]
    call: Callable[[threading.Event], Results]
    stop: threading.Event = field(default_factory=threading.Event)  # set: give up
    started: float = 0.0
    seconds: float = 0.0  # how long it ran before it was given up


def _run_bounded(
    tasks: Sequence[_Task], at_once: int, timeout_seconds: float | None
) -> Iterator[tuple[_Task, Results | None]]:
    """Run tasks, at_once at a time, each in a daemon thread; yield each with its results
    as it ends, or with None once it has run longer than timeout_seconds. A task given up
    is told to stop (hashing stops; a Parquet decode cannot be stopped and runs to its
    end, its results dropped); its thread, a daemon, never holds the process open."""
    ended: queue.Queue[tuple[_Task, Results | BaseException]] = queue.Queue()
    waiting = list(reversed(tasks))
    running: set[_Task] = set()

    def work(task: _Task) -> None:
        try:
            ended.put((task, task.call(task.stop)))
        except BaseException as error:  # handed to the caller's thread
            ended.put((task, error))

    while waiting or running:
        while waiting and len(running) < at_once:
            task = waiting.pop()
            task.started = time.monotonic()
            running.add(task)
            threading.Thread(target=work, args=(task,), daemon=True, name="dump").start()
        try:
            task, outcome = ended.get(timeout=POLL_SECONDS)
        except queue.Empty:
            pass
        else:
            if task in running:  # not given up before it ended
                running.discard(task)
                if isinstance(outcome, BaseException):
                    raise outcome
                yield task, outcome
        if timeout_seconds is None:
            continue
        now = time.monotonic()
        for task in [t for t in running if now - t.started > timeout_seconds]:
            running.discard(task)
            task.stop.set()
            task.seconds = now - task.started
            yield task, None


POLL_SECONDS = 0.2  # how often running tasks are checked against the time bound


class _SnapshotComputer:
    """Computes dumps of one snapshot (one at a time, or a batch) into staging."""

    def __init__(
        self, paths: Sequence[Path], staging: Path, snapshot_date: dt.date, options: IngestOptions
    ) -> None:
        self.paths = paths
        self.staging = staging
        self.snapshot_date = snapshot_date
        self.options = options
        # A big dump keeps both cores busy alone; two at once only add their peaks.
        self.big_dump = threading.Lock()
        self.spec = options.reader.loss
        # Which rows a dump's losses keep: without bad rows (skip), of one model (rerun).
        self.keep: dict[str, Any] = {
            "skip_bad_rows": options.skip_bad_rows,
            "model": options.only_model,
            "snapshot_date": snapshot_date,
        }

    def target(self, index: int) -> Path:
        return self.staging / f"{index:06d}.parquet"

    def one(self, index: int, stop: threading.Event) -> Results:
        """One dump into staging: its outcome, fingerprint and dropped rows."""
        path, target = self.paths[index], self.target(index)
        before = _Taken.now(path, stop)
        try:
            dump = open_dump(path, self.options.reader)
            with self.big_dump if dump.n_rows > BATCH_ROWS else contextlib.nullcontext():
                counted = dump_losses_to_parquet(dump, self.spec, target, **self.keep)
        except DumpError as error:
            return [(index, self.rejected(path, error, before))]
        except NoSpaceError:
            raise
        except (Exception, pl.exceptions.PanicException) as error:
            # A file rewritten under the reader can break the Parquet decoder itself.
            broken = DumpError(path, [Problem(None, 0, unreadable(error))])
            return [(index, self.rejected(path, broken, before))]
        return [(index, self.judged(path, dump, counted, target, before))]

    def batch(self, plan: BatchPlan, stop: threading.Event) -> Results:
        """Small dumps of one schema in one query, into one file; each is still accepted
        or rejected alone (placing the file keeps the rows of those accepted). A batch
        that fails as a whole (a schema problem, an unreadable page) is redone file by
        file, so each file gets its own error."""
        files = [self.paths[index] for index in plan.positions]
        target = self.staging / f"batch-{plan.positions[0]:06d}.parquet"
        taken = [_Taken.now(path, stop) for path in files]
        try:
            batch = open_batch(files, self.options.reader, plan.rows)
            names = [str(path) for path in files]
            results = batch_losses_to_parquet(batch, names, target, self.spec, **self.keep)
        except NoSpaceError:
            raise
        except (Exception, pl.exceptions.PanicException):
            target.unlink(missing_ok=True)
            return [one for index in plan.positions for one in self.one(index, stop)]
        return [
            (index, self.judged(path, batch, counted, target, before, shared=True))
            for index, path, counted, before in zip(
                plan.positions, files, results, taken, strict=True
            )
        ]

    def judged(
        self,
        path: Path,
        dump: Dump,
        counted: Counted,
        target: Path,
        before: _Taken,
        *,
        shared: bool = False,
    ) -> ComputedDump:
        """A computed dump's outcome: rejected (its staged losses dropped, unless the file
        is shared with a batch's other dumps), ingested, or left for the next run when the
        file changed while it was being read."""
        counts, dropped = counted
        if before.changed(path):
            if not shared:
                target.unlink(missing_ok=True)
            outcome = FileOutcome(path, self.snapshot_date, "rejected", error=CHANGED_WHILE_READ)
            return ComputedDump(outcome, before.fingerprint, pl.DataFrame(), None, record=False)
        problems = problems_found(dump.checks, counts)
        if problems and not self.options.skip_bad_rows:
            if not shared:
                target.unlink(missing_ok=True)
            return self.rejected(path, DumpError(path, problems), before)
        outcome = FileOutcome(
            path=path,
            snapshot_date=self.snapshot_date,
            status="ingested",
            classes=declared_classes(path, self.options.reader),
            params=declared_params(path, self.options.reader),
        )
        outcome.rows_ignored = counts["ignored"]
        outcome.rows_rejected = dropped["sample_id"].n_unique() if dropped.height else 0
        outcome.rows = counts["rows"] - outcome.rows_ignored - outcome.rows_rejected
        # A file whose every row was dropped or filtered away gets no staged losses (in a
        # batch file it has no rows: placing it lists no file for it).
        staged = target if target.exists() else None
        return ComputedDump(outcome, before.fingerprint, dropped, staged)

    def too_slow(self, index: int, seconds: float) -> ComputedDump:
        """A dump whose task ran past the time bound: rejected, recorded with its size and
        mtime (so it is not read again each night until it changes or is rerun)."""
        path = self.paths[index]
        self.target(index).unlink(missing_ok=True)
        message = (
            f"reading took longer than {seconds:.0f} s (dump_timeout): given up; raise "
            "dump_timeout, or split the file, then `lossgram rerun` its night"
        )
        outcome = FileOutcome(path, self.snapshot_date, "rejected", error=f"{path}: {message}")
        try:
            stat = path.stat()
        except OSError:
            gone = Fingerprint(0, 0.0, "unread")
            return ComputedDump(outcome, gone, pl.DataFrame(), None, record=False)
        return ComputedDump(outcome, fingerprint(stat, "unread"), pl.DataFrame(), None)

    def rejected(self, path: Path, error: DumpError, before: _Taken) -> ComputedDump:
        outcome = FileOutcome(path, self.snapshot_date, status="rejected", error=str(error))
        # A file that changed since is read again next run, not kept as rejected.
        return ComputedDump(
            outcome, before.fingerprint, pl.DataFrame(), None, record=not before.changed(path)
        )


CHANGED_WHILE_READ = "the file changed while it was being read: the next run reads it again"


@dataclass(frozen=True)
class _Taken:
    """A dump's fingerprint taken before it is read, and the stat to compare after."""

    fingerprint: Fingerprint
    identity: tuple[int, int, int]  # inode, size, mtime in ns

    @classmethod
    def now(cls, path: Path, stop: threading.Event) -> _Taken:
        stat = path.stat()
        try:
            sha256 = file_sha256(path, stop)
        except OSError:  # unreadable: open_dump says so, naming the file
            sha256 = "unreadable"
        return cls(fingerprint(stat, sha256), (stat.st_ino, stat.st_size, stat.st_mtime_ns))

    def changed(self, path: Path) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return True
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns) != self.identity
