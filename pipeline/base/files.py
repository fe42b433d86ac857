"""File-system helpers every step shares: atomic writes and content fingerprints."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

from pipeline.base.errors import LossgramError


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a hidden temporary path beside target; when the block succeeds it is renamed
    onto target (readers see the old file or the new one, never half of one), when it
    fails it is removed and target is left as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield partial
        flush(partial)  # the data is on disk before the name points at it
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def flush(path: Path) -> None:
    """fsync a file or a folder, so a rename or a commit that follows is not ahead of the
    data it names."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write_text(target: Path, text: str) -> None:
    with atomic_output(target) as partial:
        partial.write_text(text, encoding="utf-8")


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_output(target) as partial:
        partial.write_bytes(data)


class Stopped(RuntimeError):
    """Work given up because the caller stopped waiting for it."""


def file_sha256(path: Path, stop: threading.Event | None = None) -> str:
    """The file's sha256. Opened without blocking and checked to be a regular file, so a
    named pipe swapped in under the name cannot hang it; `stop` set gives up (Stopped)."""
    digest = hashlib.sha256()
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            if stop is not None and stop.is_set():
                raise Stopped(str(path))
    return digest.hexdigest()


class NoSpaceError(LossgramError, RuntimeError):
    """A file could not be written for lack of disk space; says which and how much."""

    def __init__(self, target: Path, needed_bytes: int | None) -> None:
        folder = next((p for p in (target, *target.parents) if p.exists()), Path("/"))
        free = shutil.disk_usage(folder).free
        needed = f"; about {needed_bytes / 2**20:.1f} MiB needed" if needed_bytes else ""
        super().__init__(
            f"no space left on the device to write {target}: {free / 2**20:.1f} MiB free"
            f"{needed}. Nothing was committed: free space, then run again"
        )


def is_no_space(error: BaseException) -> bool:
    """Whether an error (Python's, Polars', DuckDB's) is a full disk."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    text = str(error)
    return "No space left on device" in text or "os error 28" in text
