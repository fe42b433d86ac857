"""Landing one night: compute its dumps, admit them, place their files and commit the
ledger, the live files and the aggregates together. Which committed rows a night keeps
follows two rules: a dump read again replaces its own rows (and a batch file holding it
beside other dumps is retired whole, the others' rows carried into a new file); a rerun
replaces the night, or one model of it, whole."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.base.errors import InboxError
from pipeline.base.faults import fault_point
from pipeline.base.progress import Progress
from pipeline.base.results import ComputedDump, RunSummary
from pipeline.ingest.inbox import InboxPlan
from pipeline.nightly.job_options import JobOptions
from pipeline.nightly.run_commits import RunCommits, landed_status
from pipeline.warehouse.exports import export_night
from pipeline.warehouse.histogram_files import move_out_histograms
from pipeline.warehouse.layout import (
    PlacedFile,
    carry_over,
    flush_names,
    place,
    staging_folder,
    write_manifest,
)
from pipeline.warehouse.ledger import commit_files, manifest_text, record_dumps, record_snapshot
from pipeline.warehouse.queries import execute

if TYPE_CHECKING:
    from pipeline.ingest.admission import SliceType


@dataclass
class CommittedAtStart:
    """What a run knew of the committed files when it started, and what it replaces:
    the slice column types, whether it is a rerun, and the dumps found at a new place."""

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


def land_nights(
    commits: RunCommits,
    options: JobOptions,
    summary: RunSummary,
    planned: InboxPlan,
    progress: Progress,
    known: CommittedAtStart,
) -> None:
    """Each planned night, oldest first: land it (the last night's commit records the
    run's outcome too), then write its manifest and exports."""
    warehouse = commits.warehouse
    total = sum(len(paths) for paths in planned.by_date.values())
    done = 0
    nights = sorted(planned.by_date)
    for snapshot_date in nights:
        paths = planned.by_date[snapshot_date]

        def step(count: int, _: int, name: str, offset: int = done) -> None:
            progress(offset + count, total, name)

        last = snapshot_date == nights[-1]
        manifest = land_night(commits, options, summary, snapshot_date, paths, step, known, last)
        summary.snapshot_dates.append(snapshot_date)  # committed
        write_manifest(warehouse.layout, manifest)
        fault_point("before_export")
        with warehouse.reading(losses_view=False) as catalog:
            export_night(catalog, warehouse.layout, snapshot_date, summary.run_id)
        done += len(paths)


def land_night(
    commits: RunCommits,
    options: JobOptions,
    summary: RunSummary,
    snapshot_date: dt.date,
    paths: list[Path],
    progress: Progress,
    known: CommittedAtStart,
    last: bool = True,
) -> str:
    """Compute, admit, place, commit one night (with the run's outcome when it is the
    `last` night). Returns the manifest of the files live after it."""
    from pipeline.ingest.admission import admit

    warehouse = commits.warehouse
    layout, engine = warehouse.layout, options.engine
    with staging_folder(layout, summary.run_id, snapshot_date) as staging:
        computed = engine.compute(paths, staging, snapshot_date, options.ingest, progress)
        staying = known.staying(snapshot_date, computed, options.ingest.only_model)
        computed = admit(computed, staying, layout, known.slice_types, engine.shared_ids)
        summary.outcomes.extend(result.outcome for result in computed)
        placed: list[PlacedFile] = []
        try:
            staged = _staged_files(computed)
            for batch_file, kept in known.carried(snapshot_date, computed).items():
                staged[carry_over(layout, batch_file, kept, staging)] = kept
            for index, (losses, dumps) in enumerate(staged.items()):
                name = f"{summary.run_id}-{index:06d}"
                placed += place(layout, snapshot_date, losses, dumps, name)
                fault_point("after_place")
            flush_names(layout, placed)
            return _commit_night(
                commits, options, summary, snapshot_date, computed, placed, known, last
            )
        except BaseException:
            # Not committed (unless it failed after its commit point): files no commit
            # lists are nobody's; free their space now.
            listed = warehouse.committed_paths()
            if listed is not None:
                layout.store.remove(file.path for file in placed if file.path not in listed)
            raise


def _staged_files(computed: list[ComputedDump]) -> dict[Path, list[str]]:
    """Each staged file with the accepted dumps whose rows it holds (a batch file holds
    several; placing it keeps theirs alone), in the night's order."""
    staged: dict[Path, list[str]] = {}
    for result in computed:
        if result.staged is not None:
            staged.setdefault(result.staged, []).append(str(result.outcome.path))
    return staged


def _commit_night(
    commits: RunCommits,
    options: JobOptions,
    summary: RunSummary,
    snapshot_date: dt.date,
    computed: list[ComputedDump],
    placed: list[PlacedFile],
    known: CommittedAtStart,
    last: bool,
) -> str:
    """The ledger, the live files and the aggregates of one night, in one commit (with
    the run's outcome when it is the last night). Returns the manifest of the files live
    after it."""
    import polars as pl

    from pipeline.analysis.aggregates import register_bin_scheme
    from pipeline.ingest.admission import record_slice_columns

    warehouse, run_id = commits.warehouse, summary.run_id
    only = options.ingest.only_model
    models = [only] if only else []
    # A dump read again replaces its rows, whatever its outcome: the ledger and the data
    # say the same (a rejected new version leaves no old rows counted).
    read_again = sorted(known.read_again(computed))
    replaced = pl.DataFrame(
        {"path": read_again, "snapshot_date": [snapshot_date] * len(read_again)},
        schema={"path": pl.String, "snapshot_date": pl.Date},
    )
    changed = [str(c.outcome.path) for c in computed if not c.record]
    if known.rerun and changed:
        # A rerun replaces the night whole: with a dump that changed under it, it would
        # drop that dump's rows and record nothing; better to replace nothing.
        raise InboxError(f"cannot rerun {snapshot_date}: {', '.join(changed)} changed while read")
    with commits.commit() as catalog:
        record_dumps(catalog, run_id, computed, options.ingest.reader.folders_below, replaced)
        if known.rerun:  # the night (or its model) is replaced whole
            commit_files(catalog, run_id, placed, options.lineage, rerun=(snapshot_date, models))
        else:  # a dump read again replaces its own rows
            commit_files(catalog, run_id, placed, options.lineage, replaced=replaced)
        warehouse.bind_losses_view(catalog, night=snapshot_date)
        register_bin_scheme(catalog, options.scheme)
        options.engine.aggregate(
            catalog, snapshot_date, options.analysis, options.scheme, models or None, run_id
        )
        move_out_histograms(catalog, warehouse.layout, run_id)
        record_snapshot(catalog, snapshot_date, run_id, options.lineage)
        # Pending until its pages are written: a run killed after this commit leaves
        # them to the next run.
        execute(catalog, "add_pending_reports", {"nights": [snapshot_date]})
        record_slice_columns(catalog, known.slice_types)
        if last:  # the run's outcome, in the same commit
            summary.status = landed_status(summary)
            commits.finish(catalog, [*summary.snapshot_dates, snapshot_date])
        fault_point("before_commit")
        return manifest_text(catalog, f"{run_id}:{snapshot_date}")
