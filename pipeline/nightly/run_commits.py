"""A run's catalog commits. Each commit copies the catalog (warehouse/catalog.py), so a
run makes as few as its guarantees allow: one per night it lands, the last of them
recording its outcome too, and one only when it lands none (nothing new, a plan that
failed) or when its outcome changed after its last night's commit (an export or the
lakehouse failed).

Nothing is committed when a run starts: what the start has to record (the run as
running, the runs that died before any commit recorded them, the retired files it
deleted, the inbox entries it skipped) waits for the run's first commit, and until then
the run's note on disk (warehouse/journal.py) stands for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipeline.analysis.changes import night_changes
from pipeline.base.results import STATUS_FAILED, STATUS_PARTIAL, STATUS_SUCCEEDED, RunSummary
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.ledger import (
    Lineage,
    finish_run,
    record_dead_runs,
    run_verdicts,
    start_run,
)

Write = Callable[[duckdb.DuckDBPyConnection], None]


def landed_status(summary: RunSummary) -> str:
    """The status of a run whose nights landed: partial when it rejected a dump."""
    return STATUS_PARTIAL if summary.files_rejected else STATUS_SUCCEEDED


@dataclass
class RunCommits:
    """The commits of one run, under the writer lock. `dead`: the job_runs rows of runs
    that died before any commit recorded them (ledger.run_record, from their notes)."""

    warehouse: Warehouse
    summary: RunSummary
    lineage: Lineage
    started: float  # time.monotonic() at the start
    started_at: dt.datetime
    dead: Sequence[dict[str, Any]] = ()
    owed: list[Write] = field(default_factory=list)  # for the next commit to make
    after_first: list[Callable[[], None]] = field(default_factory=list)
    recorded: tuple[str, str | None] | None = None  # the outcome a commit recorded
    _run_recorded: bool = False
    # What finish() recorded in the commit under way: the outcome, verdicts and changes.
    _outcome: tuple[str, str | None] | None = None
    _found: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None

    def owe(self, write: Write) -> None:
        """A write for the run's next commit (its first, for what the start found)."""
        self.owed.append(write)

    @contextlib.contextmanager
    def commit(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A commit of this run (Warehouse.commit): its first records the run, and each
        makes the writes owed so far before the caller's."""
        owed, self._outcome, self._found = list(self.owed), None, None
        with self.warehouse.commit() as catalog:
            if not self._run_recorded:
                record_dead_runs(catalog, self.dead)
                summary = self.summary
                start_run(catalog, summary.run_id, summary.command, self.lineage, self.started_at)
            for write in owed:
                write(catalog)
            yield catalog
        # Swapped in: what it recorded is committed.
        del self.owed[: len(owed)]
        if self._outcome is not None:
            self.recorded = self._outcome
        if self._found is not None:
            self.summary.verdicts, self.summary.changes = self._found
        if not self._run_recorded:
            self._run_recorded = True
            for done in self.after_first:
                done()

    def finish(self, catalog: duckdb.DuckDBPyConnection, nights: Sequence[dt.date]) -> None:
        """Within a commit: the run's outcome as it stands (summary.status, error) and
        duration in job_runs, with the nights it committed (`nights`, this commit's
        included) and, unless it failed, their verdicts and changes for its summary."""
        if self.summary.status != STATUS_FAILED and nights:
            changes = [
                {"snapshot_date": night, **change.as_json()}
                for night in nights
                for change in night_changes(catalog, night)
            ]
            self._found = (run_verdicts(catalog, nights), changes)
        self.summary.seconds = time.monotonic() - self.started
        finish_run(catalog, self.summary, nights)
        self._outcome = (self.summary.status, self.summary.error)

    def outcome_recorded(self) -> bool:
        """Whether a commit recorded the run's outcome as the summary now says it."""
        return self.recorded == (self.summary.status, self.summary.error)
