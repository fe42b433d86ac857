"""A run as users meet it: the job, then the reports of the nights it touched. The CLI's
run/rerun/backfill/demo and the scheduler all go through `run_then_report`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from pipeline.base.errors import LossgramError
from pipeline.base.progress import Progress, no_progress
from pipeline.base.results import RunSummary
from pipeline.nightly.job_options import open_warehouse
from pipeline.nightly.pending_reports import (
    pending_report_nights,
    record_gate,
    record_reports_outcome,
)
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse

Job = Callable[..., RunSummary]  # nightly.run_job or nightly.rerun_job


def gate(summary: RunSummary, fail_on: Sequence[str]) -> list[str]:
    """Why the run's nights trip fail_on: each verdict named there, and each regression
    since the previous night when `regressed` is named."""
    reasons = [
        f"{v['snapshot_date']} {v['model']} {v['heldout_split']}: {v['verdict']}"
        for v in summary.verdicts
        if v["verdict"] in fail_on
    ]
    if "regressed" in fail_on:
        reasons += [
            f"{c['snapshot_date']} regressed: {c['text']}"
            for c in summary.changes
            if c["severity"] == "regression"
        ]
    return reasons


def run_then_report(
    job: Job,
    settings: Settings,
    *,
    warehouse: Warehouse | None = None,
    progress: Progress = no_progress,
    report_progress: Progress = no_progress,
    default_dates: Sequence[dt.date] = (),
    **arguments: Any,
) -> RunSummary:
    """Run the job, then render the nights it touched (or default_dates when it touched
    none: the demo shows its nights even when they were ingested before). The one
    warehouse of the command is made here unless the caller made it."""
    warehouse = warehouse or open_warehouse(settings)
    try:
        summary = job(settings, warehouse=warehouse, progress=progress, **arguments)
    except Exception as error:  # the driver recorded it; the team is told, then the CLI
        failed = RunSummary(run_id="", command=str(arguments.get("command", "run")))
        failed.status, failed.error = "failed", f"{type(error).__name__}: {error}"
        notify(warehouse, settings, failed)
        raise
    try:
        _report(warehouse, settings, summary, report_progress, default_dates)
    finally:  # a failed or gated run is told too
        notify(warehouse, settings, summary)
    return summary


def _report(
    warehouse: Warehouse,
    settings: Settings,
    summary: RunSummary,
    report_progress: Progress,
    default_dates: Sequence[dt.date],
) -> RunSummary:
    summary.gate = gate(summary, settings.fail_on)
    if summary.gate:
        record_gate(warehouse, settings.lock_timeout, summary)
    if not summary.snapshot_dates:
        summary.snapshot_dates = list(default_dates)
    pending = pending_report_nights(warehouse, summary.snapshot_dates)
    nights = sorted({*summary.snapshot_dates, *pending})
    if not nights:
        return summary
    # Imported here: the report layer (altair, jinja2) loads only when pages are written.
    from pipeline.report.publish import published, reports_folder
    from pipeline.report.writing import write_reports

    folder = reports_folder(settings.reports, warehouse.catalog)  # a mirror for a URI
    try:
        pages = write_reports(
            warehouse,
            folder,
            settings.report_options(),
            nights,
            resume=True,  # a render that failed part-way keeps the pages it wrote
            progress=report_progress,
        )
        summary.reports = published(pages, folder, settings.reports)
    except Exception as error:  # the data landed: the run says so, the next one renders
        message = f"reports not written to {settings.reports}: {_reason(error, nights)}"
        record_reports_outcome(warehouse, settings.lock_timeout, summary, nights, message)
        return summary
    if pending:
        record_reports_outcome(warehouse, settings.lock_timeout, summary, pending, None)
    return summary


def notify(warehouse: Warehouse, settings: Settings, summary: RunSummary) -> None:
    """Send the run's notifications (notify, notify_on) and say what became of each in
    the summary. Bounded per target; never changes the run's status or exit code."""
    if not settings.notify:
        return
    from pipeline.notify.deliver import notify_run  # Apprise loads only when notifying

    try:
        sent = notify_run(
            warehouse, settings.notify_options(), settings.lock_timeout, summary.to_json(),
            summary.snapshot_dates,
        )  # fmt: skip
    except Exception as error:  # a note lost (the ledger busy, a bug) never fails the run
        reason = str(error) if isinstance(error, LossgramError) else type(error).__name__
        summary.notifications = [{"target": "all", "status": "failed", "reason": reason}]
        return
    summary.notifications = [
        {"snapshot_date": one.snapshot_date, "target": d.target, "status": d.status,
         "reason": d.reason}
        for one in sent
        for d in one.deliveries
    ]  # fmt: skip


def _reason(error: Exception, nights: Sequence[dt.date]) -> str:
    """Why the pages were not written, in lossgram's words: its own errors and the file
    system's say it; anything else is a fault of lossgram's, named with how to see it."""
    if isinstance(error, LossgramError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return (
        f"an internal error ({type(error).__name__}); "
        f"`lossgram --debug report --date {nights[-1]}` shows where"
    )
