"""Statistics from fine loss sketches (the Spark engine's) against the exact ones of the
embedded engine (split_statistics.py, itself checked against scipy and scikit-learn):
every estimate within the worst-case error the sketch states."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis.sketches import (
    FINE_LOW,
    FINE_PER_DECADE,
    FINE_RELATIVE_WIDTH,
    count_from_bin_sorted,
    fine_bins,
    sketch_bootstrap_gap_ci,
    sketch_distances,
    sketch_quantiles,
)
from pipeline.analysis.statistics import bootstrap_gap_ci, sorted_quantiles, split_distances
from tests.helpers.sketching import merged, sketch_of


def pairs():
    rng = np.random.default_rng(7)
    yield "lognormal", rng.lognormal(-1.0, 1.2, 20_000), rng.lognormal(-0.7, 1.3, 5_000)
    yield "exponential", rng.exponential(0.4, 30_000), rng.exponential(0.6, 3_000)
    yield "ties", rng.choice([0.1, 0.5, 2.0], 4_000), rng.choice([0.1, 0.5, 2.0, 3.0], 2_000)
    yield (
        "tiny and huge",
        np.concatenate([np.full(100, 1e-13), rng.exponential(5, 900)]),
        (rng.exponential(50, 700)),
    )
    yield "one each", np.array([0.3]), np.array([0.7])
    yield "identical", np.linspace(0.01, 5, 1000), np.linspace(0.01, 5, 1000)


@pytest.mark.parametrize(("name", "members", "others"), list(pairs()))
def test_sketch_statistics_stay_within_their_bounds(name, members, others):
    members, others = np.sort(members), np.sort(others)
    exact = split_distances(members, others)
    sketched = sketch_distances(sketch_of(members), sketch_of(others))
    for key in ("ks", "wasserstein", "mia_auc", "tpr_at_1pct_fpr"):
        bound = sketched[{"tpr_at_1pct_fpr": "tpr_bound"}.get(key, f"{key}_bound")]
        assert abs(sketched[key] - exact[key]) <= bound + 1e-12, (name, key)
    # the bounds are small: a fine bin is a 0.23% step of the loss
    assert (
        sketched["wasserstein_bound"]
        <= FINE_RELATIVE_WIDTH * (members.mean() + others.mean()) + 1e-12
    )


@pytest.mark.parametrize(("name", "members", "others"), list(pairs()))
def test_sketch_quantiles_are_within_one_fine_bin(name, members, others):
    del others
    values = np.sort(members)
    wanted = (0.0, 0.01, 0.5, 0.9, 0.99, 1.0)
    for exact, sketched in zip(
        sorted_quantiles(values, wanted), sketch_quantiles(sketch_of(values), wanted), strict=True
    ):
        assert abs(sketched - exact) <= FINE_RELATIVE_WIDTH * exact + 1e-12, name


def test_shard_sketches_merge_to_the_whole():
    rng = np.random.default_rng(3)
    losses = rng.lognormal(0, 1, 10_000)
    whole = sketch_of(losses)
    together = merged(sketch_of(losses[:3_000]), sketch_of(losses[3_000:]))
    np.testing.assert_array_equal(together.bins, whole.bins)
    np.testing.assert_array_equal(together.counts, whole.counts)
    np.testing.assert_allclose(together.sums, whole.sums, rtol=1e-12)
    np.testing.assert_array_equal(together.lows, whole.lows)
    np.testing.assert_array_equal(together.highs, whole.highs)


@pytest.mark.parametrize("value", [0.5, -np.log(0.05), 7.0, 1e-3])
def test_count_from_a_bin_is_exact(value):
    losses = np.random.default_rng(5).lognormal(0, 1.2, 50_000)
    first = int(fine_bins(np.array([value]))[0])
    expected = int((fine_bins(losses) >= first).sum())
    assert sketch_of(losses).count_from_bin(first) == expected
    # ... and within the one bin holding the value of a plain count above it
    holding = int((fine_bins(losses) == first).sum())
    assert abs(expected - int((losses > value).sum())) <= holding


@pytest.mark.parametrize("value", [0.5, -np.log(0.05), 7.0, 1e-3, 1e-13, 1e5])
def test_count_from_a_bin_of_sorted_losses_equals_counting_every_bin(value):
    """The binary search over sorted losses (the embedded engine's) counts exactly what
    binning every loss counts, with losses on bin edges, repeated and out of range."""
    rng = np.random.default_rng(7)
    first = int(fine_bins(np.array([value]))[0])
    edge = FINE_LOW * 10 ** ((first - 1) / FINE_PER_DECADE)
    near = edge * (1 + np.array([-1e-15, -1e-16, 0.0, 1e-16, 1e-15]))
    extremes = [0.0, 1e9, np.inf, np.nan, np.nan]
    losses = np.sort(np.concatenate([rng.lognormal(0, 1.5, 20_000), near, near, extremes]))
    with np.errstate(invalid="ignore"):  # NaN's bin is below every other
        expected = int((fine_bins(losses) >= first).sum())
    assert count_from_bin_sorted(losses, first) == expected
    assert count_from_bin_sorted(losses[:0], first) == 0


def test_fine_bins_are_log_steps_of_the_stated_width():
    edges = np.array([0.0, 1e-13, 1e-12, 1e-3, 1.0, 27.6, 1e4, 1e9])
    bins = fine_bins(edges)
    assert bins[0] == bins[1] == 0 and bins[2] == 1 and bins[-1] == bins[-2]
    assert bins[4] == 1 + 12 * 1000


def test_sketch_bootstrap_agrees_with_the_exact_one():
    rng = np.random.default_rng(11)
    reference, heldout = rng.lognormal(-1, 1, 50_000), rng.lognormal(-0.9, 1, 8_000)
    options = {"resamples": 2000, "max_samples": 20_000, "seed": 0}
    exact = bootstrap_gap_ci(np.sort(reference), np.sort(heldout), **options)
    sketched = sketch_bootstrap_gap_ci(sketch_of(reference), sketch_of(heldout), **options)
    width = exact[1] - exact[0]
    assert abs(sketched[0] - exact[0]) <= 0.1 * width
    assert abs(sketched[1] - exact[1]) <= 0.1 * width
