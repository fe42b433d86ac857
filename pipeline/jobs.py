"""Orchestration: wire dumps -> losses -> outputs for one run."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq

from pipeline.aggregates import aggregate_snapshot
from pipeline.dumps import (
    BATCH_ROWS,
    FILE_INDEX,
    BatchPlan,
    Dump,
    DumpError,
    Problem,
    find_dumps,
    flag_columns,
    open_batch,
    open_dump,
    plan_batches,
    problem_counts,
    problems_found,
    run_screens,
)
from pipeline.losses import LossSpec, per_sample_losses
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, WarehouseError, bin_scheme, load_sql, query_frame

SEPARATE_SCANS = pl.QueryOptFlags(comm_subplan_elim=False)
DUMPS_AT_ONCE = 2

# Called after each dump file: (files done, files in all, the file just done).
Progress = Callable[[int, int, Path], None]


class DumpsRejected(Exception):
    """One or more dumps broke the contract; nothing was written."""

    def __init__(self, errors: Sequence[DumpError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class LossesWritten:
    """What `losses_to_parquet` wrote: where, a per-(model, split) summary, counts."""

    out: Path
    summary: pl.DataFrame
    rows: int
    ignored: int
    clipped: int


def loss_spec(settings: Settings) -> LossSpec:
    return LossSpec(
        label_smoothing=settings.label_smoothing,
        class_weights=settings.class_weights,
        ignore_index=settings.ignore_index,
        eps=settings.eps,
    )


def _planned_losses(
    dump: Dump, spec: LossSpec, skip_bad_rows: bool, model: str | None
) -> tuple[pl.LazyFrame, list[str], pl.Expr, pl.Expr]:
    """A dump's (or batch's) losses as a lazy plan, its flag columns, "any flag" and the
    count of ignored rows."""
    flags = flag_columns(dump)
    any_flag = pl.any_horizontal(flags) if flags else pl.lit(False)
    kept = dump.frame.filter(~any_flag) if skip_bad_rows else dump.frame
    try:
        losses = per_sample_losses(kept, spec)
    except ValueError as error:
        raise DumpError(dump.path, [Problem(None, dump.n_rows, str(error))]) from error
    if model is not None:
        losses = losses.filter(pl.col("model") == model)
    ignore = spec.ignore_index
    ignored = (pl.col("label") == ignore).sum() if ignore is not None else pl.lit(0)
    return losses, flags, any_flag, ignored


def dump_losses_to_parquet(
    dump: Dump,
    spec: LossSpec,
    target: Path,
    *,
    skip_bad_rows: bool = False,
    model: str | None = None,
) -> tuple[dict[str, int], pl.DataFrame]:
    """One pass over a dump: sink its per-sample losses to target and count bad rows.

    Returns the counts (rows, ignored rows, one entry per check) and the bad
    rows (sample_id, column_name, problem). Without skip_bad_rows the file at
    target is complete only if no check counted a row; the caller decides.
    With skip_bad_rows, bad rows are left out of target. `model` keeps one model.
    """
    losses, flags, any_flag, ignored = _planned_losses(dump, spec, skip_bad_rows, model)
    counts = dump.frame.select(
        pl.len().cast(pl.Int64).alias("rows"),
        ignored.cast(pl.Int64).alias("ignored"),
        *problem_counts(dump.checks),
    )
    sink = losses.sink_parquet(target, lazy=True)
    outputs = [sink, counts]
    if skip_bad_rows:
        outputs.append(dump.frame.filter(any_flag).select("sample_id", *flags))
    try:
        # Each output scans the dump itself: sharing one scan (common subplan
        # elimination) buffers it, and peak memory then grows with the dump (1.4 GB
        # for 16M x 10 against 0.67 GB, for 5% more time: bench/README.md).
        _, counted, *bad = pl.collect_all(outputs, engine="streaming", optimizations=SEPARATE_SCANS)
        found = {name: int(value or 0) for name, value in counted.row(0, named=True).items()}
        found.update(run_screens(dump.checks))
        screened = [c for c in dump.checks if c.screen is not None and found.get(c.flag, 0)]
        if screened:
            # A cheap screen was not 0: count those rules exactly (bad files only).
            exact = dump.frame.select(problem_counts(screened, screened=False)).collect()
            found.update(
                {name: int(value or 0) for name, value in exact.row(0, named=True).items()}
            )
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DumpError(dump.path, [Problem(None, dump.n_rows, f"unreadable: {error}")]) from error
    empty = pl.DataFrame(schema={"sample_id": pl.String, **dict.fromkeys(flags, pl.Boolean)})
    return found, _bad_row_records(dump, bad[0] if bad else empty)


def batch_losses_to_parquet(
    batch: Dump,
    targets: Sequence[Path],
    spec: LossSpec,
    *,
    skip_bad_rows: bool = False,
    model: str | None = None,
) -> list[tuple[dict[str, int], pl.DataFrame]]:
    """dump_losses_to_parquet for the files of an open_batch frame, in one query: file i's
    losses go to targets[i] (no file when it has no rows left), and its counts and bad
    rows come back at position i. The caller discards the targets of files it rejects.
    """
    losses, flags, any_flag, ignored = _planned_losses(batch, spec, skip_bad_rows, model)

    def target_of(args: pl.io.partition.FileProviderArgs) -> Path:
        return targets[int(args.partition_keys[FILE_INDEX][0])]

    sink = losses.sink_parquet(
        pl.PartitionBy(
            targets[0].parent,
            key=FILE_INDEX,
            include_key=False,
            file_path_provider=target_of,
            approximate_bytes_per_file=None,
        ),
        lazy=True,
    )
    counts = batch.frame.group_by(FILE_INDEX).agg(
        pl.len().cast(pl.Int64).alias("rows"),
        ignored.cast(pl.Int64).alias("ignored"),
        *problem_counts(batch.checks),
    )
    outputs = [sink, counts]
    if skip_bad_rows:
        outputs.append(batch.frame.filter(any_flag).select(FILE_INDEX, "sample_id", *flags))
    try:
        _, counted, *bad = pl.collect_all(outputs, engine="streaming", optimizations=SEPARATE_SCANS)
        screened = [c for c in batch.checks if c.screen is not None]
        failed = (
            counted.filter(pl.any_horizontal([pl.col(c.flag) > 0 for c in screened]))
            if screened
            else counted.clear()
        )
        if failed.height:
            # A cheap screen was not 0: count those rules exactly, for those files only.
            exact = (
                batch.frame.filter(pl.col(FILE_INDEX).is_in(failed[FILE_INDEX].implode()))
                .group_by(FILE_INDEX)
                .agg(problem_counts(screened, screened=False))
                .collect()
            )
            counted = counted.update(exact, on=FILE_INDEX)
    except (pl.exceptions.PolarsError, OSError) as error:
        message = f"unreadable: {error}"
        raise DumpError(batch.path, [Problem(None, batch.n_rows, message)]) from error
    by_file = {row.pop(FILE_INDEX): row for row in counted.iter_rows(named=True)}
    bad_by_file = bad[0].partition_by(FILE_INDEX, as_dict=True, include_key=False) if bad else {}
    no_bad_rows = pl.DataFrame()
    return [
        (
            {name: int(value or 0) for name, value in by_file[index].items()},
            _bad_row_records(batch, bad_by_file.get((index,), no_bad_rows)),
        )
        for index in range(len(targets))
    ]


def _bad_row_records(dump: Dump, bad: pl.DataFrame) -> pl.DataFrame:
    """One row per (sample, broken check): sample_id, column_name, problem."""
    if bad.is_empty():
        return _EMPTY_DROPPED.select("sample_id", "column_name", "problem")
    records = [
        bad.filter(pl.col(check.flag)).select(
            pl.col("sample_id").cast(pl.String),
            pl.lit(check.column).alias("column_name"),
            pl.lit(check.message).alias("problem"),
        )
        for check in dump.checks
    ]
    empty = pl.DataFrame(
        schema={"sample_id": pl.String, "column_name": pl.String, "problem": pl.String}
    )
    return pl.concat([empty, *records])


def losses_to_parquet(
    dump_paths: Sequence[str | Path],
    out: Path,
    settings: Settings,
    progress: Progress | None = None,
) -> LossesWritten:
    """Per-sample cross-entropy of every dump into one Parquet file, all or nothing."""
    spec = loss_spec(settings)
    files = find_dumps(dump_paths)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts_dir = out.parent / f".{out.name}.{uuid.uuid4().hex}.parts"
    parts_dir.mkdir()
    try:
        errors: list[DumpError] = []
        parts: list[Path] = []
        ignored = 0
        for index, path in enumerate(files):
            part = parts_dir / f"part-{index:05d}.parquet"
            try:
                dump = open_dump(path, settings)
                counts, _ = dump_losses_to_parquet(dump, spec, part)
                problems = problems_found(dump, counts)
                if problems:
                    raise DumpError(path, problems)
                ignored += counts["ignored"]
                parts.append(part)
            except DumpError as error:
                errors.append(error)
            if progress is not None:
                progress(index + 1, len(files), path)
        if errors:
            raise DumpsRejected(errors)
        staged = parts_dir / "combined.parquet"
        if len(parts) == 1:
            staged = parts[0]
        else:
            frames = [pl.scan_parquet(part) for part in parts]
            pl.concat(frames, how="diagonal_relaxed").sink_parquet(staged)
        os.replace(staged, out)  # atomic: readers see the old file or the new one
    finally:
        shutil.rmtree(parts_dir, ignore_errors=True)

    with contextlib.closing(duckdb.connect()) as connection:
        summary = query_frame(connection, "losses_file_summary", {"path": str(out)})
    return LossesWritten(
        out=out,
        summary=summary.drop("clipped"),
        rows=int(summary["n"].sum()),
        ignored=ignored,
        clipped=int(summary["clipped"].sum()),
    )


# -- the nightly job ---------------------------------------------------------------------

DATE_FOLDER = re.compile(r"^(?:date=)?(\d{4}-\d{2}-\d{2})$")
STATUS_SUCCEEDED, STATUS_PARTIAL, STATUS_FAILED = "succeeded", "partial", "failed"


@dataclass
class FileOutcome:
    """What happened to one dump file in a run."""

    path: Path
    snapshot_date: str
    status: str  # ingested / rejected
    rows: int = 0
    rows_ignored: int = 0
    rows_rejected: int = 0
    error: str | None = None


@dataclass
class RunSummary:
    """A run's outcome, as printed by `lossgram run --json` and kept in job_runs."""

    run_id: str
    command: str
    status: str = "running"
    snapshot_dates: list[str] = field(default_factory=list)
    files_seen: int = 0
    files_unchanged: int = 0
    outcomes: list[FileOutcome] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    reports: list[str] = field(default_factory=list)  # pages written after the run

    @property
    def files_ingested(self) -> int:
        return sum(outcome.status == "ingested" for outcome in self.outcomes)

    @property
    def files_rejected(self) -> int:
        return sum(outcome.status == "rejected" for outcome in self.outcomes)

    @property
    def exit_code(self) -> int:
        return {STATUS_SUCCEEDED: 0, STATUS_PARTIAL: 1}.get(self.status, 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "command": self.command,
            "status": self.status,
            "snapshot_dates": self.snapshot_dates,
            "files_seen": self.files_seen,
            "files_ingested": self.files_ingested,
            "files_rejected": self.files_rejected,
            "files_unchanged": self.files_unchanged,
            "rows_ingested": sum(o.rows for o in self.outcomes if o.status == "ingested"),
            "rows_rejected": sum(o.rows_rejected for o in self.outcomes),
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "rejected": [
                {"path": str(o.path), "error": o.error}
                for o in self.outcomes
                if o.status == "rejected"
            ],
            "verdicts": self.verdicts,
            "reports": self.reports,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def snapshot_date_of(path: Path, inbox: Path, default: str) -> str:
    """A top-level inbox folder named YYYY-MM-DD (or date=YYYY-MM-DD) sets the snapshot."""
    relative = path.relative_to(inbox).parts
    match = DATE_FOLDER.match(relative[0]) if len(relative) > 1 else None
    return match.group(1) if match else default


def run_job(
    settings: Settings,
    *,
    snapshot_date: dt.date | None = None,
    date_range: tuple[dt.date, dt.date] | None = None,
    command: str = "run",
    progress: Progress | None = None,
) -> RunSummary:
    """The nightly job: new or changed dumps in the inbox -> losses, aggregates, verdicts.

    With date_range (backfill) only date folders inside the range are read.
    """
    default_date = (snapshot_date or dt.date.today()).isoformat()
    warehouse = Warehouse(settings.warehouse, settings.duckdb_memory_limit)

    def plan(connection: duckdb.DuckDBPyConnection, summary: RunSummary) -> dict[str, list[Path]]:
        inbox = settings.inbox.resolve()
        files = find_dumps([inbox]) if _has_parquet(inbox) else []
        if date_range is not None:
            low, high = (day.isoformat() for day in date_range)
            files = [
                f
                for f in files
                if snapshot_date_of(f, inbox, "") and low <= snapshot_date_of(f, inbox, "") <= high
            ]
        summary.files_seen = len(files)
        known = {row[0]: row[1:] for row in connection.execute(load_sql("known_files")).fetchall()}
        by_date: dict[str, list[Path]] = {}
        for path in files:
            if _unchanged(path, known.get(str(path))):
                summary.files_unchanged += 1
                continue
            by_date.setdefault(snapshot_date_of(path, inbox, default_date), []).append(path)
        return by_date

    return _locked_run(warehouse, settings, command, plan, progress, replace=None)


def rerun_job(
    settings: Settings,
    snapshot_date: dt.date,
    *,
    model: str | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Re-read a date's recorded dumps (sha256 verified) and replace that date's rows."""
    warehouse = Warehouse(settings.warehouse, settings.duckdb_memory_limit)
    day = snapshot_date.isoformat()

    def plan(connection: duckdb.DuckDBPyConnection, summary: RunSummary) -> dict[str, list[Path]]:
        recorded = connection.execute(load_sql("files_of_date"), {"snapshot_date": day}).fetchall()
        if not recorded:
            raise WarehouseError(f"no dumps were recorded for {day}: nothing to rerun")
        changed = []
        for path_text, sha256 in recorded:
            path = Path(path_text)
            if not path.is_file():
                changed.append(f"{path}: missing")
            elif file_sha256(path) != sha256:
                changed.append(f"{path}: sha256 differs from the one recorded")
        if changed:
            raise WarehouseError(
                "cannot rerun "
                + day
                + ", recorded dumps changed: "
                + "; ".join(changed)
                + " (`lossgram run` ingests new versions as new data)"
            )
        summary.files_seen = len(recorded)
        return {day: [Path(path) for path, _ in recorded]}

    return _locked_run(warehouse, settings, "rerun", plan, progress, replace=(day, model))


def _has_parquet(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.parquet"))


def _unchanged(path: Path, known: tuple[Any, ...] | None) -> bool:
    """Size and mtime first; hash only files whose size or mtime moved."""
    if known is None:
        return False
    size, mtime, sha256 = known
    stat = path.stat()
    if stat.st_size == size and stat.st_mtime == mtime:
        return True
    return bool(stat.st_size == size and file_sha256(path) == sha256)


Plan = Callable[[duckdb.DuckDBPyConnection, RunSummary], dict[str, list[Path]]]


def _locked_run(
    warehouse: Warehouse,
    settings: Settings,
    command: str,
    plan: Plan,
    progress: Progress | None,
    replace: tuple[str, str | None] | None,
) -> RunSummary:
    """Take the lock, record the run, ingest each snapshot in its own transaction."""
    started = time.monotonic()
    summary = RunSummary(run_id=uuid.uuid4().hex[:12], command=command)
    with warehouse.lock(settings.lock_timeout):
        _recover(warehouse)
        with contextlib.closing(warehouse.connect()) as connection:
            connection.execute(load_sql("abandon_stale_runs"))
            connection.execute(
                load_sql("start_job_run"), {"run_id": summary.run_id, "command": command}
            )
            try:
                by_date = plan(connection, summary)
            except WarehouseError as error:
                summary.status, summary.error = STATUS_FAILED, str(error)
                _finish(connection, summary, started)
                return summary
        try:
            total = sum(len(paths) for paths in by_date.values())
            done = 0
            for day in sorted(by_date):

                def step(path: Path, offset: int = done) -> None:
                    if progress is not None:
                        progress(offset + 1, total, path)

                _ingest_snapshot(warehouse, settings, summary, day, by_date[day], step, replace)
                done += len(by_date[day])
                summary.snapshot_dates.append(day)
            summary.status = STATUS_PARTIAL if summary.files_rejected else STATUS_SUCCEEDED
        except Exception as error:  # recorded in job_runs, then re-raised for the CLI
            summary.status, summary.error = STATUS_FAILED, f"{type(error).__name__}: {error}"
            with contextlib.closing(warehouse.connect()) as connection:
                _finish(connection, summary, started)
            raise
        with contextlib.closing(warehouse.connect()) as connection:
            if summary.snapshot_dates:
                summary.verdicts = [
                    dict(
                        zip(
                            (
                                "snapshot_date",
                                "model",
                                "heldout_split",
                                "epoch",
                                "verdict",
                                "reason",
                                "gap",
                                "normalised_gap",
                            ),
                            row,
                            strict=True,
                        )
                    )
                    for row in connection.execute(
                        load_sql("run_verdicts"), {"snapshot_dates": summary.snapshot_dates}
                    ).fetchall()
                ]
            _finish(connection, summary, started)
    return summary


def _finish(connection: duckdb.DuckDBPyConnection, summary: RunSummary, started: float) -> None:
    summary.seconds = time.monotonic() - started
    data = summary.to_json()
    connection.execute(
        load_sql("finish_job_run"),
        {
            "run_id": summary.run_id,
            "status": summary.status,
            "snapshot_dates": ",".join(summary.snapshot_dates),
            "files_seen": summary.files_seen,
            "files_ingested": summary.files_ingested,
            "files_rejected": summary.files_rejected,
            "files_unchanged": summary.files_unchanged,
            "rows_ingested": data["rows_ingested"],
            "rows_rejected": data["rows_rejected"],
            "seconds": summary.seconds,
            "error": summary.error,
        },
    )


def _staging_root(warehouse: Warehouse) -> Path:
    return warehouse.root / ".staging"


def _recover(warehouse: Warehouse) -> None:
    """Undo what a run that died mid-way left: staged files, and swapped-out partitions."""
    staging = _staging_root(warehouse)
    for trash in sorted(staging.glob("*/trash/*")) if staging.is_dir() else []:
        # A partition moved aside by a rerun that never committed goes back in place.
        target = warehouse.losses / trash.name.replace("+", "/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(trash, target)
    shutil.rmtree(staging, ignore_errors=True)


def _ingest_snapshot(
    warehouse: Warehouse,
    settings: Settings,
    summary: RunSummary,
    day: str,
    paths: list[Path],
    step: Callable[[Path], None],
    replace: tuple[str, str | None] | None,
) -> None:
    """Compute every dump of one snapshot into staging, then land it in one transaction."""
    spec = loss_spec(settings)
    stage = _staging_root(warehouse) / summary.run_id / day
    stage.mkdir(parents=True, exist_ok=True)
    model_filter = replace[1] if replace else None
    skip = settings.bad_rows == "skip"

    def landed(
        path: Path, dump: Dump, counts: dict[str, int], dropped: pl.DataFrame, target: Path
    ) -> _Computed:
        """A computed dump's outcome: rejected (its staged losses dropped) or ingested."""
        stat, sha256 = path.stat(), file_sha256(path)
        outcome = FileOutcome(path=path, snapshot_date=day, status="ingested")
        problems = problems_found(dump, counts)
        if problems and not skip:
            target.unlink(missing_ok=True)
            return rejected(path, DumpError(path, problems), sha256, stat)
        outcome.rows, outcome.rows_ignored = counts["rows"], counts["ignored"]
        outcome.rows_rejected = dropped["sample_id"].n_unique() if dropped.height else 0
        outcome.rows -= outcome.rows_ignored + outcome.rows_rejected
        # A file whose every row was dropped or filtered away gets no staged losses.
        return _Computed(outcome, sha256, stat, dropped, target if target.exists() else None)

    def rejected(
        path: Path, error: DumpError, sha256: str | None = None, stat: os.stat_result | None = None
    ) -> _Computed:
        outcome = FileOutcome(path, day, status="rejected", error=str(error))
        return _Computed(
            outcome, sha256 or file_sha256(path), stat or path.stat(), pl.DataFrame(), None
        )

    big_dump = threading.Lock()

    def compute(index: int) -> list[tuple[int, _Computed]]:
        """One dump into staging: its outcome, fingerprint and dropped rows."""
        path, target = paths[index], stage / f"{index:06d}.parquet"
        try:
            dump = open_dump(path, settings)
            # A big dump keeps both cores busy alone; two at once only add their peaks.
            with big_dump if dump.n_rows > BATCH_ROWS else contextlib.nullcontext():
                counts, dropped = dump_losses_to_parquet(
                    dump, spec, target, skip_bad_rows=skip, model=model_filter
                )
            return [(index, landed(path, dump, counts, dropped, target))]
        except DumpError as error:
            return [(index, rejected(path, error))]

    def compute_batch(plan: BatchPlan) -> list[tuple[int, _Computed]]:
        """Small dumps of one schema in one query; each is still accepted or rejected
        alone. A batch that fails as a whole (a schema problem, an unreadable page) is
        redone file by file, so each file gets its own error."""
        indices = plan.positions
        files = [paths[index] for index in indices]
        targets = [stage / f"{index:06d}.parquet" for index in indices]
        try:
            batch = open_batch(files, settings, plan.rows)
            results = batch_losses_to_parquet(
                batch, targets, spec, skip_bad_rows=skip, model=model_filter
            )
        except DumpError:
            for target in targets:
                target.unlink(missing_ok=True)
            return [one for index in indices for one in compute(index)]
        return [
            (index, landed(path, batch, counts, dropped, target))
            for index, path, target, (counts, dropped) in zip(
                indices, files, targets, results, strict=True
            )
        ]

    batches = plan_batches(paths)
    batched = {index for batch in batches for index in batch.positions}
    work: list[Callable[[], list[tuple[int, _Computed]]]] = [
        *(partial(compute_batch, batch) for batch in batches),
        *(partial(compute, index) for index in range(len(paths)) if index not in batched),
    ]
    # Small dumps spend most of their time in per-query overhead, not in compute: they
    # go many to a query (plan_batches), and two queries run at once to keep both cores
    # busy (bench/README.md, many-files target).
    by_index: dict[int, _Computed] = {}
    with ThreadPoolExecutor(max_workers=DUMPS_AT_ONCE) as pool:
        for results in pool.map(lambda task: task(), work):
            for index, result in results:
                by_index[index] = result
                step(result.outcome.path)
    computed = [by_index[index] for index in sorted(by_index)]
    summary.outcomes.extend(result.outcome for result in computed)
    staged = [(c.outcome.path, c.staged) for c in computed if c.staged is not None]

    trash = stage / "trash"
    moved_aside: list[tuple[Path, Path]] = []
    if replace is not None:
        # A rerun replaces the date (or one model of it): move the old partition aside.
        old = warehouse.partition(day, model_filter)
        if old.exists():
            trash.mkdir(exist_ok=True)
            aside = trash / str(old.relative_to(warehouse.losses)).replace("/", "+")
            os.replace(old, aside)
            moved_aside.append((aside, old))
    try:
        for path, staged_file in staged:
            _place(warehouse, day, path, staged_file, model_filter)
        with contextlib.closing(warehouse.connect()) as connection:
            # Binding the view reads every file's footer: only when files were placed.
            warehouse.refresh_losses_view(connection)
            connection.execute("BEGIN")
            try:
                _record(connection, summary.run_id, computed)
                warehouse.register_bin_scheme(connection, bin_scheme(settings))
                aggregate_snapshot(
                    connection,
                    day,
                    settings,
                    bin_scheme(settings),
                    models=[model_filter] if model_filter else None,
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
    except BaseException:
        for aside, old in moved_aside:
            shutil.rmtree(old, ignore_errors=True)
            os.replace(aside, old)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _place(
    warehouse: Warehouse, day: str, dump_path: Path, staged: Path, model: str | None
) -> None:
    """Move a dump's staged losses into losses/snapshot_date=D/model=M/<key>.parquet.

    The key comes from the dump's path, so a changed dump replaces its own earlier
    losses and a crash before the commit is repaired by the next run rewriting them.
    """
    key = hashlib.sha256(str(dump_path).encode()).hexdigest()[:20] + ".parquet"
    scope = warehouse.partition(day, model) if model else warehouse.partition(day)
    for old in scope.glob(key if model else f"model=*/{key}"):
        old.unlink()
    frame = pl.scan_parquet(staged)
    models = _single_model(staged)
    if models is None:
        models = frame.select(pl.col("model").unique()).collect()["model"].to_list()
    for model in models:
        folder = warehouse.partition(day, model)
        folder.mkdir(parents=True, exist_ok=True)
        if len(models) == 1:
            os.replace(staged, folder / key)
        else:
            partial = folder / (key + ".tmp")
            frame.filter(pl.col("model") == model).sink_parquet(partial)
            os.replace(partial, folder / key)


STATISTICS_EXACT_BYTES = 64


def _single_model(staged: Path) -> list[str] | None:
    """[model] when the footer's min/max statistics say the file holds one model (0.2 ms
    against ~1 ms to scan the column), else None. Writers truncate long statistics
    (Polars at 64 bytes), so only shorter values are taken as exact."""
    metadata = pq.ParquetFile(staged).metadata
    column = metadata.schema.to_arrow_schema().get_field_index("model")
    values = set()
    for index in range(metadata.num_row_groups):
        statistics = metadata.row_group(index).column(column).statistics
        if statistics is None or not statistics.has_min_max or statistics.min != statistics.max:
            return None
        if len(str(statistics.min).encode()) >= STATISTICS_EXACT_BYTES:
            return None
        values.add(statistics.min)
    return [str(value) for value in values] if len(values) == 1 else None


@dataclass(frozen=True)
class _Computed:
    outcome: FileOutcome
    sha256: str
    stat: os.stat_result
    dropped: pl.DataFrame  # bad rows left out under bad_rows = skip
    staged: Path | None  # the staged losses; None when the dump was rejected


def _record(connection: duckdb.DuckDBPyConnection, run_id: str, computed: list[_Computed]) -> None:
    """Record every dump of a snapshot (and its dropped rows) with a few statements."""
    files = pl.DataFrame(
        [
            {
                "path": str(c.outcome.path),
                "size": c.stat.st_size,
                "mtime": c.stat.st_mtime,
                "sha256": c.sha256,
                "snapshot_date": c.outcome.snapshot_date,
                "status": c.outcome.status,
                "rows": c.outcome.rows,
                "rows_ignored": c.outcome.rows_ignored,
                "rows_rejected": c.outcome.rows_rejected,
                "error": c.outcome.error,
                "run_id": run_id,
            }
            for c in computed
        ],
        schema_overrides={"error": pl.String},
    )
    dropped = pl.concat(
        [
            _EMPTY_DROPPED,
            *(
                c.dropped.with_columns(
                    path=pl.lit(str(c.outcome.path)), snapshot_date=pl.lit(c.outcome.snapshot_date)
                )
                for c in computed
                if c.dropped.height
            ),
        ],
        how="diagonal_relaxed",
    )
    connection.register("recorded_files", files)
    connection.register("dropped_rows", dropped)
    try:
        for statement in ("forget_rejected_rows", "forget_files", "record_files"):
            connection.execute(load_sql(statement))
        connection.execute(load_sql("record_rejected_rows"), {"run_id": run_id})
    finally:
        connection.unregister("recorded_files")
        connection.unregister("dropped_rows")


_EMPTY_DROPPED = pl.DataFrame(
    schema={
        "sample_id": pl.String,
        "column_name": pl.String,
        "problem": pl.String,
        "path": pl.String,
        "snapshot_date": pl.String,
    }
)
