"""Per-sample cross-entropy with PyTorch semantics, as pure Polars expressions.

Input is the canonical prediction frame made by `pipeline.contract`: one of the
prediction columns `logits` / `probs` (Array[f64, C]) or `logprob` (f64),
an Int64 `label` and/or an Array[f64, C] `label_probs` target.

Both `logits` and `probs` are reduced to the same pair (shifted, lse) with
    -log p_c = lse - shifted_c
- logits: shifted = z - max(z), lse = log(sum(exp(shifted)))  (stable log-sum-exp)
- probs:  shifted = log(max(p, eps)), lse = 0                  (clipped log)
so every target option below is written once, as a linear functional of -log p.
"""

from __future__ import annotations

import polars as pl

from pipeline.base.options import LossSpec

# Columns every per-sample loss table has, in this order, with their types (sample_id is
# Int64 when a dump's ids are integers; a mixed warehouse reads it as text); slice
# columns follow. The warehouse's `losses` view has these columns before any file lands.
LOSS_SCHEMA = pl.Schema(
    {
        "sample_id": pl.String,
        "model": pl.String,
        "split": pl.String,
        "epoch": pl.Int64,
        "label": pl.Int64,
        "weight": pl.Float64,
        "n_classes": pl.Int32,
        "ce": pl.Float64,
        "p_true": pl.Float64,
        "pred": pl.Int64,
        "correct": pl.Boolean,
        "confidence": pl.Float64,
        "clipped": pl.Boolean,
        "brier": pl.Float64,
        # What PyTorch's reduction='mean' divides this row's loss by: w_y for a class
        # index with class weights, else 1 (class-probability targets divide by N).
        "class_weight": pl.Float64,
    }
)
LOSS_COLUMNS = tuple(LOSS_SCHEMA.names())
PREDICTION_COLUMNS = ("logits", "probs", "logprob")
INPUT_COLUMNS = (*PREDICTION_COLUMNS, "label_probs")


def ignored_label(label: pl.Expr, ignore_index: int | None) -> pl.Expr:
    """True where the label is ignore_index: such rows are left out and counted."""
    return pl.lit(False) if ignore_index is None else label.eq_missing(ignore_index)


def prediction_kind(schema: pl.Schema) -> str:
    """Which canonical prediction column a frame carries."""
    present = [name for name in PREDICTION_COLUMNS if name in schema]
    if len(present) != 1:
        raise ValueError(f"expected exactly one of {PREDICTION_COLUMNS}, found {present}")
    return present[0]


def n_classes_of(schema: pl.Schema) -> int | None:
    """Number of classes C of a canonical frame (None for logprob dumps)."""
    for name in ("logits", "probs", "label_probs"):
        dtype = schema.get(name)
        if isinstance(dtype, pl.Array):
            return int(dtype.size)
    return None


def _elementwise(array: pl.Expr, fn: pl.Expr) -> pl.Expr:
    # Polars has no elementwise exp/log on Array columns; arr.eval runs the element
    # expression over the flat buffer (faster than reshape round trips or unrolling
    # struct fields: bench/README.md).
    return array.arr.eval(fn)


# Intermediate columns, computed once per row and dropped by the final select: Polars
# does not share a sub-expression that contains arr.eval, so naming them saves
# recomputing exp over every class for ce, confidence and Brier (bench/README.md).
SHIFTED, EXP, EXP_SUM = "__shifted", "__exp", "__exp_sum"


def _with_log_probabilities(
    frame: pl.LazyFrame, kind: str, eps: float
) -> tuple[pl.LazyFrame, pl.Expr]:
    """Add the shifted scores; returns the frame and lse, with -log p_c = lse - shifted_c."""
    if kind == "logits":
        logits = pl.col("logits")
        frame = (
            frame.with_columns((logits - logits.arr.max()).alias(SHIFTED))
            .with_columns(_elementwise(pl.col(SHIFTED), pl.element().exp()).alias(EXP))
            .with_columns(pl.col(EXP).arr.sum().alias(EXP_SUM))
        )
        return frame, pl.col(EXP_SUM).log()
    clipped_log = _elementwise(pl.col("probs"), pl.element().clip(lower_bound=eps).log())
    return frame.with_columns(clipped_log.alias(SHIFTED)), pl.lit(0.0)


def _probabilities_dot(kind: str, other: pl.Expr) -> pl.Expr:
    """sum_c p_c * other_c on the unclipped probabilities."""
    if kind == "logits":
        return pl.col(EXP).arr.dot(other) / pl.col(EXP_SUM)
    return pl.col("probs").arr.dot(other)


def _weights_array(weights: tuple[float, ...]) -> pl.Expr:
    return pl.lit(pl.Series([list(weights)], dtype=pl.Array(pl.Float64, len(weights))))


def _cross_entropy(
    shifted: pl.Expr, lse: pl.Expr, n_classes: int, soft: bool, spec: LossSpec
) -> tuple[pl.Expr, pl.Expr]:
    """(ce, unweighted unsmoothed ce) for hard or soft targets."""
    smoothing = spec.label_smoothing
    weights = _weights_array(spec.class_weights) if spec.class_weights else None

    if soft:
        # ce = sum_c a_c (lse - shifted_c) with a = w * ((1-e) q + e/C)
        target = pl.col("label_probs")
        plain = lse * target.arr.sum() - target.arr.dot(shifted)
        if smoothing:
            target = target * (1.0 - smoothing) + smoothing / n_classes
        if weights is not None:
            target = target * weights
        if smoothing or weights is not None:
            return lse * target.arr.sum() - target.arr.dot(shifted), plain
        return plain, plain

    plain = lse - shifted.arr.get(pl.col("label"), null_on_oob=True)
    ce = plain
    if weights is not None:
        ce = weights.arr.get(pl.col("label"), null_on_oob=True) * ce
    if smoothing:
        # PyTorch: (1-e) * w_y * nll + (e/C) * sum_c w_c (lse - shifted_c)
        if weights is not None:
            spread = lse * sum(spec.class_weights or ()) - weights.arr.dot(shifted)
        else:
            spread = lse * n_classes - shifted.arr.sum()
        ce = (1.0 - smoothing) * ce + (smoothing / n_classes) * spread
    return ce, plain


def _check_spec(kind: str, n_classes: int | None, soft: bool, spec: LossSpec) -> None:
    if (
        spec.class_weights is not None
        and n_classes is not None
        and len(spec.class_weights) != n_classes
    ):
        raise ValueError(
            f"class_weights has {len(spec.class_weights)} entries but the dump has "
            f"{n_classes} classes"
        )
    if kind == "logprob" and spec.label_smoothing:
        raise ValueError("label_smoothing needs every class's score; a logprob dump has one")
    if kind == "logprob" and soft:
        raise ValueError("soft labels (label_probs) need every class's score, not logprob")


def derivable_p_true(spec: LossSpec, soft: bool) -> bool:
    """Whether p_true is exp(-ce), bit for bit: without class weights, label smoothing or
    soft labels, ce is the unweighted loss p_true is made of (both engines' exp agree)."""
    return spec.class_weights is None and not spec.label_smoothing and not soft


def per_sample_losses(preds: pl.LazyFrame, spec: LossSpec, *, stored: bool = False) -> pl.LazyFrame:
    """Cross-entropy of every sample, PyTorch semantics. `stored`: as the warehouse keeps
    them, the columns its readers derive left NULL (an all-NULL Parquet column costs no
    bytes a row): `correct` is pred = label, and `p_true` is exp(-ce) where
    derivable_p_true (the `losses` view fills both in: sql/losses_source.sql)."""
    schema = preds.collect_schema()
    kind = prediction_kind(schema)
    n_classes = n_classes_of(schema)
    soft = "label_probs" in schema
    _check_spec(kind, n_classes, soft, spec)

    kept = preds if soft else preds.filter(~ignored_label(pl.col("label"), spec.ignore_index))

    if kind == "logprob":
        plain = -pl.col("logprob")
        ce = plain
        if spec.class_weights is not None:
            ce = (
                _weights_array(spec.class_weights).arr.get(pl.col("label"), null_on_oob=True)
                * plain
            )
        derived = {
            "ce": ce,
            "p_true": pl.col("logprob").exp(),
            "pred": pl.lit(None, dtype=pl.Int64),
            "correct": pl.lit(None, dtype=pl.Boolean),
            "confidence": pl.lit(None, dtype=pl.Float64),
            "clipped": pl.lit(False),
            "brier": pl.lit(None, dtype=pl.Float64),
            "class_weight": _class_weight(spec, soft=False),
        }
    else:
        assert n_classes is not None
        kept, lse = _with_log_probabilities(kept, kind, spec.eps)
        shifted = pl.col(SHIFTED)
        ce, plain = _cross_entropy(shifted, lse, n_classes, soft, spec)
        pred = shifted.arr.arg_max().cast(pl.Int64)
        derived = {
            # Polars simplifies 0 - x to -x, which gives -0.0 where p_y = 1: report 0.0.
            "ce": pl.when(ce == 0.0).then(0.0).otherwise(ce),
            "p_true": (-plain).exp(),
            "pred": pred,
            "correct": pred == pl.col("label"),
            "confidence": (
                1.0 / pl.col(EXP_SUM) if kind == "logits" else pl.col("probs").arr.max()
            ),
            "clipped": _clipped(kind, soft, spec),
            "brier": _brier(kind, soft),
            "class_weight": _class_weight(spec, soft),
        }

    if stored:
        derived["correct"] = pl.lit(None, dtype=pl.Boolean)
        if derivable_p_true(spec, soft):
            derived["p_true"] = pl.lit(None, dtype=pl.Float64)

    # Names starting with "_" are private (the reader's `_bad_*` check flags): left out,
    # so computing losses never pays for the checks.
    slice_columns = [
        name
        for name in schema
        if name not in LOSS_COLUMNS and name not in INPUT_COLUMNS and not name.startswith("_")
    ]
    return kept.select(
        pl.col("sample_id", "model", "split", "epoch", "label", "weight"),
        pl.lit(n_classes, dtype=pl.Int32).alias("n_classes"),
        *(expr.alias(name) for name, expr in derived.items()),
        *slice_columns,
    )


def _class_weight(spec: LossSpec, soft: bool) -> pl.Expr:
    """w_y of a class-index target with class weights, else 1: the row's part of the
    denominator of PyTorch's reduction='mean'."""
    if spec.class_weights is None or soft:
        return pl.lit(1.0, dtype=pl.Float64)
    return _weights_array(spec.class_weights).arr.get(pl.col("label"), null_on_oob=True)


def _brier(kind: str, soft: bool) -> pl.Expr:
    """Multi-class Brier score sum_c (p_c - target_c)^2 on the unclipped probabilities."""
    if kind == "logits":
        squares = pl.col(EXP).arr.dot(pl.col(EXP)) / pl.col(EXP_SUM).pow(2)
    else:
        squares = pl.col("probs").arr.dot(pl.col("probs"))
    if soft:
        target = pl.col("label_probs")
        return squares - 2.0 * _probabilities_dot(kind, target) + target.arr.dot(target)
    if kind == "logits":
        p_true = pl.col(EXP).arr.get(pl.col("label"), null_on_oob=True) / pl.col(EXP_SUM)
    else:
        p_true = pl.col("probs").arr.get(pl.col("label"), null_on_oob=True)
    return squares - 2.0 * p_true + 1.0


def _clipped(kind: str, soft: bool, spec: LossSpec) -> pl.Expr:
    """True where eps clipping changed the loss (a probability below eps was used)."""
    if kind != "probs":
        return pl.lit(False)
    below_eps = _elementwise(pl.col("probs"), pl.element() < spec.eps)
    if soft and not spec.label_smoothing:
        # Only classes with target mass contribute to a soft loss.
        used = _elementwise(pl.col("label_probs"), pl.element() > 0)
        return _any_both(below_eps, used)
    if spec.label_smoothing:
        return below_eps.arr.any()  # smoothing gives every class target mass
    return below_eps.arr.get(pl.col("label"), null_on_oob=True)


def _any_both(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """Any class where both boolean arrays are true."""
    as_float = pl.element().cast(pl.Float64)
    return _elementwise(left, as_float).arr.dot(_elementwise(right, as_float)) > 0
