"""Cross-entropy against oracles from outside the project (scipy, sklearn, hand formulas)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, log_softmax
from sklearn.metrics import log_loss

TOL = 1e-6
RNG = np.random.default_rng(20261124)


def random_case(n: int = 64, n_classes: int = 5, scale: float = 3.0):
    logits = RNG.normal(size=(n, n_classes)) * scale
    labels = RNG.integers(0, n_classes, n)
    return logits, labels


def base(n: int, split: str = "test") -> dict:
    return {"sample_id": np.arange(n), "split": [split] * n}


def test_seed_example_probs(dump_file, compute):
    # the README's seed example: probs [0.3, 0.6, 0.1], true class index 1 -> -log 0.6
    path = dump_file({**base(1), "label": [1], "probs": np.array([[0.3, 0.6, 0.1]])})
    row = compute(path).row(0, named=True)
    assert row["ce"] == pytest.approx(0.510826, abs=1e-6)
    assert row["p_true"] == pytest.approx(0.6)
    assert row["pred"] == 1 and row["correct"] is True
    assert row["confidence"] == pytest.approx(0.6)
    assert row["clipped"] is False


def test_seed_example_logits(dump_file, compute):
    # logits [1, 2, 3], label 0: lse = 3 + log(1 + e^-1 + e^-2) = 3.407606; ce = 2.407606
    path = dump_file({**base(1), "label": [0], "logits": np.array([[1.0, 2.0, 3.0]])})
    row = compute(path).row(0, named=True)
    assert row["ce"] == pytest.approx(2.4076059644, abs=1e-9)
    assert row["pred"] == 2 and row["correct"] is False
    assert row["confidence"] == pytest.approx(math.exp(3 - 3.4076059644), abs=1e-9)


def test_logits_match_scipy_log_softmax(dump_file, compute):
    logits, labels = random_case()
    out = compute(dump_file({**base(len(labels)), "label": labels, "logits": logits}))
    expected = -log_softmax(logits, axis=1)[np.arange(len(labels)), labels]
    np.testing.assert_allclose(out["ce"].to_numpy(), expected, atol=TOL, rtol=0)
    np.testing.assert_allclose(out["p_true"].to_numpy(), np.exp(-expected), atol=TOL)
    np.testing.assert_array_equal(out["pred"].to_numpy(), logits.argmax(1))
    np.testing.assert_allclose(
        out["confidence"].to_numpy(), np.exp(log_softmax(logits, axis=1)).max(1), atol=TOL
    )


def test_float32_logits_are_computed_in_float64(dump_file, compute):
    logits, labels = random_case()
    logits32 = logits.astype(np.float32)
    out = compute(dump_file({**base(len(labels)), "label": labels, "logits": logits32}))
    expected = -log_softmax(logits32.astype(np.float64), axis=1)[np.arange(len(labels)), labels]
    np.testing.assert_allclose(out["ce"].to_numpy(), expected, atol=1e-12, rtol=0)


def test_probs_match_sklearn_log_loss(dump_file, compute):
    logits, labels = random_case(n_classes=4)
    probs = np.exp(log_softmax(logits, axis=1))
    out = compute(dump_file({**base(len(labels)), "label": labels, "probs": probs}))
    for row, (y, p) in enumerate(zip(labels, probs, strict=True)):
        # sklearn clips at its own float eps; these probabilities are far from it.
        expected = log_loss([y], [p], labels=range(4))
        assert out["ce"][row] == pytest.approx(expected, abs=TOL)


def test_probs_clipping_at_eps_is_flagged(dump_file, compute):
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    out = compute(dump_file({**base(2), "label": [1, 0], "probs": probs}))
    assert out["ce"][0] == pytest.approx(-math.log(1e-12), abs=1e-9)  # 27.631021
    assert out["ce"][0] == pytest.approx(27.631021, abs=1e-6)
    assert out["clipped"].to_list() == [True, False]
    custom = compute(dump_file({**base(2), "label": [1, 0], "probs": probs}), eps=1e-8)
    assert custom["ce"][0] == pytest.approx(-math.log(1e-8))


def test_label_smoothing_hand_formula(dump_file, compute):
    logits, labels = random_case()
    smoothing = 0.1
    out = compute(
        dump_file({**base(len(labels)), "label": labels, "logits": logits}),
        label_smoothing=smoothing,
    )
    neg_logp = -log_softmax(logits, axis=1)
    nll = neg_logp[np.arange(len(labels)), labels]
    expected = (1 - smoothing) * nll + smoothing * neg_logp.mean(axis=1)
    np.testing.assert_allclose(out["ce"].to_numpy(), expected, atol=TOL, rtol=0)
    # p_true stays the unsmoothed probability of the true class.
    np.testing.assert_allclose(out["p_true"].to_numpy(), np.exp(-nll), atol=TOL)


def test_class_weights_hand_formula(dump_file, compute):
    logits, labels = random_case(n_classes=3)
    weights = (0.5, 2.0, 1.5)
    out = compute(
        dump_file({**base(len(labels)), "label": labels, "logits": logits}),
        class_weights=weights,
    )
    nll = -log_softmax(logits, axis=1)[np.arange(len(labels)), labels]
    np.testing.assert_allclose(
        out["ce"].to_numpy(), np.array(weights)[labels] * nll, atol=TOL, rtol=0
    )


def test_class_weights_with_label_smoothing_follow_pytorch(dump_file, compute):
    # torch: (1-e) * w_y * nll + (e/C) * sum_c w_c * (-log p_c)
    logits, labels = random_case(n_classes=3)
    weights, smoothing = np.array([0.5, 2.0, 1.5]), 0.2
    out = compute(
        dump_file({**base(len(labels)), "label": labels, "logits": logits}),
        class_weights=tuple(weights),
        label_smoothing=smoothing,
    )
    neg_logp = -log_softmax(logits, axis=1)
    nll = neg_logp[np.arange(len(labels)), labels]
    expected = (1 - smoothing) * weights[labels] * nll + smoothing / 3 * (neg_logp @ weights)
    np.testing.assert_allclose(out["ce"].to_numpy(), expected, atol=TOL, rtol=0)


def test_soft_labels_weights_and_smoothing(dump_file, compute):
    logits, _ = random_case(n_classes=4)
    targets = RNG.dirichlet(np.ones(4), size=len(logits))
    weights, smoothing = np.array([1.0, 0.5, 2.0, 3.0]), 0.1
    path = dump_file({**base(len(logits)), "label_probs": targets, "logits": logits})
    neg_logp = -log_softmax(logits, axis=1)

    plain = compute(path)
    np.testing.assert_allclose(plain["ce"].to_numpy(), (targets * neg_logp).sum(1), atol=TOL)
    assert plain["label"].to_list() == targets.argmax(1).tolist()

    both = compute(path, class_weights=tuple(weights), label_smoothing=smoothing)
    smoothed = (1 - smoothing) * targets + smoothing / 4
    expected = (weights * smoothed * neg_logp).sum(1)
    np.testing.assert_allclose(both["ce"].to_numpy(), expected, atol=TOL, rtol=0)


def test_ignore_index_rows_are_left_out_and_counted(dump_file, compute, tmp_path):
    logits, labels = random_case(n=10, n_classes=3)
    labels[[2, 5]] = -100
    out = compute(dump_file({**base(10), "label": labels, "logits": logits}))
    assert out.height == 8
    assert sorted(out["sample_id"].to_list()) == [i for i in range(10) if i not in (2, 5)]

    labels[[2, 5]] = 7
    custom = compute(dump_file({**base(10), "label": labels, "logits": logits}), ignore_index=7)
    assert custom.height == 8


def test_binary_logit_matches_bce_formula(dump_file, compute):
    scores = np.array([-50.0, -3.0, -0.2, 0.0, 0.7, 4.0, 60.0])
    labels = np.array([0, 1, 0, 1, 1, 0, 1])
    out = compute(dump_file({**base(len(scores)), "label": labels, "logit": scores}))
    expected = np.maximum(scores, 0) - scores * labels + np.log1p(np.exp(-np.abs(scores)))
    np.testing.assert_allclose(out["ce"].to_numpy(), expected, atol=TOL, rtol=0)
    p_one = expit(scores)
    np.testing.assert_allclose(
        out["p_true"].to_numpy(), np.where(labels == 1, p_one, 1 - p_one), atol=TOL
    )
    assert out["pred"].to_list() == (scores > 0).astype(int).tolist()


def test_binary_prob_matches_sklearn(dump_file, compute):
    probs = np.array([0.01, 0.3, 0.5, 0.8, 0.999])
    labels = np.array([0, 1, 1, 0, 1])
    out = compute(dump_file({**base(5), "label": labels, "prob": probs}))
    for row, (y, p) in enumerate(zip(labels, probs, strict=True)):
        assert out["ce"][row] == pytest.approx(log_loss([y], [p], labels=[0, 1]), abs=TOL)


def test_logprob_is_negated(dump_file, compute):
    logprob = np.array([-0.0, -0.25, -3.5])
    out = compute(dump_file({**base(3), "label": [0, 1, 2], "logprob": logprob}))
    np.testing.assert_allclose(out["ce"].to_numpy(), [0.0, 0.25, 3.5])
    np.testing.assert_allclose(out["p_true"].to_numpy(), np.exp(logprob))
    assert out["pred"].null_count() == 3


def test_string_labels_use_class_metadata(dump_file, compute):
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    path = dump_file(
        {**base(2), "label": ["dog", "cat"], "logits": logits}, classes=["cat", "dog", "eel"]
    )
    out = compute(path)
    assert out["label"].to_list() == [1, 0]
    expected = -log_softmax(logits, axis=1)[[0, 1], [1, 0]]
    np.testing.assert_allclose(out["ce"].to_numpy(), expected, atol=TOL)


def test_huge_logits_stay_finite_and_exact(dump_file, compute):
    logits = np.array([[1e4, 0.0, -1e4], [1e4, 1e4 - 1.0, 0.0]])
    out = compute(dump_file({**base(2), "label": [1, 1], "logits": logits}))
    assert out["ce"].to_list() == pytest.approx([1e4, math.log1p(math.e)], abs=1e-9)
    assert np.isfinite(out["ce"].to_numpy()).all()


def test_weight_and_slice_columns_are_carried(dump_file, compute):
    logits, labels = random_case(n=4, n_classes=3)
    out = compute(
        dump_file(
            {
                **base(4),
                "label": labels,
                "logits": logits,
                "weight": [1.0, 0.5, 2.0, 0.0],
                "region": ["eu", "us", "eu", "us"],
                "epoch": [3, 3, 3, 3],
            }
        )
    )
    assert out["weight"].to_list() == [1.0, 0.5, 2.0, 0.0]
    assert out["region"].to_list() == ["eu", "us", "eu", "us"]
    assert out["epoch"].to_list() == [3, 3, 3, 3]
    assert set(out.columns) >= {
        "sample_id",
        "model",
        "split",
        "epoch",
        "label",
        "ce",
        "p_true",
        "pred",
        "correct",
        "confidence",
        "clipped",
        "n_classes",
    }


def test_brier_matches_numpy(dump_file, compute):
    logits, labels = random_case(n_classes=4)
    probs = np.exp(log_softmax(logits, axis=1))
    one_hot = np.eye(4)[labels]
    expected = ((probs - one_hot) ** 2).sum(1)
    from_logits = compute(dump_file({**base(len(labels)), "label": labels, "logits": logits}))
    from_probs = compute(dump_file({**base(len(labels)), "label": labels, "probs": probs}))
    np.testing.assert_allclose(from_logits["brier"].to_numpy(), expected, atol=1e-9)
    np.testing.assert_allclose(from_probs["brier"].to_numpy(), expected, atol=1e-9)


def test_certain_probability_gives_positive_zero(dump_file, compute):
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    out = compute(dump_file({**base(2), "label": [0, 1], "probs": probs}))
    assert [math.copysign(1.0, ce) for ce in out["ce"]] == [1.0, 1.0]  # not -0.0
