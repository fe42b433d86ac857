"""`lossgram losses`: per-sample cross-entropy of some dumps into one Parquet file, all or
nothing, with no warehouse."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline.base.files import atomic_output
from pipeline.base.options import ReaderOptions
from pipeline.base.progress import Progress, no_progress
from pipeline.contract import DumpError, DumpsRejected, find_dumps, open_dump, problems_found
from pipeline.ingest.loss_pass import dump_losses_to_parquet
from pipeline.warehouse.queries import query_frame


@dataclass(frozen=True)
class LossesWritten:
    """What `losses_to_parquet` wrote: where, a per-(model, split) summary, counts."""

    out: Path
    summary: pl.DataFrame
    rows: int
    ignored: int
    clipped: int


def losses_to_parquet(
    dump_paths: Sequence[str | Path],
    out: Path,
    reader: ReaderOptions,
    progress: Progress = no_progress,
) -> LossesWritten:
    """Per-sample cross-entropy of every dump into one Parquet file, all or nothing."""
    files = find_dumps(dump_paths)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts_dir = out.parent / f".{out.name}.{uuid.uuid4().hex}.parts"
    parts_dir.mkdir()
    try:
        parts, ignored = _dump_parts(files, parts_dir, reader, progress)
        with atomic_output(out) as staged:
            if len(parts) == 1:
                parts[0].rename(staged)
            else:
                frames = [pl.scan_parquet(part) for part in parts]
                pl.concat(frames, how="diagonal_relaxed").sink_parquet(staged)
    finally:
        shutil.rmtree(parts_dir, ignore_errors=True)

    with contextlib.closing(duckdb.connect()) as connection:
        summary = query_frame(connection, "losses_file_summary", {"path": str(out)})
    return LossesWritten(
        out=out,
        summary=summary.drop("clipped"),
        rows=int(summary["n"].sum()),
        ignored=ignored,
        clipped=int(summary["clipped"].sum()),
    )


def _dump_parts(
    files: list[Path], parts_dir: Path, reader: ReaderOptions, progress: Progress
) -> tuple[list[Path], int]:
    """Each dump's losses into its own part file; DumpsRejected if any dump is bad."""
    errors: list[DumpError] = []
    parts: list[Path] = []
    ignored = 0
    for index, path in enumerate(files):
        part = parts_dir / f"part-{index:05d}.parquet"
        try:
            dump = open_dump(path, reader)
            counts, _ = dump_losses_to_parquet(dump, reader.loss, part)
            problems = problems_found(dump.checks, counts)
            if problems:
                raise DumpError(path, problems)
            ignored += counts["ignored"]
            parts.append(part)
        except DumpError as error:
            errors.append(error)
        progress(index + 1, len(files), path.name)
    if errors:
        raise DumpsRejected(errors)
    return parts, ignored
