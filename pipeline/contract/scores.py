"""Contract steps for what the model said: the one prediction column, the class count C,
the class names, and the checks on class scores."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipeline.base.options import ReaderOptions
from pipeline.contract.checks import leaf_nulls, not_all_finite
from pipeline.contract.source import (
    BINARY_COLUMNS,
    RAW_PREDICTION_COLUMNS,
    VECTOR_COLUMNS,
    Draft,
    Source,
)

SUM_TOLERANCE = 1e-3  # rows of probabilities must sum to 1 within this
CLASSES_METADATA_KEY = b"lossgram.classes"


def prediction_kind(source: Source, draft: Draft) -> str | None:
    """The file's one prediction column (logits, probs, logit, prob or logprob)."""
    present = [name for name in RAW_PREDICTION_COLUMNS if name in source.schema]
    if not present:
        expected = ", ".join(RAW_PREDICTION_COLUMNS)
        draft.schema_problem(
            None,
            f"no prediction column: expected one of {expected} (columns found: "
            f"{source.columns_found()}; map one with column_map, e.g. logits=<column>)",
        )
        return None
    if len(present) > 1:
        for name in present:
            draft.schema_problem(
                name, f"several prediction columns ({', '.join(present)}): keep exactly one"
            )
        return None
    return present[0]


def class_count(source: Source, kind: str | None) -> int | None:
    """C from a fixed-size array, else from the first row of a list column."""
    if kind in BINARY_COLUMNS:
        return 2
    for name in (kind, "label_probs"):
        if name is None or name == "logprob":
            continue
        dtype = source.dtype_of(name)
        if isinstance(dtype, pl.Array):
            return int(dtype.size)
        if isinstance(dtype, pl.List):
            lengths = source.frame.select(pl.col(name).list.len()).drop_nulls().head(1).collect()
            if lengths.height:
                return int(lengths.item())
    if kind == "logprob" and source.options.classes:
        return len(source.options.classes)
    return None


def declared_classes(path: Path, options: ReaderOptions) -> tuple[str, ...] | None:
    """The class names an accepted dump declared (its footer was checked already): its
    lossgram.classes metadata, else the classes setting."""
    raw = (pq.read_schema(path).metadata or {}).get(CLASSES_METADATA_KEY)
    return tuple(json.loads(raw)) if raw is not None else options.classes


def class_names(source: Source, draft: Draft, n_classes: int | None) -> tuple[str, ...] | None:
    """The class names: the file's lossgram.classes metadata, else the classes setting."""
    raw = source.metadata.get(CLASSES_METADATA_KEY)
    if raw is None:
        return source.options.classes
    try:
        names = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        names = None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        draft.schema_problem(
            None, "metadata lossgram.classes is not a JSON array of strings (in UTF-8)"
        )
        return None
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        listed = ", ".join(repr(name) for name in repeated[:5])
        draft.schema_problem(None, f"metadata lossgram.classes names {listed} more than once")
        return None
    if n_classes is not None and len(names) != n_classes:
        draft.schema_problem(
            None,
            f"metadata lossgram.classes names {len(names)} classes, "
            f"the predictions have {n_classes}",
        )
    return tuple(names)


def vector(source: Source, draft: Draft, name: str, n_classes: int | None) -> pl.Expr | None:
    """A list/array column as Array[f64, C]; ragged rows become null and are flagged."""
    dtype = source.dtype_of(name)
    if not isinstance(dtype, pl.List | pl.Array) or not dtype.inner.is_numeric():
        draft.schema_problem(name, f"must be a list or array of numbers, not {dtype}")
        return None
    if n_classes is None:
        draft.schema_problem(name, "every row is null: cannot tell the number of classes")
        return None
    if n_classes < 2:
        draft.schema_problem(name, f"needs at least 2 classes, has {n_classes}")
        return None
    target = pl.Array(pl.Float64, n_classes)
    column = pl.col(name)
    draft.check(f"{name}_null", name, "value is null", column.is_null(), raw=True)
    # A null inside the list would be skipped by the log-sum-exp: a wrong loss.
    is_list = isinstance(dtype, pl.List)
    null_inside = (column.list if is_list else column.arr).eval(pl.element().is_null())
    has_null = (null_inside.list.any() if is_list else null_inside.arr.any()) & column.is_not_null()
    screen = None if source.batched else partial(leaf_nulls, source.path, source.source_of(name))
    message = "has a null value inside the list"
    draft.check(f"{name}_null_inside", name, message, has_null, raw=True, screen=screen)
    if isinstance(dtype, pl.Array):
        if dtype.size != n_classes:
            draft.schema_problem(name, f"has {dtype.size} classes, expected {n_classes}")
        return column.cast(target)
    ragged = column.list.len() != n_classes
    message = f"has a class count other than {n_classes}"
    draft.check(f"{name}_ragged", name, message, ragged, raw=True)
    return pl.when(~ragged).then(column).cast(target)


NON_FINITE_SCORES = "contains NaN or inf (or scores ~1e308 apart: the loss would overflow)"


def prediction(source: Source, draft: Draft, kind: str, n_classes: int | None) -> None:
    """The canonical prediction column (logits / probs arrays, or logprob) and its checks."""
    if kind in VECTOR_COLUMNS:
        expr = vector(source, draft, kind, n_classes)
        if expr is None:
            return
        draft.canonical[kind] = expr
        values = pl.col(kind)
        draft.check(f"{kind}_nonfinite", kind, NON_FINITE_SCORES, not_all_finite(values), raw=False)
        if kind == "probs":
            probability_rows(draft, "probs", values)
        return

    dtype = source.dtype_of(kind)
    if dtype is None or not dtype.is_numeric():
        draft.schema_problem(kind, f"must be a number, not {dtype}")
        return
    value = pl.col(kind).cast(pl.Float64)
    not_finite = ~value.is_finite().fill_null(False)
    draft.check(f"{kind}_nonfinite", kind, "is null, NaN or inf", not_finite, raw=True)
    if kind == "logit":
        # The two-class case with logits [0, s].
        draft.canonical["logits"] = pl.concat_arr(pl.lit(0.0, dtype=pl.Float64), value)
    elif kind == "prob":
        outside = (value < 0) | (value > 1)
        draft.check("prob_range", kind, "is outside [0, 1]", outside, raw=True)
        draft.canonical["probs"] = pl.concat_arr(1.0 - value, value)
    else:
        positive = value > 0
        message = "is > 0 (a log-probability is <= 0)"
        draft.check("logprob_positive", kind, message, positive, raw=True)
        draft.canonical["logprob"] = value


def probability_rows(draft: Draft, name: str, values: pl.Expr) -> None:
    """Rows of probabilities: none negative, each summing to 1."""
    negative = values.arr.min() < 0
    draft.check(f"{name}_negative", name, "has a negative probability", negative, raw=False)
    off = (values.arr.sum() - 1.0).abs() > SUM_TOLERANCE
    message = f"row does not sum to 1 (+-{SUM_TOLERANCE})"
    draft.check(f"{name}_sum", name, message, off, raw=False)
