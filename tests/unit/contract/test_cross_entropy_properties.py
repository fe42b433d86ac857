"""Hypothesis properties of per_sample_losses on canonical frames."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_softmax

from pipeline.base.options import LossSpec
from pipeline.contract.cross_entropy import per_sample_losses

finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)


@st.composite
def logit_cases(draw, max_rows: int = 12, max_classes: int = 6):
    n_rows = draw(st.integers(1, max_rows))
    n_classes = draw(st.integers(2, max_classes))
    logits = draw(arrays(np.float64, (n_rows, n_classes), elements=finite))
    labels = draw(arrays(np.int64, n_rows, elements=st.integers(0, n_classes - 1)))
    return logits, labels


def canonical(
    logits: np.ndarray, labels: np.ndarray, prediction: str = "logits", **extra: object
) -> pl.LazyFrame:
    n_rows, n_classes = logits.shape
    columns = {
        "sample_id": [str(i) for i in range(n_rows)],
        "model": ["m"] * n_rows,
        "split": ["test"] * n_rows,
        "epoch": pl.Series([None] * n_rows, dtype=pl.Int64),
        "label": labels,
        "weight": np.ones(n_rows),
        prediction: pl.Series(logits, dtype=pl.Array(pl.Float64, n_classes)),
    }
    for name, value in extra.items():
        columns[name] = value
    return pl.LazyFrame(columns)


def ce_of(frame: pl.LazyFrame, spec: LossSpec | None = None) -> np.ndarray:
    return per_sample_losses(frame, spec or LossSpec()).collect()["ce"].to_numpy()


@given(logit_cases(), st.floats(0, 0.9))
def test_ce_is_non_negative(case, smoothing):
    logits, labels = case
    assert (ce_of(canonical(logits, labels), LossSpec(label_smoothing=smoothing)) >= 0).all()


@given(logit_cases())
def test_probs_ce_is_non_negative_and_matches_logits(case):
    logits, labels = case
    probs = np.exp(log_softmax(logits, axis=1))
    from_probs = ce_of(canonical(probs, labels, prediction="probs"))
    assert (from_probs >= 0).all()
    # Equal to the logits path wherever clipping does not bite.
    unclipped = probs[np.arange(len(labels)), labels] > 1e-12
    np.testing.assert_allclose(
        from_probs[unclipped], ce_of(canonical(logits, labels))[unclipped], atol=1e-6
    )


@given(logit_cases(), st.floats(0, 0.5))
def test_one_hot_soft_labels_equal_hard_labels(case, smoothing):
    logits, labels = case
    one_hot = np.eye(logits.shape[1])[labels]
    hard = canonical(logits, labels)
    soft = canonical(
        logits, labels, label_probs=pl.Series(one_hot, dtype=pl.Array(pl.Float64, logits.shape[1]))
    )
    spec = LossSpec(label_smoothing=smoothing)
    np.testing.assert_allclose(ce_of(soft, spec), ce_of(hard, spec), atol=1e-9)


@given(logit_cases())
def test_smoothing_zero_and_unit_weights_change_nothing(case):
    logits, labels = case
    frame = canonical(logits, labels)
    plain = ce_of(frame)
    np.testing.assert_allclose(ce_of(frame, LossSpec(label_smoothing=0.0)), plain, atol=1e-12)
    unit = LossSpec(class_weights=(1.0,) * logits.shape[1])
    np.testing.assert_allclose(ce_of(frame, unit), plain, atol=1e-9)
    np.testing.assert_allclose(
        ce_of(frame, LossSpec(class_weights=unit.class_weights, label_smoothing=0.0)),
        plain,
        atol=1e-9,
    )


@given(logit_cases(), st.randoms(use_true_random=False), st.floats(0, 0.5))
@settings(max_examples=50)
def test_permuting_classes_consistently_leaves_ce_unchanged(case, random, smoothing):
    logits, labels = case
    n_classes = logits.shape[1]
    order = list(range(n_classes))
    random.shuffle(order)
    weights = tuple(float(w) for w in np.linspace(0.5, 2.0, n_classes))
    permuted_weights = tuple(weights[c] for c in order)
    inverse = np.argsort(order)  # new index of each old class
    spec = LossSpec(label_smoothing=smoothing, class_weights=weights)
    permuted_spec = LossSpec(label_smoothing=smoothing, class_weights=permuted_weights)
    np.testing.assert_allclose(
        ce_of(canonical(logits[:, order], inverse[labels]), permuted_spec),
        ce_of(canonical(logits, labels), spec),
        atol=1e-9,
    )


@given(logit_cases(max_rows=4), st.sampled_from([1e4, -1e4, 1e6, 3e37]))
def test_huge_logits_stay_finite_and_exact(case, offset):
    logits, labels = case
    shifted = logits.copy()
    shifted[:, 0] += offset
    ce = ce_of(canonical(shifted, labels))
    assert np.isfinite(ce).all()
    # float64 oracle on the same inputs; subtracting the max keeps both exact.
    expected = -log_softmax(shifted, axis=1)[np.arange(len(labels)), labels]
    np.testing.assert_allclose(ce, expected, rtol=1e-12, atol=1e-9)
