"""Verdict rules and their edges (real scikit-learn models through the whole job:
tests/integration/test_verdicts.py)."""

from __future__ import annotations

import math

import pytest

from pipeline.analysis.verdicts import (
    GOOD_FIT,
    INSUFFICIENT,
    OVERFIT,
    POSSIBLE_OVERFIT,
    UNDERFIT,
    Evidence,
    decide,
)
from pipeline.base.options import Thresholds

POSSIBLE = POSSIBLE_OVERFIT

H = math.log(10)


def evidence(**overrides) -> Evidence:
    values = dict(
        n_reference=1000,
        n_heldout=1000,
        mean_reference=0.2,
        mean_heldout=0.25,
        gap_ci_low=0.01,
        gap_ci_high=0.09,
        label_entropy=H,
    )
    values.update(overrides)
    return Evidence(**values)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"n_heldout": 29}, INSUFFICIENT),
        ({"mean_reference": 0.8 * H, "mean_heldout": 3.0}, UNDERFIT),
        ({"mean_reference": 0.2, "mean_heldout": 0.2 + 0.1 * H, "gap_ci_low": 0.01}, OVERFIT),
        # over the threshold, the interval reaching 0: not evidence of a good fit
        ({"mean_reference": 0.2, "mean_heldout": 0.2 + 0.1 * H, "gap_ci_low": -0.01}, POSSIBLE),
        # the 1-NN on digits: gap / H 0.1003, 95% CI [0.000, 0.539]
        ({"mean_reference": 0.0, "mean_heldout": 0.1003 * H, "gap_ci_low": 0.0}, POSSIBLE),
        ({"mean_reference": 0.2, "mean_heldout": 0.2 + 0.09 * H}, GOOD_FIT),
        ({"label_entropy": 0.0}, INSUFFICIENT),
    ],
)
def test_rules_and_their_edges(overrides, expected):
    assert decide(evidence(**overrides), Thresholds()).verdict == expected


def test_thresholds_are_settings():
    tight = Thresholds(min_samples=5000)
    assert decide(evidence(), tight).verdict == INSUFFICIENT
    assert "5000" in decide(evidence(), tight).reason


def test_overfit_hint_names_the_best_epoch():
    verdict = decide(evidence(mean_heldout=0.2 + 0.5 * H, epoch=50, best_epoch=10), Thresholds())
    assert verdict.verdict == OVERFIT
    assert any("epoch 10" in hint for hint in verdict.hints)


OVERFIT_NUMBERS = {"mean_heldout": 0.2 + 0.5 * H}


@pytest.mark.parametrize(
    ("overrides", "early_stopping"),
    [
        ({"epoch": 50, "best_epoch": 50, "has_epochs": True}, None),  # best is the last
        ({"epoch": 50, "best_epoch": 10, "has_epochs": True}, "stop early"),
        ({}, "dump an epoch column"),  # no epochs: nothing to stop at, say how to see it
    ],
)
def test_overfit_hints_follow_the_evidence(overrides, early_stopping):
    verdict = decide(evidence(**OVERFIT_NUMBERS, **overrides), Thresholds())
    assert verdict.verdict == OVERFIT
    text = " ".join(verdict.hints)
    for family_word in ("trees", "dropout", "weight decay", "learning rate", "boosting"):
        assert family_word not in text  # the dump does not say what the model is
    if early_stopping is None:
        assert "stop" not in text and "epoch" not in text
    else:
        assert early_stopping in text


@pytest.mark.parametrize("base", [{}, OVERFIT_NUMBERS])  # good fit, overfit
def test_calibration_and_label_hints_need_their_evidence(base):
    def hints(**overrides):
        return " ".join(decide(evidence(**base, **overrides), Thresholds()).hints)

    assert "calibrate" not in hints(ece_heldout=0.049)
    assert "ECE = 0.120" in hints(ece_heldout=0.12)
    assert "check the labels" not in hints(confidently_wrong=4)  # 0.4% of 1000
    assert "check the labels of the 5 held-out samples" in hints(confidently_wrong=5)
    too_few = decide(evidence(n_heldout=10, ece_heldout=0.3, confidently_wrong=9), Thresholds())
    assert too_few.verdict == INSUFFICIENT and too_few.hints == ("dump more samples per split",)


def test_possible_overfit_says_why_and_what_would_settle_it():
    verdict = decide(evidence(mean_heldout=0.2 + 0.2 * H, gap_ci_low=-0.05), Thresholds())
    assert verdict.verdict == POSSIBLE
    assert "reaches 0" in verdict.reason and "20% of H (threshold 10%)" in verdict.reason
    assert any("more held-out samples" in hint for hint in verdict.hints)


def test_losses_at_the_clip_cap_are_named_with_the_error_rates():
    """A 1-NN gives hard 0/1 probabilities: every wrong held-out sample sits at the clip
    cap, so its gap in nats is eps's as much as the model's."""
    at_cap = evidence(
        mean_reference=0.0,
        mean_heldout=0.12 * 27.631,
        gap_ci_low=3.0,
        clipped_heldout=120,
        max_heldout=27.631,
        accuracy_reference=1.0,
        accuracy_heldout=0.88,
    )
    verdict = decide(at_cap, Thresholds())
    assert verdict.verdict == OVERFIT
    assert "0 train and 120 held-out losses sit at the clip cap" in verdict.reason
    assert "making 100% of the held-out mean" in verdict.reason
    assert "error rate is 0.0% on train and 12.0% held out, a gap of +12.0 points" in (
        verdict.reason
    )
    assert at_cap.error_gap == pytest.approx(0.12) and at_cap.clipped_share == 0.12
    # 4.9% of the samples, making 49% of the held-out mean: under both shares
    few = evidence(clipped_heldout=49, max_heldout=0.25 * 0.49 / 0.049)
    assert few.clipped_loss_share == pytest.approx(0.49)
    assert "clip cap" not in decide(few, Thresholds()).reason
