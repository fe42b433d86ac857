"""Find dump files: files, folders (recursively, hive layout allowed) and globs."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.base.results import Skipped
from pipeline.contract.problems import DumpError, Problem


@dataclass(frozen=True)
class FolderScan:
    """A folder's dumps, and the entries under it that were not read."""

    dumps: list[Path]
    skipped: list[Skipped]


def find_dumps(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files, folders (recursively, hive layout allowed) and globs to Parquet files."""
    found: dict[Path, None] = {}  # insertion-ordered set: a file named twice is read once
    for given in paths:
        path = Path(given)
        if path.is_dir():
            matches = scan_folder(path).dumps
        elif path.is_file():
            matches = [path]
        else:
            matches = sorted(Path(p) for p in glob.glob(str(given), recursive=True))
            matches = [p for p in matches if _kind(p) == "file"]
        if not matches:
            raise DumpError(path, [Problem(None, 0, "no such file, folder or matching glob")])
        found.update(dict.fromkeys(matches))
    return list(found)


def scan_folder(root: Path) -> FolderScan:
    """Every regular file named *.parquet (any case) under root, sorted; what else is there
    is listed as skipped, with the reason. A folder named x.parquet (Spark's output) is
    read through its part files. Names starting with "." or "_" are passed over without a
    word: temp files, and Spark/Hadoop side files (_SUCCESS, .crc)."""
    dumps: list[Path] = []
    skipped: list[Skipped] = []

    def unreadable(error: OSError) -> None:
        reason = f"folder not read: {error.strerror or 'cannot be listed'}".lower()
        skipped.append(Skipped(Path(error.filename or root), reason))

    for folder, subfolders, names in os.walk(root, onerror=unreadable):
        here = Path(folder)
        subfolders[:] = sorted(name for name in subfolders if not name.startswith((".", "_")))
        for name in list(subfolders):
            if (here / name).is_symlink():  # could lead anywhere, or loop
                skipped.append(Skipped(here / name, SYMLINKED_FOLDER))
                subfolders.remove(name)
        for name in sorted(names):
            if name.startswith((".", "_")):
                continue
            path = here / name
            kind = _kind(path)
            if not name.lower().endswith(".parquet"):
                skipped.append(Skipped(path, "not a .parquet file"))
            elif kind != "file":
                skipped.append(Skipped(path, f"not a regular file ({kind})"))
            else:
                dumps.append(path)
    return FolderScan(sorted(dumps), sorted(skipped, key=lambda entry: entry.path))


SYMLINKED_FOLDER = "symlinked folder: not followed (put or link the files themselves)"


def _kind(path: Path) -> str:
    """ "file" for a regular file (or a link to one); else what it is."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "dangling link" if path.is_symlink() else "gone"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "folder" if stat.S_ISDIR(mode) else "special file"


def hive_keys(path: Path, below: Path | None = None) -> dict[str, str]:
    """The key=value folder names above a file, parsed: model=resnet/split=test/x.parquet
    gives {"model": "resnet", "split": "test"}. With `below`, only folders under it count
    (an inbox at /srv/model=x/inbox does not name every dump's model)."""
    values: dict[str, str] = {}
    inside = below is not None and path.parent.is_relative_to(below)
    folders = path.parent.relative_to(below) if inside and below else path.parent
    for part in folders.parts:
        key, sep, value = part.partition("=")
        if sep and key and value:
            values[key] = value
    return values
