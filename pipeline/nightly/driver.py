"""The nightly job, wired: find -> plan -> compute -> land -> aggregate, one commit per
snapshot. Each step is a call into the module that owns it; reports come after
(pipeline/nightly/service.py).

A commit is one transaction on a copy of the catalog, swapped in by a rename
(warehouse.py): the ledger, the list of live files and the aggregates of a night become
visible together, or not at all. Files are placed under run-unique names before the
commit and count only once it lists them; a run that dies leaves files no commit lists,
and the next run removes them.

Landing a night loads the data libraries (Polars, pyarrow, numpy): its steps are
imported where a night lands, so a run that finds nothing new starts without them.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline import __version__
from pipeline.analysis.bins import BinScheme
from pipeline.analysis.changes import night_changes
from pipeline.base.errors import InboxError
from pipeline.base.faults import fault_point
from pipeline.base.options import AnalysisOptions, IngestOptions
from pipeline.base.progress import Progress, no_progress
from pipeline.base.results import (
    STATUS_FAILED,
    STATUS_PARTIAL,
    STATUS_SUCCEEDED,
    ComputedDump,
    RunSummary,
)
from pipeline.ingest.inbox import InboxPlan, plan_inbox, verify_recorded
from pipeline.nightly.engine import Engine, engine_for
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse, WarehouseError
from pipeline.warehouse.exports import catch_up_exports, export_night
from pipeline.warehouse.layout import (
    PlacedFile,
    carry_over,
    clear_work_in_progress,
    flush_names,
    place,
    remove_unreferenced,
    staging_folder,
    write_manifest,
)
from pipeline.warehouse.ledger import (
    Lineage,
    commit_files,
    dumps_of_model,
    finish_run,
    kept_files,
    known_dumps,
    live_files,
    record_dumps,
    record_skipped,
    record_snapshot,
    recorded_dumps,
    recorded_inboxes,
    run_verdicts,
    stale_snapshots,
    start_run,
)
from pipeline.warehouse.queries import execute

if TYPE_CHECKING:
    from pipeline.ingest.admission import SliceType
    from pipeline.spark.session import SparkSession

PlanStep = Callable[[duckdb.DuckDBPyConnection], InboxPlan]
# Replaced files stay on disk this long after the commit that retired them, for readers
# that opened the catalog before it (an analyst's session, a long query).
RETIRED_FILES_KEPT_SECONDS = 3600.0


@dataclass(frozen=True)
class JobOptions:
    """What one run needs from the settings, made once at its start."""

    ingest: IngestOptions
    analysis: AnalysisOptions
    scheme: BinScheme
    lock_timeout: float
    lineage: Lineage
    engine: Engine = field(default_factory=Engine)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        only_model: str | None = None,
        spark: SparkSession | None = None,
    ) -> JobOptions:
        skip = settings.bad_rows == "skip"
        timeout = settings.dump_timeout or None
        ingest = IngestOptions(settings.reader_options(), skip, only_model, timeout)
        analysis, scheme = settings.analysis_options(), settings.bin_scheme()
        loss = {**asdict(settings.loss_spec()), "bad_rows": settings.bad_rows}
        engine_name = "spark" if spark is not None else settings.engine
        lineage = Lineage(
            __version__,
            # The engine does not shape the numbers beyond the sketches' stated bounds,
            # but a night's lineage says which one made it.
            {**loss, "bins": scheme.scheme_id, **asdict(analysis), "engine": engine_name},
            loss,
        )
        engine = engine_for(settings, spark)
        return cls(ingest, analysis, scheme, settings.lock_timeout, lineage, engine)


def run_job(
    settings: Settings,
    *,
    snapshot_date: dt.date | None = None,
    date_range: tuple[dt.date, dt.date] | None = None,
    command: str = "run",
    progress: Progress = no_progress,
    spark: SparkSession | None = None,
) -> RunSummary:
    """The nightly job: new or changed dumps in the inbox -> losses, aggregates, verdicts.
    With `spark` (or the setting engine = spark) the losses are computed on Spark.

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

    warehouse = Warehouse(settings.warehouse, settings.duckdb_memory_limit, settings.catalog)
    options = JobOptions.from_settings(settings, spark=spark)
    return _locked_run(warehouse, options, command, plan, progress)


def rerun_job(
    settings: Settings,
    snapshot_date: dt.date,
    *,
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

    warehouse = Warehouse(settings.warehouse, settings.duckdb_memory_limit, settings.catalog)
    options = JobOptions.from_settings(settings, model, spark)
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
    """Take the lock, clean up after a dead run, record this one, land each snapshot."""
    started = time.monotonic()
    summary = RunSummary(run_id=uuid.uuid4().hex[:12], command=command)
    with warehouse.lock(options.lock_timeout):
        clear_work_in_progress(warehouse.layout)
        planned = None
        with warehouse.commit() as catalog:
            start_run(catalog, summary.run_id, command, options.lineage)
            summary.stale_snapshots = stale_snapshots(catalog, options.lineage)
            kept = kept_files(catalog, RETIRED_FILES_KEPT_SECONDS)
            committed = live_files(catalog)
            warehouse.follow_move(catalog)
            try:
                planned = plan(catalog)
                if planned.skipped:
                    record_skipped(catalog, summary.run_id, planned.skipped)
                    summary.skipped = planned.skipped
            except (InboxError, WarehouseError) as error:
                summary.status, summary.error = STATUS_FAILED, str(error)
                _finish(catalog, summary, started)
            slice_types = _slice_types(catalog) if planned and planned.by_date else {}
        write_manifest(warehouse.layout, committed, f"{summary.run_id}:start")
        # Only what the catalog now lists stays: files of a run that died go.
        remove_unreferenced(warehouse.layout, kept)
        with warehouse.reading(losses_view=False) as catalog:
            catch_up_exports(catalog, warehouse.layout)  # a run that died before its export
        if planned is None:
            return summary
        summary.files_seen, summary.files_unchanged = planned.files_seen, planned.files_unchanged
        try:
            tonight = _Night(committed, slice_types, rerun, planned.moved_from)
            # Dumps take key=value folders only from inside the inbox they came from.
            reader = replace(options.ingest.reader, folders_below=planned.inbox)
            options = replace(options, ingest=replace(options.ingest, reader=reader))
            if planned.by_date:
                _land_snapshots(warehouse, options, summary, planned, progress, tonight)
            summary.status = STATUS_PARTIAL if summary.files_rejected else STATUS_SUCCEEDED
        except Exception as error:  # recorded in job_runs, then re-raised for the CLI
            summary.status, summary.error = STATUS_FAILED, f"{type(error).__name__}: {error}"
            with warehouse.commit() as catalog:
                _finish(catalog, summary, started)
                # Nights it committed before failing still need their pages.
                execute(catalog, "add_pending_reports", {"nights": summary.snapshot_dates})
            raise
        with warehouse.commit() as catalog:
            if summary.snapshot_dates:
                summary.verdicts = run_verdicts(catalog, summary.snapshot_dates)
                summary.changes = [
                    {"snapshot_date": night, **change.as_json()}
                    for night in summary.snapshot_dates
                    for change in night_changes(catalog, dt.date.fromisoformat(night))
                ]
            _finish(catalog, summary, started)
    return summary


def _slice_types(connection: duckdb.DuckDBPyConnection) -> dict[str, SliceType]:
    from pipeline.ingest.admission import slice_column_types

    return slice_column_types(connection)


@dataclass
class _Night:
    """What a run knows of the warehouse as it lands its nights: the files committed when
    it started, the slice column types, and whether it replaces nights (a rerun)."""

    committed: list[PlacedFile]
    slice_types: dict[str, SliceType]
    rerun: bool
    moved_from: dict[Path, str]  # dumps found at a new place: the path they had before

    def read_again(self, computed: list[ComputedDump]) -> set[str]:
        """The dump paths whose rows and records this run replaces: each dump read and
        recorded (ingested or rejected), under its path now and, when the inbox moved,
        the path it was recorded under before."""
        paths = [c.outcome.path for c in computed if c.record]
        before = {self.moved_from[path] for path in paths if path in self.moved_from}
        return {str(path) for path in paths} | before

    def staying(
        self, snapshot_date: dt.date, computed: list[ComputedDump], only_model: str | None
    ) -> list[PlacedFile]:
        """The night's committed files this run does not replace: a dump read again and
        recorded (ingested or rejected) replaces its rows; one left for the next run
        (it changed while read) keeps them."""
        tonight = [f for f in self.committed if f.snapshot_date == snapshot_date]
        if self.rerun:
            return [f for f in tonight if only_model is not None and f.model != only_model]
        replaced = self.read_again(computed)
        return [f for f in tonight if f.dump_path not in replaced]

    def carried(self, snapshot_date: dt.date, computed: list[ComputedDump]) -> dict[str, list[str]]:
        """The night's committed batch files holding a dump this run replaces beside dumps
        it does not: each is retired whole, so the rows of those others (the dumps listed)
        move to a new file. A rerun replaces whole files (a batch file holds one model)."""
        if self.rerun:
            return {}
        replaced = self.read_again(computed)
        dumps_of: dict[str, list[str]] = {}
        for file in self.committed:
            if file.snapshot_date == snapshot_date:
                dumps_of.setdefault(file.path, []).append(file.dump_path)
        return {
            path: [dump for dump in dumps if dump not in replaced]
            for path, dumps in dumps_of.items()
            if replaced.intersection(dumps) and not replaced.issuperset(dumps)
        }


def _staged_files(computed: list[ComputedDump]) -> dict[Path, list[str]]:
    """Each staged file with the accepted dumps whose rows it holds (a batch file holds
    several; placing it keeps theirs alone), in the night's order."""
    staged: dict[Path, list[str]] = {}
    for result in computed:
        if result.staged is not None:
            staged.setdefault(result.staged, []).append(str(result.outcome.path))
    return staged


def _finish(connection: duckdb.DuckDBPyConnection, summary: RunSummary, started: float) -> None:
    summary.seconds = time.monotonic() - started
    finish_run(connection, summary)


def _land_snapshots(
    warehouse: Warehouse,
    options: JobOptions,
    summary: RunSummary,
    planned: InboxPlan,
    progress: Progress,
    night: _Night,
) -> None:
    """Each planned snapshot, oldest first: compute, admit, place, commit."""
    from pipeline.ingest.admission import admit

    total = sum(len(paths) for paths in planned.by_date.values())
    done = 0
    for snapshot_date in sorted(planned.by_date):
        paths = planned.by_date[snapshot_date]

        def step(count: int, _: int, name: str, offset: int = done) -> None:
            progress(offset + count, total, name)

        layout = warehouse.layout
        with staging_folder(layout, summary.run_id, snapshot_date) as staging:
            engine = options.engine
            computed = engine.compute(paths, staging, snapshot_date, options.ingest, step)
            staying = night.staying(snapshot_date, computed, options.ingest.only_model)
            computed = admit(computed, staying, layout, night.slice_types, engine.shared_ids)
            summary.outcomes.extend(result.outcome for result in computed)
            placed: list[PlacedFile] = []
            try:
                staged = _staged_files(computed)
                for batch_file, kept in night.carried(snapshot_date, computed).items():
                    staged[carry_over(layout, batch_file, kept, staging)] = kept
                for index, (losses, dumps) in enumerate(staged.items()):
                    name = f"{summary.run_id}-{index:06d}"
                    placed += place(layout, snapshot_date, losses, dumps, name)
                    fault_point("after_place")
                flush_names(layout, placed)
                committed = _commit_snapshot(
                    warehouse, options, summary.run_id, snapshot_date, computed, placed, night
                )
            except BaseException:
                # Not committed (unless it failed after its commit point): files no
                # commit lists are nobody's; free their space now.
                listed = warehouse.committed_paths()
                if listed is not None:
                    for file in placed:
                        if file.path not in listed:
                            layout.remove(file.path)
                raise
        write_manifest(layout, committed, f"{summary.run_id}:{snapshot_date}")
        fault_point("before_export")
        with warehouse.reading(losses_view=False) as catalog:
            export_night(catalog, warehouse.layout, snapshot_date, summary.run_id)
        done += len(paths)
        summary.snapshot_dates.append(snapshot_date.isoformat())


def _commit_snapshot(
    warehouse: Warehouse,
    options: JobOptions,
    run_id: str,
    snapshot_date: dt.date,
    computed: list[ComputedDump],
    placed: list[PlacedFile],
    night: _Night,
) -> list[PlacedFile]:
    """The ledger, the live files and the aggregates of one snapshot, in one commit.
    Returns the files live after it (for the manifest)."""
    import polars as pl

    from pipeline.analysis.aggregates import register_bin_scheme
    from pipeline.ingest.admission import record_slice_columns

    lineage = options.lineage
    only = options.ingest.only_model
    models = [only] if only else []
    # A dump read again replaces its rows, whatever its outcome: the ledger and the data
    # say the same (a rejected new version leaves no old rows counted).
    read_again = sorted(night.read_again(computed))
    replaced = pl.DataFrame(
        {"path": read_again, "snapshot_date": [snapshot_date] * len(read_again)},
        schema={"path": pl.String, "snapshot_date": pl.Date},
    )
    changed = [str(c.outcome.path) for c in computed if not c.record]
    if night.rerun and changed:
        # A rerun replaces the night whole: with a dump that changed under it, it would
        # drop that dump's rows and record nothing; better to replace nothing.
        raise InboxError(f"cannot rerun {snapshot_date}: {', '.join(changed)} changed while read")
    with warehouse.commit() as catalog:
        record_dumps(catalog, run_id, computed, options.ingest.reader.folders_below, replaced)
        if night.rerun:  # the night (or its model) is replaced whole
            commit_files(catalog, run_id, placed, lineage, rerun=(snapshot_date, models))
        else:  # a dump read again replaces its own rows
            commit_files(catalog, run_id, placed, lineage, replaced=replaced)
        warehouse.bind_losses_view(catalog)
        register_bin_scheme(catalog, options.scheme)
        options.engine.aggregate(
            catalog, snapshot_date, options.analysis, options.scheme, models or None, run_id
        )
        record_snapshot(catalog, snapshot_date, run_id, options.lineage)
        record_slice_columns(catalog, night.slice_types)
        fault_point("before_commit")
        committed = live_files(catalog)
    return committed


def pending_report_nights(settings: Settings, committed: Sequence[str] = ()) -> list[str]:
    """Nights whose pages an earlier run could not write, and the night after each night
    just committed (its "what changed" compares with the night before it, which a late
    dump may have just brought or changed)."""
    warehouse = Warehouse(settings.warehouse, catalog=settings.catalog)
    if not warehouse.database.exists():
        return []
    with warehouse.reading(losses_view=False) as connection:
        pending = [day.isoformat() for (day,) in execute(connection, "pending_reports")]
        nights = [day.isoformat() for day, _ in execute(connection, "committed_nights")]
    following = [next((n for n in nights if n > day), None) for day in committed]
    return sorted({*pending, *(day for day in following if day is not None)})


def record_reports_outcome(
    settings: Settings, summary: RunSummary, nights: list[str], error: str | None
) -> None:
    """After the pages: a failure makes the run partial and leaves its nights pending
    (the data landed; the next run renders them); a success clears pending nights."""
    warehouse = Warehouse(settings.warehouse, settings.duckdb_memory_limit, settings.catalog)
    dates = [dt.date.fromisoformat(day) for day in nights]
    with warehouse.lock(settings.lock_timeout), warehouse.commit() as catalog:
        if error is None:
            execute(catalog, "clear_pending_reports", {"nights": dates})
            return
        execute(catalog, "add_pending_reports", {"nights": dates})
        execute(catalog, "mark_reports_failed", {"run_id": summary.run_id, "error": error})
    if summary.status == STATUS_SUCCEEDED:
        summary.status = STATUS_PARTIAL
    summary.error = f"{summary.error}; {error}" if summary.error else error
