"""What changed since the previous night, classified: flips, significant gap / H moves,
models that came and went (tests/integration/test_changes.py: on real warehouses)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from pipeline.analysis.changes import (
    IMPROVEMENT,
    NOTE,
    REGRESSION,
    Z95,
    classify,
    gap_move,
)


def pair(**values):
    base = {
        "model": "mlp",
        "heldout_split": "test",
        "verdict": "good_fit",
        "normalised_gap": 0.05,
        "normalised_ci_low": 0.03,
        "normalised_ci_high": 0.07,
        "previous_date": dt.date(2026, 11, 22),
        "previous_verdict": "good_fit",
        "previous_normalised_gap": 0.05,
        "previous_ci_low": 0.03,
        "previous_ci_high": 0.07,
    }
    return {**base, **values}


@pytest.mark.parametrize(
    ("before", "now", "severity"),
    [
        ("good_fit", "overfit", REGRESSION),
        ("good_fit", "underfit", REGRESSION),
        ("overfit", "underfit", REGRESSION),
        ("overfit", "good_fit", IMPROVEMENT),
        ("insufficient_data", "good_fit", NOTE),
        ("good_fit", "insufficient_data", NOTE),
        # an unconfirmed gap is a warning: confirmed, a regression; either way, a note
        ("possible_overfit", "overfit", REGRESSION),
        ("good_fit", "possible_overfit", NOTE),
        ("possible_overfit", "good_fit", NOTE),
        ("overfit", "possible_overfit", NOTE),
    ],
)
def test_verdict_flips_are_classified(before, now, severity):
    (change,) = classify(pair(previous_verdict=before, verdict=now))
    assert (change.kind, change.severity) == ("verdict", severity)
    assert before.replace("_", " ") in change.text and now.replace("_", " ") in change.text


def test_a_gap_move_counts_only_when_its_interval_excludes_zero():
    # Each night's interval is +-0.02 (se 0.0102); the move's se is sqrt(2) x that.
    half = Z95 * math.hypot(0.02 / Z95, 0.02 / Z95)
    assert gap_move(pair(normalised_gap=0.05 + half * 0.99, normalised_ci_low=0.03 + half * 0.99,
                         normalised_ci_high=0.07 + half * 0.99)) is None  # fmt: skip
    low, high = gap_move(
        pair(normalised_gap=0.05 + half * 1.01, normalised_ci_low=0.03 + half * 1.01,
             normalised_ci_high=0.07 + half * 1.01)
    )  # fmt: skip
    assert 0 < low < high
    (change,) = classify(pair(normalised_gap=0.2, normalised_ci_low=0.18, normalised_ci_high=0.22))
    assert (change.kind, change.severity) == ("gap", REGRESSION)
    (change,) = classify(
        pair(normalised_gap=-0.2, normalised_ci_low=-0.22, normalised_ci_high=-0.18)
    )
    assert change.severity == IMPROVEMENT
    assert classify(pair(normalised_gap=None)) == []  # no numbers: nothing claimed


def test_models_that_come_and_go():
    first_night = pair(previous_verdict=None, previous_date=None, night_before=None)
    assert classify(first_night) == []  # nothing to compare with
    later = {**first_night, "night_before": dt.date(2026, 11, 22), "verdict": "overfit"}
    (new,) = classify(later)
    assert (new.kind, new.severity) == ("appeared", NOTE)
    (gone,) = classify(pair(verdict=None, normalised_gap=None))
    assert (gone.kind, gone.severity) == ("disappeared", REGRESSION)
