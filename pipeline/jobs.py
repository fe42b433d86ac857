"""Orchestration: wire dumps -> losses -> outputs for one run."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.dumps import (
    Dump,
    DumpError,
    Problem,
    find_dumps,
    flag_columns,
    open_dump,
    problem_counts,
    problems_found,
)
from pipeline.losses import LossSpec, loss_summary, per_sample_losses
from pipeline.settings import Settings

# Called after each dump file: (files done, files in all, the file just done).
Progress = Callable[[int, int, Path], None]


class DumpsRejected(Exception):
    """One or more dumps broke the contract; nothing was written."""

    def __init__(self, errors: Sequence[DumpError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class LossesWritten:
    """What `losses_to_parquet` wrote: where, a per-(model, split) summary, counts."""

    out: Path
    summary: pl.DataFrame
    rows: int
    ignored: int
    clipped: int


def loss_spec(settings: Settings) -> LossSpec:
    return LossSpec(
        label_smoothing=settings.label_smoothing,
        class_weights=settings.class_weights,
        ignore_index=settings.ignore_index,
        eps=settings.eps,
    )


def dump_losses_to_parquet(dump: Dump, spec: LossSpec, target: Path) -> dict[str, int]:
    """One pass over a dump: sink its per-sample losses to target and count bad rows.

    Returns the counts (rows, ignored rows, one entry per check). The file at
    target is complete only if no check counted a row; the caller decides.
    """
    try:
        losses = per_sample_losses(dump.frame, spec)
    except ValueError as error:
        raise DumpError(dump.path, [Problem(None, dump.n_rows, str(error))]) from error
    flags = flag_columns(dump)
    ignore = spec.ignore_index
    ignored = (pl.col("label") == ignore).sum() if ignore is not None else pl.lit(0)
    counts = dump.frame.select(rows=pl.len().cast(pl.Int64), ignored=ignored.cast(pl.Int64)).join(
        problem_counts(dump.frame, dump.checks), how="cross"
    )
    sink = losses.drop(flags).sink_parquet(target, lazy=True)
    try:
        # Sink and counts share one scan of the dump (common subplan).
        _, counted = pl.collect_all([sink, counts], engine="streaming")
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DumpError(dump.path, [Problem(None, dump.n_rows, f"unreadable: {error}")]) from error
    return {name: int(value or 0) for name, value in counted.row(0, named=True).items()}


def losses_to_parquet(
    dump_paths: Sequence[str | Path],
    out: Path,
    settings: Settings,
    progress: Progress | None = None,
) -> LossesWritten:
    """Per-sample cross-entropy of every dump into one Parquet file, all or nothing."""
    spec = loss_spec(settings)
    files = find_dumps(dump_paths)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts_dir = out.parent / f".{out.name}.{uuid.uuid4().hex}.parts"
    parts_dir.mkdir()
    try:
        errors: list[DumpError] = []
        parts: list[Path] = []
        ignored = 0
        for index, path in enumerate(files):
            part = parts_dir / f"part-{index:05d}.parquet"
            try:
                dump = open_dump(path, settings)
                counts = dump_losses_to_parquet(dump, spec, part)
                problems = problems_found(dump, counts)
                if problems:
                    raise DumpError(path, problems)
                ignored += counts["ignored"]
                parts.append(part)
            except DumpError as error:
                errors.append(error)
            if progress is not None:
                progress(index + 1, len(files), path)
        if errors:
            raise DumpsRejected(errors)
        staged = parts_dir / "combined.parquet"
        if len(parts) == 1:
            staged = parts[0]
        else:
            frames = [pl.scan_parquet(part) for part in parts]
            pl.concat(frames, how="diagonal_relaxed").sink_parquet(staged)
        os.replace(staged, out)  # atomic: readers see the old file or the new one
    finally:
        shutil.rmtree(parts_dir, ignore_errors=True)

    written = pl.scan_parquet(out)
    totals = written.select(rows=pl.len(), clipped=pl.col("clipped").sum()).collect()
    return LossesWritten(
        out=out,
        summary=loss_summary(written).collect(),
        rows=int(totals["rows"][0]),
        ignored=ignored,
        clipped=int(totals["clipped"][0] or 0),
    )
