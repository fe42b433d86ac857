"""The loss stage: one pass over a dump (or a batch of small dumps) sinks its per-sample
losses to Parquet and counts the rows breaking each contract rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import polars as pl

from pipeline.base.files import NoSpaceError, is_no_space
from pipeline.base.options import LossSpec
from pipeline.contract import Dump, DumpError, Problem
from pipeline.contract.batching import FILE_INDEX
from pipeline.contract.checks import (
    Counts,
    flag_columns,
    flag_name,
    problem_counts,
    run_screens,
)
from pipeline.contract.cross_entropy import ignored_label, per_sample_losses
from pipeline.contract.identity import DUPLICATE_RULE
from pipeline.warehouse.layout import DUMP_COLUMN

# A batch of small dumps: each output scans the files itself, as sharing Polars' Parquet
# scan (common subplan elimination) buffers it, so peak memory would grow with the batch.
SEPARATE_SCANS = pl.QueryOptFlags(comm_subplan_elim=False)
# One dump: its outputs share the one sliced scan (pipeline.contract.slices).
SHARED_SCAN = pl.QueryOptFlags(comm_subplan_elim=True)
BAD_ROW_SCHEMA = pl.Schema({"sample_id": pl.String, "column_name": pl.String, "problem": pl.String})

# Per dump: counts (rows, ignored rows, one entry per check) and its bad rows.
Counted = tuple[Counts, pl.DataFrame]


def _planned_losses(
    dump: Dump,
    spec: LossSpec,
    skip_bad_rows: bool,
    model: str | None,
    snapshot_date: dt.date | None,
) -> tuple[pl.LazyFrame, list[str], pl.Expr, pl.Expr]:
    """A dump's (or batch's) losses as a lazy plan, its flag columns, "any flag" and the
    count of ignored rows. A warehouse's files carry their snapshot_date."""
    flags = flag_columns(dump.checks)
    any_flag = pl.any_horizontal(flags) if flags else pl.lit(False)
    kept = dump.frame.filter(~any_flag) if skip_bad_rows else dump.frame
    try:
        # A warehouse's file (it carries its night) leaves the derivable columns NULL.
        losses = per_sample_losses(kept, spec, stored=snapshot_date is not None)
    except ValueError as error:
        raise DumpError(dump.path, [Problem(None, dump.n_rows, str(error))]) from error
    if model is not None:
        losses = losses.filter(pl.col("model") == model)
    if snapshot_date is not None:
        losses = losses.with_columns(pl.lit(snapshot_date, dtype=pl.Date).alias("snapshot_date"))
    ignored = ignored_label(pl.col("label"), spec.ignore_index).sum()
    return losses, flags, any_flag, ignored


def _counts(dump: Dump, ignored: pl.Expr) -> list[pl.Expr]:
    """What one pass counts: rows, ignored rows, and the rows breaking each check."""
    return [
        pl.len().cast(pl.Int64).alias("rows"),
        ignored.cast(pl.Int64).alias("ignored"),
        *problem_counts(dump.checks),
    ]


def _failed(dump: Dump, target: Path, error: Exception) -> Exception:
    """What a failed pass means: the disk is full (the run stops, naming the file), or
    the dump cannot be read (it alone is rejected)."""
    if is_no_space(error):
        return NoSpaceError(target, dump.path.stat().st_size)
    return DumpError(dump.path, [Problem(None, dump.n_rows, f"unreadable: {error}")])


def dump_losses_to_parquet(
    dump: Dump,
    spec: LossSpec,
    target: Path,
    *,
    skip_bad_rows: bool = False,
    model: str | None = None,
    snapshot_date: dt.date | None = None,
) -> Counted:
    """One pass over a dump: sink its per-sample losses to target and count bad rows.

    Returns the counts (rows, ignored rows, one entry per check) and the bad
    rows (sample_id, column_name, problem). Without skip_bad_rows the file at
    target is complete only if no check counted a row; the caller decides.
    With skip_bad_rows, bad rows are left out of target. `model` keeps one model;
    `snapshot_date` is written as a column.
    """
    if skip_bad_rows:
        dump = _repeats_by_row(dump)
    plan = _planned_losses(dump, spec, skip_bad_rows, model, snapshot_date)
    losses, flags, any_flag, ignored = plan
    # Screens on the footer (no data read) come first: a rule they cannot rule out is
    # counted exactly in the same pass.
    footer_counts = run_screens(dump.checks)
    exact_now = [c for c in dump.checks if footer_counts.get(c.flag, 0)]
    counts = dump.frame.select(*_counts(dump, ignored), *problem_counts(exact_now, screened=False))
    outputs = [losses.sink_parquet(target, lazy=True), counts]
    if skip_bad_rows:
        outputs.append(dump.frame.filter(any_flag).select("sample_id", *flags))
    try:
        # One scan feeds every output: the dump is decoded once (slices.py).
        _, counted, *bad = pl.collect_all(outputs, engine="streaming", optimizations=SHARED_SCAN)
        found = Counts(counted.row(0, named=True))
        screened = [
            c for c in dump.checks if isinstance(c.screen, pl.Expr) and found.get(c.flag, 0)
        ]
        if screened:
            # A cheap screen was not 0: count those rules exactly (bad files only).
            exact = dump.frame.select(problem_counts(screened, screened=False))
            found.update(Counts(exact.collect(engine="streaming").row(0, named=True)))
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _failed(dump, target, error) from error
    found.update({flag: 0 for flag, count in footer_counts.items() if not count})
    return found, bad_row_records(dump, bad[0] if bad else pl.DataFrame())


def _repeats_by_row(dump: Dump) -> Dump:
    """The dump with its repeated-id flag made row by row, so that leaving bad rows out
    streams: hashing every id of the file (the rule's own flag) would make Polars hold the
    whole dump, scores and all. The id screen (sample_id alone) tells when no id can repeat;
    otherwise the repeated rows are found from the id columns alone, by position."""
    flag = flag_name(DUPLICATE_RULE)
    check = next((c for c in dump.checks if c.flag == flag), None)
    if check is None or not isinstance(check.screen, pl.Expr):
        return dump
    try:
        steps_down = dump.frame.select(check.screen).collect(engine="streaming").item()
        if not steps_down:
            return replace(dump, frame=dump.frame.with_columns(pl.lit(False).alias(flag)))
        numbered = dump.frame.with_row_index(ROW)
        repeated = numbered.filter(pl.col(flag)).select(ROW).collect()[ROW]
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _failed(dump, dump.path, error) from error
    by_row = pl.col(ROW).is_in(repeated.implode()).alias(flag)
    return replace(dump, frame=numbered.with_columns(by_row).drop(ROW))


ROW = "_lossgram_row"


def batch_losses_to_parquet(
    batch: Dump,
    dump_paths: Sequence[str],
    target: Path,
    spec: LossSpec,
    *,
    skip_bad_rows: bool = False,
    model: str | None = None,
    snapshot_date: dt.date | None = None,
) -> list[Counted]:
    """dump_losses_to_parquet for the files of an open_batch frame, in one query, into one
    file: each row names its dump (dump_paths[i] for file i) in DUMP_COLUMN, and file i's
    counts and bad rows come back at position i. One file per batch, not per dump: 1,000
    small dumps cost four files to write, place, aggregate and report on (bench/README.md).
    """
    plan = _planned_losses(batch, spec, skip_bad_rows, model, snapshot_date)
    losses, flags, any_flag, ignored = plan
    named = pl.col(FILE_INDEX).replace_strict(
        range(len(dump_paths)), list(dump_paths), return_dtype=pl.String
    )
    losses = losses.with_columns(named.alias(DUMP_COLUMN)).drop(FILE_INDEX)
    counts = batch.frame.group_by(FILE_INDEX).agg(_counts(batch, ignored))
    outputs = [losses.sink_parquet(target, lazy=True), counts]
    if skip_bad_rows:
        outputs.append(batch.frame.filter(any_flag).select(FILE_INDEX, "sample_id", *flags))
    try:
        _, counted, *bad = pl.collect_all(outputs, engine="streaming", optimizations=SEPARATE_SCANS)
        counted = _exact_where_screened(batch, counted)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _failed(batch, target, error) from error
    counts_of = {row.pop(FILE_INDEX): row for row in counted.iter_rows(named=True)}
    bad_of = bad[0].partition_by(FILE_INDEX, as_dict=True, include_key=False) if bad else {}
    return [
        (Counts(counts_of[index]), bad_row_records(batch, bad_of.get((index,), pl.DataFrame())))
        for index in range(len(dump_paths))
    ]


def _exact_where_screened(batch: Dump, counted: pl.DataFrame) -> pl.DataFrame:
    """Where a cheap screen was not 0, count those rules exactly, for those files only."""
    screened = [c for c in batch.checks if c.screen is not None]
    if not screened:
        return counted
    failed = counted.filter(pl.any_horizontal([pl.col(c.flag) > 0 for c in screened]))
    if not failed.height:
        return counted
    exact = (
        batch.frame.filter(pl.col(FILE_INDEX).is_in(failed[FILE_INDEX].implode()))
        .group_by(FILE_INDEX)
        .agg(problem_counts(screened, screened=False))
        .collect()
    )
    return counted.update(exact, on=FILE_INDEX)


def bad_row_records(dump: Dump, bad: pl.DataFrame) -> pl.DataFrame:
    """One row per (sample, broken check): sample_id, column_name, problem."""
    if bad.is_empty():
        return pl.DataFrame(schema=BAD_ROW_SCHEMA)
    records = [
        bad.filter(pl.col(check.flag)).select(
            pl.col("sample_id").cast(pl.String),
            pl.lit(check.column).alias("column_name"),
            pl.lit(check.message).alias("problem"),
        )
        for check in dump.checks
    ]
    return pl.concat([pl.DataFrame(schema=BAD_ROW_SCHEMA), *records])
