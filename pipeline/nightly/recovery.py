"""Opening the warehouse for writing: what a dead run left is cleared, this run is noted
on disk, its dumps are planned from the committed catalog, files no commit lists are
removed and exports a dead run missed are caught up. Runs under the writer lock, before
any night lands, and commits nothing itself (pipeline/nightly/run_commits.py): the run's
first commit records what it found, unless the catalog must first be made or upgraded,
or planning failed (recorded as the run's outcome)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from pipeline.base.errors import InboxError, WarehouseError
from pipeline.base.faults import fault_point
from pipeline.base.results import STATUS_FAILED, RunSummary
from pipeline.ingest.inbox import InboxPlan
from pipeline.nightly.run_commits import RunCommits
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.exports import catch_up_exports
from pipeline.warehouse.histogram_files import move_out_histograms
from pipeline.warehouse.journal import EVERYWHERE, RunNote, forget_notes, read_notes, write_note
from pipeline.warehouse.layout import (
    PlacedFile,
    clear_work_in_progress,
    remove_unreferenced,
    write_manifest,
)
from pipeline.warehouse.ledger import (
    Lineage,
    changed_files,
    ended_runs,
    expired_files,
    forget_retired,
    kept_files,
    live_files,
    manifest_text,
    record_skipped,
    run_record,
    runs_running,
    stale_snapshots,
)
from pipeline.warehouse.queries import execute

if TYPE_CHECKING:
    from pipeline.ingest.admission import SliceType

PlanStep = Callable[[duckdb.DuckDBPyConnection], InboxPlan]
# Replaced files stay on disk this long after the commit that retired them, for readers
# that opened the catalog before it (an analyst's session, a long query).
RETIRED_FILES_KEPT_SECONDS = 3600.0


@dataclass(frozen=True)
class OpenedRun:
    """What a run knows once it is open: its commits, the committed files of the nights
    it lands, the slice column types so far, and its plan (None when planning failed, as
    recorded)."""

    commits: RunCommits
    committed: list[PlacedFile]
    planned: InboxPlan | None
    slice_types: dict[str, SliceType] = field(default_factory=dict)


def open_for_writing(
    warehouse: Warehouse, summary: RunSummary, lineage: Lineage, plan: PlanStep, started: float
) -> OpenedRun:
    """Clear a dead run's work and note this run, plan it from the committed catalog,
    then remove the files no commit lists where earlier runs wrote, and catch up the
    exports. Commits only to make or upgrade the catalog, or to record a failed plan."""
    layout = warehouse.layout
    clear_work_in_progress(layout)
    notes = read_notes(layout)
    started_at = dt.datetime.now(dt.UTC)
    record = run_record(summary.run_id, summary.command, lineage, started_at)
    reader = _committed_reader(warehouse)
    made = reader is None
    # An upgrade may adopt an older lossgram's files in any night: noted before it.
    upgraded = made and warehouse.catalog.exists()
    write_note(layout, record, [EVERYWHERE] if upgraded else [])  # before anything is written
    if made:
        reader = _make_or_upgrade(warehouse, record)
    assert reader is not None
    dead = [note.run for note in notes or [] if note.run is not None]
    commits = RunCommits(warehouse, summary, lineage, started, started_at)
    planned = None
    with contextlib.closing(reader) as catalog:
        summary.stale_snapshots = stale_snapshots(catalog, lineage)
        expired = expired_files(catalog, RETIRED_FILES_KEPT_SECONDS)
        manifest = manifest_text(catalog, f"{summary.run_id}:start")
        summary.changed_files = changed_files(catalog, layout.store)
        ended = ended_runs(catalog, [run["run_id"] for run in dead])
        commits.dead = [run for run in dead if run["run_id"] not in ended]
        folders = _folders_to_clean(catalog, notes, ended, made)
        kept = kept_files(catalog, expired) if folders != [] else set()
        try:
            planned = plan(catalog)
        except (InboxError, WarehouseError) as error:
            summary.status, summary.error = STATUS_FAILED, str(error)
        nights = sorted(planned.by_date) if planned else []
        committed = live_files(catalog, nights) if nights else []
        slice_types = _slice_types(catalog) if nights else {}
        # Histograms an older lossgram kept in the catalog leave it in the first commit,
        # each night to a file of its own.
        legacy = bool(execute(catalog, "histogram_row_nights"))
        catch_up_exports(catalog, layout)  # a run that died before its export
    # The folders this run may write data files into, on disk before it places one.
    everywhere = upgraded or legacy
    write_note(layout, record, [EVERYWHERE] if everywhere else _night_folders(warehouse, nights))
    write_manifest(layout, manifest)
    # Only what the catalog lists stays: files of a run that died go, and replaced files
    # no reader can still need.
    layout.store.remove(expired)
    if folders != []:
        remove_unreferenced(layout, kept, folders)
    _owe_the_start(commits, expired, planned, legacy)
    commits.after_first.append(lambda: forget_notes(layout, notes or []))
    fault_point("after_start")  # noted, cleaned and planned; nothing committed
    if planned is None:  # the failed plan is the run's outcome
        with commits.commit() as catalog:
            commits.finish(catalog, [])
        return OpenedRun(commits, committed, None)
    summary.files_seen, summary.files_unchanged = planned.files_seen, planned.files_unchanged
    summary.rejected_unchanged = planned.rejected_unchanged
    if planned.skipped:
        summary.skipped = planned.skipped
    return OpenedRun(commits, committed, planned, slice_types)


def _committed_reader(warehouse: Warehouse) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to the committed catalog, when a run can plan from it as
    it is: None when there is none yet, when it is older than this lossgram, or when a
    session left a write-ahead log beside it or holds it read-write (a commit folds the
    log in, or refuses with the reason)."""
    catalog = warehouse.catalog
    if not catalog.exists() or catalog.with_name(catalog.name + ".wal").exists():
        return None
    try:  # refuses a catalog of another schema version (WarehouseError)
        return warehouse.connect(losses_view=False)
    except (duckdb.Error, WarehouseError):
        return None


def _make_or_upgrade(warehouse: Warehouse, record: dict[str, object]) -> duckdb.DuckDBPyConnection:
    """A commit that makes the catalog or upgrades it, then a reader of it. A refusal (a
    newer catalog, a session holding it) wrote nothing: its note goes."""
    try:
        with warehouse.commit():
            pass
    except WarehouseError:
        forget_notes(warehouse.layout, [RunNote(f"{record['run_id']}.json", None)])
        raise
    return warehouse.connect(losses_view=False)


def _folders_to_clean(
    catalog: duckdb.DuckDBPyConnection,
    notes: Sequence[RunNote] | None,
    ended: set[str],
    made: bool,
) -> list[str] | None:
    """Where files no commit lists may be: the folders the earlier runs' notes name when
    the catalog records each of those runs as ended; None (everywhere) after a run that
    died, an unreadable note, a run an older lossgram left running, no notes at all, or
    a catalog just made or upgraded."""
    if made or notes is None or runs_running(catalog):
        return None
    folders: set[str] = set()
    for note in notes:
        if note.run is None or note.run_id not in ended or EVERYWHERE in note.folders:
            return None
        folders.update(note.folders)
    return sorted(folders)


def _night_folders(warehouse: Warehouse, nights: Sequence[dt.date]) -> list[str]:
    return [folder for night in nights for folder in warehouse.layout.night_folders(night)]


def _owe_the_start(
    commits: RunCommits, expired: list[str], planned: InboxPlan | None, legacy: bool
) -> None:
    """What the start found, for the run's first commit to record: the retired files it
    deleted, the inbox entries it skipped, a moved warehouse's view, an older lossgram's
    histograms."""
    warehouse, run_id = commits.warehouse, commits.summary.run_id
    commits.owe(lambda catalog: forget_retired(catalog, expired))
    if planned is not None and planned.skipped:
        skipped = planned.skipped
        commits.owe(lambda catalog: record_skipped(catalog, run_id, skipped))
    commits.owe(warehouse.follow_move)
    if legacy:
        commits.owe(lambda catalog: _move_out(warehouse, catalog, run_id))


def _move_out(warehouse: Warehouse, catalog: duckdb.DuckDBPyConnection, run_id: str) -> None:
    move_out_histograms(catalog, warehouse.layout, run_id)


def _slice_types(connection: duckdb.DuckDBPyConnection) -> dict[str, SliceType]:
    # Admission loads Polars and pyarrow: only a run with dumps to land imports it.
    from pipeline.ingest.admission import slice_column_types

    return slice_column_types(connection)
