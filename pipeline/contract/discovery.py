"""Find dump files: files, folders (recursively, hive layout allowed) and globs."""

from __future__ import annotations

import glob
import stat
from collections.abc import Iterable
from pathlib import Path

from pipeline.contract.problems import DumpError, Problem


def find_dumps(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files, folders (recursively, hive layout allowed) and globs to Parquet files."""
    found: dict[Path, None] = {}  # insertion-ordered set: a file named twice is read once
    for given in paths:
        path = Path(given)
        if path.is_dir():
            matches = sorted(p for p in path.rglob("*.parquet") if _readable(p, path))
        elif path.is_file():
            matches = [path]
        else:
            matches = sorted(Path(p) for p in glob.glob(str(given), recursive=True))
            matches = [p for p in matches if _regular(p)]
        if not matches:
            raise DumpError(path, [Problem(None, 0, "no such file, folder or matching glob")])
        found.update(dict.fromkeys(matches))
    return list(found)


def has_dumps(folder: Path) -> bool:
    """Whether a folder holds any Parquet file that find_dumps would read."""
    return folder.is_dir() and any(_readable(p, folder) for p in folder.rglob("*.parquet"))


def _readable(path: Path, root: Path) -> bool:
    """A visible regular file: not a folder named *.parquet (Spark's out.parquet/ is read
    through its part files), a FIFO, a device or a dangling link."""
    return _visible(path, root) and _regular(path)


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:  # a dangling link, a file gone meanwhile
        return False


def _visible(path: Path, root: Path) -> bool:
    # Spark/Hadoop write _SUCCESS and .crc side files; temp files start with a dot.
    return not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


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
