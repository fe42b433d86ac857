"""Contract steps for the truth: the hard label or soft target, and the sample weight."""

from __future__ import annotations

import polars as pl

from pipeline.contract.checks import as_int64, not_all_finite
from pipeline.contract.cross_entropy import ignored_label
from pipeline.contract.scores import probability_rows, vector
from pipeline.contract.source import Draft, Source


def target(
    source: Source,
    draft: Draft,
    kind: str,
    n_classes: int | None,
    classes: tuple[str, ...] | None,
) -> None:
    """label (a class index) and/or label_probs (a soft target)."""
    has_label = "label" in source.schema
    has_soft = "label_probs" in source.schema
    if not has_label and not has_soft:
        draft.schema_problem("label", source.missing("label") + "; or give label_probs")
        return
    if has_soft:
        if kind == "logprob":
            draft.schema_problem("label_probs", "soft labels need logits or probs, not logprob")
            return
        expr = vector(source, draft, "label_probs", n_classes)
        if expr is not None:
            draft.canonical["label_probs"] = expr
            soft = pl.col("label_probs")
            nonfinite = not_all_finite(soft)
            message = "contains NaN or inf"
            draft.check("label_probs_nonfinite", "label_probs", message, nonfinite, raw=False)
            probability_rows(draft, "label_probs", soft)
    if has_label:
        hard_label(source, draft, kind, n_classes, classes, required=not has_soft)
    else:
        # Accuracy of a soft target is measured against its most likely class (of the
        # converted target: the file's column may be a plain list).
        soft_target = draft.canonical.get("label_probs")
        if soft_target is not None:
            draft.canonical["label"] = soft_target.arr.arg_max().cast(pl.Int64)


def hard_label(
    source: Source,
    draft: Draft,
    kind: str,
    n_classes: int | None,
    classes: tuple[str, ...] | None,
    *,
    required: bool,
) -> None:
    """The label as an Int64 class index; names are looked up in the class list."""
    index = _label_index(source, draft, classes)
    if index is None:
        return
    if required:
        # The label itself missing: a name not in the class list is said once, as such.
        draft.check("label_null", "label", "label is null", pl.col("label").is_null(), raw=True)
    loss = source.options.loss
    if n_classes is not None:
        in_range = (index >= 0) & (index < n_classes)
        ignored = ignored_label(index, loss.ignore_index)
        outside = ~in_range & ~ignored
        draft.check("label_range", "label", f"is outside [0, {n_classes})", outside, raw=True)
        index = pl.when(in_range | ignored).then(index)
    elif kind == "logprob" and loss.class_weights is not None:
        draft.schema_problem(
            "label", "class_weights with a logprob dump need the classes setting to know C"
        )
    draft.canonical["label"] = index


def _label_index(source: Source, draft: Draft, classes: tuple[str, ...] | None) -> pl.Expr | None:
    dtype = source.dtype_of("label")
    label = pl.col("label")
    if dtype == pl.String or dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        if classes is None:
            draft.schema_problem(
                "label",
                "string labels need the class list: Parquet metadata "
                "lossgram.classes or the classes setting",
            )
            return None
        names = label.cast(pl.String)
        unknown = names.is_not_null() & ~names.is_in(list(classes))
        shown = ", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "")
        message = f"is not one of the {len(classes)} classes ({shown})"
        draft.check("label_unknown", "label", message, unknown, raw=True, offending=names)
        return names.replace_strict(
            list(classes), list(range(len(classes))), default=None, return_dtype=pl.Int64
        )
    if dtype is not None and dtype.is_integer():
        return as_int64(draft, "label", dtype)
    draft.schema_problem("label", f"must be an integer class index or a string, not {dtype}")
    return None


def weight(source: Source, draft: Draft) -> None:
    """The per-sample weight (default 1): finite and >= 0."""
    dtype = source.dtype_of("weight")
    if dtype is None:
        draft.canonical["weight"] = pl.lit(1.0, dtype=pl.Float64)
        return
    if not dtype.is_numeric():
        draft.schema_problem("weight", f"must be a number, not {dtype}")
        return
    value = pl.col("weight").cast(pl.Float64)
    invalid = ~(value.is_finite() & (value >= 0)).fill_null(False)  # a null is invalid
    message = "is null, negative, NaN or inf"
    draft.check("weight_invalid", "weight", message, invalid, raw=True)
    draft.canonical["weight"] = value
