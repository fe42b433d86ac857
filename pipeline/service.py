"""A run as users meet it: the job, then the reports of the nights it touched. The CLI's
run/rerun/backfill/demo and the scheduler all go through `run_then_report`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from pipeline.ledger import RunSummary
from pipeline.progress import Progress, no_progress
from pipeline.settings import Settings

Job = Callable[..., RunSummary]  # nightly.run_job or nightly.rerun_job


def run_then_report(
    job: Job,
    settings: Settings,
    *,
    progress: Progress = no_progress,
    report_progress: Progress = no_progress,
    default_dates: Sequence[str] = (),
    **arguments: Any,
) -> RunSummary:
    """Run the job, then render the nights it touched (or default_dates when it touched
    none: the demo shows its nights even when they were ingested before)."""
    summary = job(settings, progress=progress, **arguments)
    if not summary.snapshot_dates:
        summary.snapshot_dates = list(default_dates)
    if summary.snapshot_dates:
        # Imported here: the report layer (altair, jinja2) loads only when pages are written.
        from pipeline.report.pages import write_reports

        pages = write_reports(
            settings.warehouse,
            settings.reports,
            settings.report_options(),
            [dt.date.fromisoformat(day) for day in summary.snapshot_dates],
            progress=report_progress,
        )
        summary.reports = [str(page) for page in pages]
    return summary
