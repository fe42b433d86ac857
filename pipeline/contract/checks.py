"""Row-level rules of the dump contract and how their broken rows are counted.

A rule is a boolean `_bad_*` flag column on the canonical frame, so the same single pass
that computes the losses counts the rows breaking it; `problems_found` turns the counts
into Problems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from pipeline.contract.problems import Problem
from pipeline.contract.slices import STEP_DOWN, sliced_scan

FLAG_PREFIX = "_bad_"
EXAMPLE_PREFIX = "_example_"  # a count's companion: the offending values it names


def flag_name(rule: str) -> str:
    return FLAG_PREFIX + rule


@dataclass(frozen=True)
class Check:
    """A row-level rule: the flag column is True on every row that breaks it.

    `screen`, when set, is a cheaper count that is 0 whenever no row breaks the rule:
    an aggregate in the same pass, or a function run on the file beside it. The exact
    count (the sum of the flag) is then needed only when the screen is not 0.
    `example`, when set, is an aggregate in the same pass naming a few offending values
    (a string, empty when none), which the problem's message shows.
    """

    flag: str
    column: str
    message: str
    screen: pl.Expr | Callable[[], int] | None = None
    example: pl.Expr | None = None


def flag_columns(checks: Sequence[Check]) -> list[str]:
    return [check.flag for check in checks]


def problem_counts(checks: Sequence[Check], *, screened: bool = True) -> list[pl.Expr]:
    """Aggregates named after each check's flag: the rows breaking it (screened: maybe a
    cheaper number that is 0 exactly when no row breaks it; checks screened by a
    function are left to `run_screens`)."""
    counts = []
    for check in checks:
        if screened and check.screen is not None and not isinstance(check.screen, pl.Expr):
            continue  # a function on the file: run_screens
        count = check.screen if screened and isinstance(check.screen, pl.Expr) else None
        counts.append(
            (pl.col(check.flag).sum() if count is None else count).cast(pl.Int64).alias(check.flag)
        )
        if check.example is not None:
            counts.append(check.example.alias(EXAMPLE_PREFIX + check.flag))
    return counts


def offending_values(values: pl.Expr, broken: pl.Expr) -> pl.Expr:
    """A row's value quoted where it breaks a rule, else null: computed beside the flag
    (on the file's columns), so the count's pass can name a few (`first_offenders`)."""
    quoted = pl.concat_str(pl.lit("'"), values.cast(pl.String), pl.lit("'"))
    return pl.when(broken.fill_null(False)).then(quoted)


def first_offenders(column: str, most: int = 3) -> pl.Expr:
    """An aggregate: up to `most` distinct offending values of a column made by
    offending_values, joined ("'d', 'x'"); empty when no row breaks the rule."""
    return pl.col(column).drop_nulls().unique(maintain_order=True).head(most).str.join(", ")


def run_screens(checks: Sequence[Check]) -> dict[str, int]:
    """The counts of the checks screened by a function on the file."""
    return {
        check.flag: check.screen()
        for check in checks
        if check.screen is not None and not isinstance(check.screen, pl.Expr)
    }


class Counts(dict[str, int]):
    """A pass's counts (rows, ignored rows, the rows breaking each check by its flag) and,
    in `found`, the offending values the checks that name them found."""

    def __init__(self, row: Mapping[str, object]) -> None:
        numbers = {k: v for k, v in row.items() if not k.startswith(EXAMPLE_PREFIX)}
        super().__init__({name: int(value or 0) for name, value in numbers.items()})  # type: ignore[call-overload]
        self.found = {
            name.removeprefix(EXAMPLE_PREFIX): str(value)
            for name, value in row.items()
            if name.startswith(EXAMPLE_PREFIX) and value
        }


def problems_found(checks: Sequence[Check], counts: Counts) -> list[Problem]:
    """The checks that some rows broke, with their row counts (and the values they
    found, for checks that name them)."""
    problems = []
    for check in checks:
        if counts.get(check.flag, 0) > 0:
            found = counts.found.get(check.flag)
            message = f"{check.message} (found {found})" if found else check.message
            problems.append(Problem(check.column, counts[check.flag], message))
    return problems


def ids_out_of_order(path: Path, column: str) -> int:
    """Rows whose id is not greater than the previous row's, decoded a slice at a time (the
    duplicate-id screen of the losses pass, on its own)."""
    schema = pl.scan_parquet(path).collect_schema()
    steps = sliced_scan(path, schema, column).select(pl.col(STEP_DOWN).sum())
    return int(steps.collect(engine="streaming").item() or 0)


INT64_MAX = 2**63 - 1


def as_int64(draft: Any, column: str, dtype: pl.DataType) -> pl.Expr:
    """An integer column as Int64; unsigned 64-bit values past Int64 are flagged (and
    become null) instead of failing the whole file."""
    if dtype == pl.UInt64:
        too_big = pl.col(column) > INT64_MAX
        draft.check(f"{column}_too_big", column, f"is larger than {INT64_MAX}", too_big, raw=True)
        return pl.col(column).cast(pl.Int64, strict=False)
    return pl.col(column).cast(pl.Int64)


def leaf_nulls(path: Path, column: str) -> int:
    """Null values inside a list column (and null lists), from the footer's statistics:
    0 means none; a file without statistics gives 1, so the rows are counted exactly."""
    metadata = pq.ParquetFile(path).metadata
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if chunk.path_in_schema.startswith(column + "."):
                statistics = chunk.statistics
                if statistics is None or statistics.null_count is None:
                    return 1
                total += statistics.null_count
    return total


def not_all_finite(values: pl.Expr) -> pl.Expr:
    """Some class score is NaN or +-inf, or scores lie so far apart (~1e308) that the
    log-sum-exp overflows: cheap reductions instead of an element-wise pass (min and max
    catch the infinities, the sum catches NaN, max - min the overflow)."""
    low, high = values.arr.min(), values.arr.max()
    return ~(
        low.is_finite() & high.is_finite() & values.arr.sum().is_finite() & (high - low).is_finite()
    )
