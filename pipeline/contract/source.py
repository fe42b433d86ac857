"""The parts a canonical frame is built from.

`Source` is what the footer tells about one file (or a batch of small files read as
one); `Draft` collects the canonical columns, the row-level checks and the schema
problems as the steps (identity.py, scores.py, targets.py) add them; `Dump` is the
result (canonical.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl

from pipeline.base.options import ReaderOptions
from pipeline.contract.batching import PATH_VALUE
from pipeline.contract.checks import (
    EXAMPLE_PREFIX,
    Check,
    first_offenders,
    flag_name,
    offending_values,
)
from pipeline.contract.discovery import hive_keys
from pipeline.contract.problems import Problem

BINARY_COLUMNS = ("logit", "prob")
VECTOR_COLUMNS = ("logits", "probs")
RAW_PREDICTION_COLUMNS = (*VECTOR_COLUMNS, *BINARY_COLUMNS, "logprob")


@dataclass(frozen=True)
class Dump:
    """One dump file (or a batch of them), as a canonical lazy frame plus its checks."""

    path: Path
    frame: pl.LazyFrame
    checks: tuple[Check, ...]
    n_rows: int


@dataclass(frozen=True)
class Source:
    """What the footer tells about a file: its frame, schema, rows, metadata, folders."""

    path: Path
    frame: pl.LazyFrame
    schema: pl.Schema
    n_rows: int
    metadata: dict[bytes, bytes]
    raw_names: frozenset[str]  # the file's own column names, before renames
    options: ReaderOptions
    batched: bool = False  # a frame over many files (open_batch)

    @cached_property
    def hive(self) -> dict[str, str]:
        """The file's key=value folders (the first file's, in a batch: they share keys)."""
        return hive_keys(self.path, self.options.folders_below)

    def dtype_of(self, column: str) -> pl.DataType | None:
        return self.schema.get(column)

    def path_value(self, key: str) -> pl.Expr:
        """A value from the file's path (a hive folder key, or "stem"): in a batch, the
        column open_batch derived from each row's file."""
        if self.batched:
            return pl.col(PATH_VALUE + key)
        return pl.lit(self.path.stem if key == "stem" else self.hive[key], dtype=pl.String)

    def columns_found(self) -> str:
        """The file's columns, as an error lists them (the first twelve)."""
        found = sorted(self.raw_names)
        shown = ", ".join(found[:12]) + (f" and {len(found) - 12} more" if len(found) > 12 else "")
        return shown or "none"

    def missing(self, column: str) -> str:
        """Why a required column is missing, with what the file has and how to map it."""
        return (
            f"required column is missing (columns found: {self.columns_found()}; "
            f"name one with column_map {column}=<column>: in lossgram.toml, "
            f"LOSSGRAM_COLUMN_MAP, or --map for lossgram losses)"
        )

    def source_of(self, canonical: str) -> str:
        """The file's own name of a (possibly renamed) column."""
        source = self.options.column_map.get(canonical)
        return source if source is not None and source in self.raw_names else canonical


@dataclass
class Draft:
    """The canonical frame under construction: columns, checks and schema problems."""

    n_rows: int
    problems: list[Problem] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    raw_flags: dict[str, pl.Expr] = field(default_factory=dict)  # on the file's columns
    canonical: dict[str, pl.Expr] = field(default_factory=dict)
    later_flags: dict[str, pl.Expr] = field(default_factory=dict)  # on canonical columns

    def schema_problem(self, column: str | None, message: str) -> None:
        self.problems.append(Problem(column, self.n_rows, message))

    def check(
        self,
        rule: str,
        column: str,
        message: str,
        expr: pl.Expr,
        *,
        raw: bool,
        screen: pl.Expr | Callable[[], int] | None = None,
        offending: pl.Expr | None = None,
    ) -> None:
        """Register a row-level rule; raw rules see the file's columns, others canonical ones.
        With `offending` (the values to name), the problem shows a few of them."""
        flag = flag_name(rule)
        flags = self.raw_flags if raw else self.later_flags
        example = None
        if offending is not None:
            example_column = EXAMPLE_PREFIX + rule
            flags[example_column] = offending_values(offending, expr)
            example = first_offenders(example_column)
        self.checks.append(Check(flag, column, message, screen, example))
        flags[flag] = expr.fill_null(False)
