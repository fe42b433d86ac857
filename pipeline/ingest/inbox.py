"""The inbox: which dumps a run reads, and into which snapshot each goes.

A top-level inbox folder named YYYY-MM-DD (or date=YYYY-MM-DD) sets a dump's snapshot;
everything else goes into the run's date. The ledger knows a dump by its path inside the
inbox: it is new when that path was never read, changed when its size and mtime moved and
then its sha256 too. A project copied or moved elsewhere reads nothing again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.base.errors import InboxError
from pipeline.base.files import file_sha256
from pipeline.base.results import KnownDump, Skipped, dump_key
from pipeline.contract import scan_folder

DATE_FOLDER = re.compile(r"^(?:date=)?(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class InboxPlan:
    """The dumps to read per snapshot, and how many were seen and left as they were."""

    by_date: dict[dt.date, list[Path]]
    files_seen: int
    files_unchanged: int
    inbox: Path | None  # key=value folders of a dump count below it (None: all of them)
    skipped: list[Skipped] = field(default_factory=list)  # inbox entries not read
    # A changed dump read before at another place (the inbox moved): the path its rows
    # are recorded under, so they are replaced rather than kept twice.
    moved_from: dict[Path, str] = field(default_factory=dict)
    # Dumps rejected before and unchanged since, per night: not read again (a rerun does).
    rejected_unchanged: dict[dt.date, int] = field(default_factory=dict)


def date_folder_of(path: Path, inbox: Path) -> dt.date | None:
    """The snapshot named by a dump's top-level inbox folder, if any; InboxError for a
    folder that looks like a date but is none (2026-02-30): its dumps have no night."""
    relative = path.relative_to(inbox).parts
    match = DATE_FOLDER.match(relative[0]) if len(relative) > 1 else None
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        raise InboxError(f"{inbox / relative[0]}: not a valid date folder") from None


def plan_inbox(
    inbox: Path,
    known: Sequence[KnownDump],
    default_date: dt.date,
    date_range: tuple[dt.date, dt.date] | None = None,
) -> InboxPlan:
    """New or changed dumps under the inbox, by snapshot date. With date_range (backfill)
    only date folders inside the range are read. `known` is oldest first."""
    inbox = inbox.resolve()
    scan = scan_folder(inbox)
    files = scan.dumps
    if date_range is not None:
        files = [f for f in files if _in_range(f, inbox, date_range)]
    files, not_dates = _in_date_folders(files, inbox)
    latest = {dump.key: dump for dump in known}
    by_date: dict[dt.date, list[Path]] = {}
    moved_from: dict[Path, str] = {}
    unchanged = 0
    rejected_unchanged: dict[dt.date, int] = {}
    for path in files:
        before = latest.get(dump_key(path, inbox))
        if before is not None and not before.retry and is_unchanged(path, before):
            unchanged += 1
            if before.rejected_night is not None:
                night = before.rejected_night
                rejected_unchanged[night] = rejected_unchanged.get(night, 0) + 1
            continue
        if before is not None and before.path != str(path):
            moved_from[path] = before.path
        day = date_folder_of(path, inbox) or default_date
        by_date.setdefault(day, []).append(path)
    skipped = [*scan.skipped, *not_dates]
    return InboxPlan(by_date, len(files), unchanged, inbox, skipped, moved_from, rejected_unchanged)


def _in_date_folders(files: list[Path], inbox: Path) -> tuple[list[Path], list[Skipped]]:
    """The dumps whose top folder is a real date or none, and one skipped entry per folder
    that looks like a date but is none (2026-02-30/): its dumps wait, the night lands."""
    kept: list[Path] = []
    skipped: dict[Path, Skipped] = {}
    for path in files:
        try:
            date_folder_of(path, inbox)
        except InboxError:
            folder = inbox / path.relative_to(inbox).parts[0]
            skipped.setdefault(folder, Skipped(folder, "not a valid date folder (YYYY-MM-DD)"))
            continue
        kept.append(path)
    return kept, list(skipped.values())


def _in_range(path: Path, inbox: Path, date_range: tuple[dt.date, dt.date]) -> bool:
    """Whether a dump's date folder lies in the range (no folder, or no date: it does not)."""
    try:
        day = date_folder_of(path, inbox)
    except InboxError:
        return False
    return day is not None and date_range[0] <= day <= date_range[1]


def is_unchanged(path: Path, known: KnownDump) -> bool:
    """Size and mtime first (same place only); hash files whose size or mtime moved, and
    files read before at another place (a copied or moved inbox)."""
    stat = path.stat()
    if stat.st_size != known.fingerprint.size:
        return False
    if known.path == str(path) and stat.st_mtime == known.fingerprint.mtime:
        return True
    return file_sha256(path) == known.fingerprint.sha256


def verify_recorded(
    snapshot_date: dt.date, recorded: Sequence[KnownDump], inbox_now: Path
) -> tuple[list[Path], dict[Path, str]]:
    """The recorded dumps of a date for a rerun; InboxError naming each one that is missing
    or changed since. A dump gone from where it was read is looked for at the same place
    inside today's inbox (the project moved): those found there map to their old path."""
    day = snapshot_date.isoformat()
    if not recorded:
        raise InboxError(f"no dumps were recorded for {day}: nothing to rerun")
    changed, found = [], []
    moved_from: dict[Path, str] = {}
    for dump in recorded:
        path = Path(dump.path)
        if not path.is_file() and (inbox_now / dump.key).is_file():
            path = inbox_now / dump.key
            moved_from[path] = dump.path
        if not path.is_file():
            changed.append(f"{path}: missing")
        elif file_sha256(path) != dump.fingerprint.sha256:
            changed.append(f"{path}: sha256 differs from the one recorded")
        found.append(path)
    if changed:
        raise InboxError(
            f"cannot rerun {day}, recorded dumps changed: "
            + "; ".join(changed)
            + " (`lossgram run` ingests new versions as new data)"
        )
    return found, moved_from
