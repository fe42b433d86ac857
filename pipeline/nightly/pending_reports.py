"""What a run records after its last commit: which nights still need their pages and
what became of writing them, and why it tripped the fail_on gate. Small commits of
their own, so the driver is never entered again after the report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pipeline.base.results import STATUS_PARTIAL, STATUS_SUCCEEDED, RunSummary
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.queries import execute


def pending_report_nights(warehouse: Warehouse, committed: Sequence[dt.date] = ()) -> list[dt.date]:
    """Nights whose pages an earlier run could not write, and the night after each night
    just committed (its "what changed" compares with the night before it, which a late
    dump may have just brought or changed)."""
    if not warehouse.catalog.exists():
        return []
    with warehouse.reading(losses_view=False) as connection:
        pending = [day for (day,) in execute(connection, "pending_reports")]
        nights = [day for day, _ in execute(connection, "committed_nights")]
    following = [next((n for n in nights if n > day), None) for day in committed]
    return sorted({*pending, *(day for day in following if day is not None)})


def record_reports_outcome(
    warehouse: Warehouse,
    lock_timeout: float,
    summary: RunSummary,
    nights: Sequence[dt.date],
    error: str | None,
) -> None:
    """After the pages: a failure makes the run partial and leaves its nights pending
    (the data landed; the next run renders them); a success clears pending nights."""
    dates = list(nights)
    with warehouse.lock(lock_timeout), warehouse.commit() as catalog:
        if error is None:
            execute(catalog, "clear_pending_reports", {"nights": dates})
            return
        execute(catalog, "add_pending_reports", {"nights": dates})
        execute(catalog, "mark_reports_failed", {"run_id": summary.run_id, "error": error})
    if summary.status == STATUS_SUCCEEDED:
        summary.status = STATUS_PARTIAL
    summary.error = f"{summary.error}; {error}" if summary.error else error


def record_gate(warehouse: Warehouse, lock_timeout: float, summary: RunSummary) -> None:
    """Why the run trips fail_on, in job_runs beside its status (history shows it)."""
    with warehouse.lock(lock_timeout), warehouse.commit() as catalog:
        execute(catalog, "record_run_gate", {"run_id": summary.run_id, "gate": summary.gate})
