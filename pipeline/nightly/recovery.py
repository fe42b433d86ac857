"""Opening the warehouse for writing: what a dead run left is cleared, this run is
recorded, its dumps are planned, files no commit lists are removed and exports a dead
run missed are caught up. Runs under the writer lock, before any night lands."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from pipeline.base.errors import InboxError, WarehouseError
from pipeline.base.results import STATUS_FAILED, RunSummary
from pipeline.ingest.inbox import InboxPlan
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.exports import catch_up_exports
from pipeline.warehouse.histogram_files import move_out_histograms
from pipeline.warehouse.layout import (
    LOSSES_FOLDER,
    PlacedFile,
    clear_work_in_progress,
    remove_unreferenced,
    write_manifest,
)
from pipeline.warehouse.ledger import (
    Lineage,
    changed_files,
    finish_run,
    kept_files,
    live_files,
    manifest_text,
    record_skipped,
    stale_snapshots,
    start_run,
)

if TYPE_CHECKING:
    from pipeline.ingest.admission import SliceType

PlanStep = Callable[[duckdb.DuckDBPyConnection], InboxPlan]
# Replaced files stay on disk this long after the commit that retired them, for readers
# that opened the catalog before it (an analyst's session, a long query).
RETIRED_FILES_KEPT_SECONDS = 3600.0


@dataclass(frozen=True)
class OpenedRun:
    """What a run knows once it is recorded: the files committed when it started, the
    slice column types so far, and its plan (None when planning failed, as recorded)."""

    committed: list[PlacedFile]
    planned: InboxPlan | None
    slice_types: dict[str, SliceType] = field(default_factory=dict)


def open_for_writing(
    warehouse: Warehouse, summary: RunSummary, lineage: Lineage, plan: PlanStep, started: float
) -> OpenedRun:
    """Clear a dead run's work, record this run and plan it in one commit, then remove
    the files that commit does not list and catch up the exports."""
    clear_work_in_progress(warehouse.layout)
    planned = None
    with warehouse.commit() as catalog:
        start_run(catalog, summary.run_id, summary.command, lineage)
        # Histograms an older lossgram kept in the catalog leave it in the first commit
        # (before the files to keep are listed: the new files are among them).
        move_out_histograms(catalog, warehouse.layout, summary.run_id)
        summary.stale_snapshots = stale_snapshots(catalog, lineage)
        kept = kept_files(catalog, RETIRED_FILES_KEPT_SECONDS)
        committed = live_files(catalog)
        manifest = manifest_text(catalog, f"{summary.run_id}:start")
        on_disk = warehouse.layout.store.sizes(LOSSES_FOLDER)  # once: it grows with nights
        summary.changed_files = changed_files(catalog, on_disk)
        warehouse.follow_move(catalog)
        try:
            planned = plan(catalog)
            if planned.skipped:
                record_skipped(catalog, summary.run_id, planned.skipped)
                summary.skipped = planned.skipped
        except (InboxError, WarehouseError) as error:
            summary.status, summary.error = STATUS_FAILED, str(error)
            finish(catalog, summary, started)
        slice_types = _slice_types(catalog) if planned and planned.by_date else {}
    write_manifest(warehouse.layout, manifest)
    # Only what the catalog now lists stays: files of a run that died go.
    remove_unreferenced(warehouse.layout, kept, on_disk)
    with warehouse.reading(losses_view=False) as catalog:
        catch_up_exports(catalog, warehouse.layout)  # a run that died before its export
    if planned is not None:
        summary.files_seen, summary.files_unchanged = planned.files_seen, planned.files_unchanged
        summary.rejected_unchanged = planned.rejected_unchanged
    return OpenedRun(committed, planned, slice_types)


def finish(connection: duckdb.DuckDBPyConnection, summary: RunSummary, started: float) -> None:
    """The run's outcome and duration in job_runs, inside the caller's commit."""
    summary.seconds = time.monotonic() - started
    finish_run(connection, summary)


def _slice_types(connection: duckdb.DuckDBPyConnection) -> dict[str, SliceType]:
    # Admission loads Polars and pyarrow: only a run with dumps to land imports it.
    from pipeline.ingest.admission import slice_column_types

    return slice_column_types(connection)
