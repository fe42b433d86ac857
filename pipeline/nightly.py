"""The nightly job, wired: find -> plan -> compute -> land -> aggregate, one snapshot per
transaction. Each step is a call into the module that owns it; reports come after
(pipeline/service.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from pipeline.aggregates import aggregate_snapshot
from pipeline.bins import BinScheme
from pipeline.compute import IngestOptions, compute_snapshot
from pipeline.inbox import InboxError, InboxPlan, plan_inbox, verify_recorded
from pipeline.layout import partition_swapped_out, place, recover, staging_folder
from pipeline.ledger import (
    STATUS_FAILED,
    STATUS_PARTIAL,
    STATUS_SUCCEEDED,
    ComputedDump,
    RunSummary,
    finish_run,
    known_fingerprints,
    record_dumps,
    recorded_dumps,
    run_verdicts,
    start_run,
)
from pipeline.options import AnalysisOptions
from pipeline.progress import Progress, no_progress
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, WarehouseError, transaction

PlanStep = Callable[[duckdb.DuckDBPyConnection], InboxPlan]


@dataclass(frozen=True)
class JobOptions:
    """What one run needs from the settings, made once at its start."""

    ingest: IngestOptions
    analysis: AnalysisOptions
    scheme: BinScheme
    lock_timeout: float

    @classmethod
    def from_settings(cls, settings: Settings, only_model: str | None = None) -> JobOptions:
        skip = settings.bad_rows == "skip"
        ingest = IngestOptions(settings.reader_options(), skip, only_model)
        return cls(
            ingest, settings.analysis_options(), settings.bin_scheme(), settings.lock_timeout
        )


def run_job(
    settings: Settings,
    *,
    snapshot_date: dt.date | None = None,
    date_range: tuple[dt.date, dt.date] | None = None,
    command: str = "run",
    progress: Progress = no_progress,
) -> RunSummary:
    """The nightly job: new or changed dumps in the inbox -> losses, aggregates, verdicts.

    With date_range (backfill) only date folders inside the range are read.
    """
    default_date = snapshot_date or dt.date.today()

    def plan(connection: duckdb.DuckDBPyConnection) -> InboxPlan:
        known = known_fingerprints(connection)
        return plan_inbox(settings.inbox, known, default_date, date_range)

    warehouse = Warehouse(settings.warehouse, settings.duckdb_memory_limit)
    return _locked_run(warehouse, JobOptions.from_settings(settings), command, plan, progress)


def rerun_job(
    settings: Settings,
    snapshot_date: dt.date,
    *,
    model: str | None = None,
    progress: Progress = no_progress,
) -> RunSummary:
    """Re-read a date's recorded dumps (sha256 verified) and replace that date's rows (or
    one model's)."""

    def plan(connection: duckdb.DuckDBPyConnection) -> InboxPlan:
        paths = verify_recorded(snapshot_date, recorded_dumps(connection, snapshot_date))
        return InboxPlan({snapshot_date: paths}, files_seen=len(paths), files_unchanged=0)

    warehouse = Warehouse(settings.warehouse, settings.duckdb_memory_limit)
    options = JobOptions.from_settings(settings, model)
    return _locked_run(warehouse, options, "rerun", plan, progress, replacing=True)


def _locked_run(
    warehouse: Warehouse,
    options: JobOptions,
    command: str,
    plan: PlanStep,
    progress: Progress,
    *,
    replacing: bool = False,
) -> RunSummary:
    """Take the lock, record the run, land each snapshot in its own transaction."""
    started = time.monotonic()
    summary = RunSummary(run_id=uuid.uuid4().hex[:12], command=command)
    with warehouse.lock(options.lock_timeout):
        recover(warehouse.layout)
        with contextlib.closing(warehouse.connect()) as connection:
            start_run(connection, summary.run_id, command)
            try:
                planned = plan(connection)
            except (InboxError, WarehouseError) as error:
                summary.status, summary.error = STATUS_FAILED, str(error)
                _finish(connection, summary, started)
                return summary
        summary.files_seen, summary.files_unchanged = planned.files_seen, planned.files_unchanged
        try:
            _land_snapshots(warehouse, options, summary, planned, progress, replacing)
            summary.status = STATUS_PARTIAL if summary.files_rejected else STATUS_SUCCEEDED
        except Exception as error:  # recorded in job_runs, then re-raised for the CLI
            summary.status, summary.error = STATUS_FAILED, f"{type(error).__name__}: {error}"
            with contextlib.closing(warehouse.connect()) as connection:
                _finish(connection, summary, started)
            raise
        with contextlib.closing(warehouse.connect()) as connection:
            if summary.snapshot_dates:
                summary.verdicts = run_verdicts(connection, summary.snapshot_dates)
            _finish(connection, summary, started)
    return summary


def _finish(connection: duckdb.DuckDBPyConnection, summary: RunSummary, started: float) -> None:
    summary.seconds = time.monotonic() - started
    finish_run(connection, summary)


def _land_snapshots(
    warehouse: Warehouse,
    options: JobOptions,
    summary: RunSummary,
    planned: InboxPlan,
    progress: Progress,
    replacing: bool,
) -> None:
    """Each planned snapshot, oldest first: compute, place, record and aggregate."""
    total = sum(len(paths) for paths in planned.by_date.values())
    done = 0
    for snapshot_date in sorted(planned.by_date):
        paths = planned.by_date[snapshot_date]

        def step(count: int, _: int, name: str, offset: int = done) -> None:
            progress(offset + count, total, name)

        layout = warehouse.layout
        with staging_folder(layout, summary.run_id, snapshot_date) as staging:
            computed = compute_snapshot(paths, staging, snapshot_date, options.ingest, step)
            summary.outcomes.extend(result.outcome for result in computed)
            model = options.ingest.only_model
            swap = (
                partition_swapped_out(layout, staging, snapshot_date, model)
                if replacing
                else contextlib.nullcontext()
            )
            with swap:
                for result in computed:
                    if result.staged is not None:
                        place(layout, snapshot_date, result.outcome.path, result.staged, model)
                _commit_snapshot(warehouse, options, summary.run_id, snapshot_date, computed)
        done += len(paths)
        summary.snapshot_dates.append(snapshot_date.isoformat())


def _commit_snapshot(
    warehouse: Warehouse,
    options: JobOptions,
    run_id: str,
    snapshot_date: dt.date,
    computed: list[ComputedDump],
) -> None:
    """The ledger and the aggregates of one snapshot, in one transaction."""
    with contextlib.closing(warehouse.connect()) as connection:
        # Binding the view reads every file's footer: only after files were placed.
        warehouse.refresh_losses_view(connection)
        with transaction(connection):
            record_dumps(connection, run_id, computed)
            warehouse.register_bin_scheme(connection, options.scheme)
            only = options.ingest.only_model
            models = [only] if only else None
            aggregate_snapshot(connection, snapshot_date, options.analysis, options.scheme, models)
