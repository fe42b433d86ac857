"""One nightly run, wired: open the warehouse for writing (recovering from a dead run)
and plan -> land each night -> finish. Each step is a call into the module that owns it
(nightly/recovery.py, nightly/landing.py); the pages come after, in nightly/service.py.

A commit is one transaction on a copy of the catalog, swapped in by a rename
(warehouse/catalog.py): the ledger, the list of live files and the aggregates of a night
become visible together, or not at all. A run commits once per night it lands, the last
commit recording its outcome too (nightly/run_commits.py). Files are placed under
run-unique names before the commit and count only once it lists them; a run that dies
leaves files no commit lists, in the folders its note names (warehouse/journal.py), and
the next run removes them.

Landing a night loads the data libraries (Polars, pyarrow, numpy): its steps are
imported where a night lands, so a run that finds nothing new starts without them.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline.base.errors import InboxError
from pipeline.base.faults import fault_point
from pipeline.base.progress import Progress, no_progress
from pipeline.base.results import STATUS_FAILED, STATUS_PARTIAL, RunSummary
from pipeline.ingest.inbox import InboxPlan, plan_inbox, verify_recorded
from pipeline.nightly.job_options import JobOptions, open_warehouse
from pipeline.nightly.landing import CommittedAtStart, land_nights
from pipeline.nightly.recovery import PlanStep, open_for_writing
from pipeline.nightly.run_commits import RunCommits, landed_status
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.ledger import (
    dumps_of_model,
    known_dumps,
    recorded_dumps,
    recorded_inboxes,
)

if TYPE_CHECKING:
    from pipeline.spark.session import SparkSession


def run_job(
    settings: Settings,
    *,
    warehouse: Warehouse | None = None,
    snapshot_date: dt.date | None = None,
    date_range: tuple[dt.date, dt.date] | None = None,
    command: str = "run",
    progress: Progress = no_progress,
    spark: SparkSession | None = None,
) -> RunSummary:
    """The nightly job: new or changed dumps in the inbox -> losses, aggregates, verdicts.
    With `spark` (or the setting engine = spark) the losses are computed on Spark. The
    command's warehouse is passed in (one made from the settings when none is).

    With date_range (backfill) only date folders inside the range are read.
    """
    default_date = snapshot_date or dt.date.today()
    if not settings.inbox.is_dir():  # checked before anything is created
        raise InboxError(
            f"no inbox folder at {settings.inbox}: create it or pass --inbox "
            "(dumps go in it, or in YYYY-MM-DD/ folders inside it)"
        )
    if date_range is not None and date_range[0] > date_range[1]:
        raise InboxError(f"--start {date_range[0]} is after --end {date_range[1]}")

    def plan(connection: duckdb.DuckDBPyConnection) -> InboxPlan:
        known = known_dumps(connection)
        return plan_inbox(settings.inbox, known, default_date, date_range)

    warehouse = warehouse or open_warehouse(settings)
    options = JobOptions.from_settings(settings, warehouse.layout, spark=spark)
    return _locked_run(warehouse, options, command, plan, progress)


def rerun_job(
    settings: Settings,
    snapshot_date: dt.date,
    *,
    warehouse: Warehouse | None = None,
    model: str | None = None,
    progress: Progress = no_progress,
    spark: SparkSession | None = None,
) -> RunSummary:
    """Re-read a date's recorded dumps (sha256 verified) and replace that date's rows (or
    one model's), with the current settings."""

    def plan(connection: duckdb.DuckDBPyConnection) -> InboxPlan:
        recorded = recorded_dumps(connection, snapshot_date)
        if model is not None:  # only that model's dumps are checked and read again
            wanted = set(dumps_of_model(connection, snapshot_date, model))
            recorded = [dump for dump in recorded if dump.path in wanted]
        inbox_now = settings.inbox.resolve()
        paths, moved_from = verify_recorded(snapshot_date, recorded, inbox_now)
        inboxes = [Path(inbox) for inbox in recorded_inboxes(connection, snapshot_date)]
        # Dumps found in today's inbox (the project moved) take their folders from it.
        inbox = inbox_now if moved_from else inboxes[0] if len(inboxes) == 1 else None
        return InboxPlan({snapshot_date: paths}, len(paths), 0, inbox, moved_from=moved_from)

    warehouse = warehouse or open_warehouse(settings)
    options = JobOptions.from_settings(settings, warehouse.layout, model, spark)
    return _locked_run(warehouse, options, "rerun", plan, progress, rerun=True)


def _locked_run(
    warehouse: Warehouse,
    options: JobOptions,
    command: str,
    plan: PlanStep,
    progress: Progress,
    *,
    rerun: bool = False,
) -> RunSummary:
    """Under the writer lock: open for writing and plan, land each night (the last
    night's commit records the outcome), then commit the outcome only when no night
    landed or it changed since."""
    started = time.monotonic()
    summary = RunSummary(run_id=uuid.uuid4().hex[:12], command=command)
    with warehouse.lock(options.lock_timeout):
        opened = open_for_writing(warehouse, summary, options.lineage, plan, started)
        if opened.planned is None:  # planning failed: recorded as the run's outcome
            return summary
        commits = opened.commits
        known = CommittedAtStart(
            opened.committed, opened.slice_types, rerun, opened.planned.moved_from
        )
        # Dumps take key=value folders only from inside the inbox they came from.
        reader = replace(options.ingest.reader, folders_below=opened.planned.inbox)
        options = replace(options, ingest=replace(options.ingest, reader=reader))
        try:
            land_nights(commits, options, summary, opened.planned, progress, known)
            summary.status = landed_status(summary)
            if options.lakehouse is not None:
                _mirror_lakehouse(warehouse, options.lakehouse, summary)
        except Exception as error:  # recorded in job_runs, then re-raised for the CLI
            summary.status, summary.error = STATUS_FAILED, f"{type(error).__name__}: {error}"
            _finish(commits, summary)
            raise
        if not commits.outcome_recorded():  # nothing landed, or the lakehouse failed
            _finish(commits, summary)
    return summary


def _mirror_lakehouse(warehouse: Warehouse, location: str, summary: RunSummary) -> None:
    """The committed nights the Delta tables do not mirror yet (this run's, and any an
    earlier run left behind), written. A lakehouse that cannot be written makes the run
    partial, its data landed; the next run catches it up."""
    from pipeline.warehouse.lakehouse import LakehouseError, catch_up_lakehouse

    fault_point("before_lakehouse")
    try:
        with warehouse.reading() as catalog:
            catch_up_lakehouse(catalog, location)
    except Exception as error:  # committed already: the next run catches the tables up
        reason = str(error) if isinstance(error, LakehouseError) else type(error).__name__
        summary.status = STATUS_PARTIAL
        summary.error = f"{summary.error}; {reason}" if summary.error else reason


def _finish(commits: RunCommits, summary: RunSummary) -> None:
    """A commit of the run's outcome alone (its nights committed before it)."""
    with commits.commit() as catalog:
        commits.finish(catalog, summary.snapshot_dates)
