"""The records a run produces and passes between its stages: what became of each dump,
what the ledger knows of a dump, and the run's outcome as printed. Plain dataclasses, so
the compute step, the Spark engine and the ledger share them without importing each
other or DuckDB."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.base.errors import EXIT_FAILED, EXIT_GATE, EXIT_OK, EXIT_PARTIAL

if TYPE_CHECKING:  # a run with nothing new loads no Polars
    import polars as pl

STATUS_SUCCEEDED, STATUS_PARTIAL, STATUS_FAILED = "succeeded", "partial", "failed"


@dataclass(frozen=True)
class Skipped:
    """An inbox entry lossgram does not read, and why (listed in the run summary)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Fingerprint:
    """What the ledger keeps of a dump to tell whether it changed."""

    size: int
    mtime: float
    sha256: str


@dataclass(frozen=True)
class KnownDump:
    """A dump the ledger has read: where it was, from which inbox, and its fingerprint."""

    path: str
    inbox: str | None
    fingerprint: Fingerprint
    rejected_night: dt.date | None = None  # the night it was rejected in; None: ingested
    retry: bool = False  # rejected for the environment (permission, I/O): read again

    @property
    def key(self) -> str:
        """The dump's path inside its inbox (the whole path if it was read from outside)."""
        return dump_key(Path(self.path), Path(self.inbox) if self.inbox else None)


def dump_key(path: Path, inbox: Path | None) -> str:
    if inbox is not None:
        try:  # one relative_to (is_relative_to is one more): a run keys every known dump
            return path.relative_to(inbox).as_posix()
        except ValueError:
            pass  # read from outside the inbox
    return str(path)


@dataclass
class FileOutcome:
    """What happened to one dump file in a run."""

    path: Path
    snapshot_date: dt.date
    status: str  # ingested / rejected
    rows: int = 0
    rows_ignored: int = 0
    rows_rejected: int = 0
    error: str | None = None
    classes: tuple[str, ...] | None = None  # the class names the dump declared
    params: tuple[tuple[str, str], ...] | None = None  # its hyperparameters (name, value)


@dataclass(frozen=True)
class ComputedDump:
    """What computing one dump gave a run: its outcome and fingerprint, the rows dropped
    under bad_rows = skip, and its staged losses (None when rejected or empty)."""

    outcome: FileOutcome
    fingerprint: Fingerprint
    dropped: pl.DataFrame
    staged: Path | None
    record: bool = True  # False: not kept in the ledger, so the next run reads it again


def fingerprint(stat: os.stat_result, sha256: str) -> Fingerprint:
    return Fingerprint(stat.st_size, stat.st_mtime, sha256)


@dataclass
class RunSummary:
    """A run's outcome, as printed by `lossgram run --json` and kept in job_runs."""

    run_id: str
    command: str
    status: str = "running"
    snapshot_dates: list[dt.date] = field(default_factory=list)
    files_seen: int = 0
    files_unchanged: int = 0
    outcomes: list[FileOutcome] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    reports: list[str] = field(default_factory=list)  # pages written after the run
    # Nights whose losses were computed with other loss settings (`rerun` redoes them).
    stale_snapshots: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # inbox entries not read
    # What changed on its nights against each model's previous night (pipeline/analysis/changes.py).
    changes: list[dict[str, Any]] = field(default_factory=list)
    gate: list[str] = field(default_factory=list)  # why the run trips fail_on, if it does
    # Each notification target's outcome: target (scheme://host), status, reason.
    notifications: list[dict[str, Any]] = field(default_factory=list)
    # Committed files changed since their commit, each said with the rerun that fixes it.
    changed_files: list[str] = field(default_factory=list)
    # Rejected dumps left as they were (not read again), per night they were rejected in.
    rejected_unchanged: dict[dt.date, int] = field(default_factory=dict)

    @property
    def files_ingested(self) -> int:
        return sum(outcome.status == "ingested" for outcome in self.outcomes)

    @property
    def files_rejected(self) -> int:
        return sum(outcome.status == "rejected" for outcome in self.outcomes)

    @property
    def rows_ingested(self) -> int:
        return sum(o.rows for o in self.outcomes if o.status == "ingested")

    @property
    def rows_rejected(self) -> int:
        return sum(o.rows_rejected for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        codes = {STATUS_SUCCEEDED: EXIT_OK, STATUS_PARTIAL: EXIT_PARTIAL}
        code = codes.get(self.status, EXIT_FAILED)
        return EXIT_GATE if self.gate and code != EXIT_FAILED else code

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "command": self.command,
            "status": self.status,
            "snapshot_dates": [night.isoformat() for night in self.snapshot_dates],
            "files_seen": self.files_seen,
            "files_ingested": self.files_ingested,
            "files_rejected": self.files_rejected,
            "files_unchanged": self.files_unchanged,
            "rows_ingested": self.rows_ingested,
            "rows_rejected": self.rows_rejected,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "rejected": [
                {"path": str(o.path), "error": o.error}
                for o in self.outcomes
                if o.status == "rejected"
            ],
            "verdicts": [_printable(verdict) for verdict in self.verdicts],
            "changes": [_printable(change) for change in self.changes],
            "gate": self.gate,
            "notifications": self.notifications,
            "reports": self.reports,
            "stale_snapshots": self.stale_snapshots,
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in self.skipped],
            "changed_files": self.changed_files,
            "rejected_unchanged": {
                night.isoformat(): count for night, count in self.rejected_unchanged.items()
            },
        }


def _printable(row: dict[str, Any]) -> dict[str, Any]:
    """A verdict or change as printed: its night as ISO text."""
    return {
        key: value.isoformat() if isinstance(value, dt.date) else value
        for key, value in row.items()
    }
