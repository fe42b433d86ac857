"""The inbox: which dumps a run reads, and into which snapshot each goes.

A top-level inbox folder named YYYY-MM-DD (or date=YYYY-MM-DD) sets a dump's snapshot;
everything else goes into the run's date. A dump is new when the ledger has not seen its
path, changed when its size and mtime moved and then its sha256 too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.contract import find_dumps, has_dumps
from pipeline.files import file_sha256

DATE_FOLDER = re.compile(r"^(?:date=)?(\d{4}-\d{2}-\d{2})$")


class InboxError(RuntimeError):
    """The inbox cannot be planned: a date folder that is no date, or (for a rerun) the
    recorded dumps are missing or changed."""


@dataclass(frozen=True)
class Fingerprint:
    """What the ledger keeps of a dump to tell whether it changed."""

    size: int
    mtime: float
    sha256: str


@dataclass(frozen=True)
class InboxPlan:
    """The dumps to read per snapshot, and how many were seen and left as they were."""

    by_date: dict[dt.date, list[Path]]
    files_seen: int
    files_unchanged: int
    inbox: Path | None  # key=value folders of a dump count below it (None: all of them)


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
    known: Mapping[str, Fingerprint],
    default_date: dt.date,
    date_range: tuple[dt.date, dt.date] | None = None,
) -> InboxPlan:
    """New or changed dumps under the inbox, by snapshot date. With date_range (backfill)
    only date folders inside the range are read."""
    inbox = inbox.resolve()
    files = find_dumps([inbox]) if has_dumps(inbox) else []
    if date_range is not None:
        files = [f for f in files if _in_range(f, inbox, date_range)]
    by_date: dict[dt.date, list[Path]] = {}
    unchanged = 0
    for path in files:
        if is_unchanged(path, known.get(str(path))):
            unchanged += 1
            continue
        day = date_folder_of(path, inbox) or default_date
        by_date.setdefault(day, []).append(path)
    return InboxPlan(by_date, len(files), unchanged, inbox)


def _in_range(path: Path, inbox: Path, date_range: tuple[dt.date, dt.date]) -> bool:
    """Whether a dump's date folder lies in the range (no folder, or no date: it does not)."""
    try:
        day = date_folder_of(path, inbox)
    except InboxError:
        return False
    return day is not None and date_range[0] <= day <= date_range[1]


def is_unchanged(path: Path, known: Fingerprint | None) -> bool:
    """Size and mtime first; hash only files whose size or mtime moved."""
    if known is None:
        return False
    stat = path.stat()
    if stat.st_size == known.size and stat.st_mtime == known.mtime:
        return True
    return bool(stat.st_size == known.size and file_sha256(path) == known.sha256)


def verify_recorded(snapshot_date: dt.date, recorded: Mapping[str, str]) -> list[Path]:
    """The recorded dumps of a date (path -> sha256) for a rerun; InboxError naming each
    one that is missing or changed since."""
    day = snapshot_date.isoformat()
    if not recorded:
        raise InboxError(f"no dumps were recorded for {day}: nothing to rerun")
    changed = []
    for path_text, sha256 in recorded.items():
        path = Path(path_text)
        if not path.is_file():
            changed.append(f"{path}: missing")
        elif file_sha256(path) != sha256:
            changed.append(f"{path}: sha256 differs from the one recorded")
    if changed:
        raise InboxError(
            f"cannot rerun {day}, recorded dumps changed: "
            + "; ".join(changed)
            + " (`lossgram run` ingests new versions as new data)"
        )
    return [Path(path) for path in recorded]
