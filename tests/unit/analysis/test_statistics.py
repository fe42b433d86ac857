"""The embedded engine's statistics against outside oracles, without a warehouse: the
bootstrap CI's width against normal theory; KS, W1, membership AUC and TPR at 1% FPR
against scipy and scikit-learn in any chunking; quantiles against numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.analysis.statistics import bootstrap_gap_ci


@pytest.mark.parametrize(
    ("n_reference", "n_heldout", "max_samples"),
    [(3_000, 2_000, 20_000), (400, 900, 20_000), (200_000, 120_000, 4_000)],
)
def test_bootstrap_ci_width_matches_normal_theory(
    n_reference: int, n_heldout: int, max_samples: int
) -> None:
    variance = 4.0
    expected = 2 * 1.959964 * math.sqrt(variance / n_reference + variance / n_heldout)
    for seed in (1, 2):
        rng = np.random.default_rng(100 + seed)
        reference = rng.normal(1.0, math.sqrt(variance), n_reference)
        heldout = rng.normal(1.3, math.sqrt(variance), n_heldout)
        low, high = bootstrap_gap_ci(
            reference, heldout, resamples=1000, max_samples=max_samples, seed=seed
        )
        gap = heldout.mean() - reference.mean()
        assert low < gap < high
        assert high - low == pytest.approx(expected, rel=0.15)
        # roughly centred on the gap (percentile bootstrap of a mean: near-symmetric)
        assert abs((gap - low) - (high - gap)) < 0.2 * expected
        again = bootstrap_gap_ci(
            reference, heldout, resamples=1000, max_samples=max_samples, seed=seed
        )
        assert again == (low, high)


@pytest.mark.parametrize("chunk", [3, 7, 1 << 20])
def test_split_distances_match_scipy_and_sklearn_in_any_chunking(monkeypatch, chunk):
    from scipy.stats import ks_2samp, wasserstein_distance
    from sklearn.metrics import roc_auc_score, roc_curve

    from pipeline.analysis import statistics

    monkeypatch.setattr(statistics, "CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    members = np.sort(np.round(rng.exponential(0.5, 230), 2))  # rounding makes ties
    others = np.sort(np.round(rng.exponential(0.9, 410), 2))
    got = statistics.split_distances(members, others)
    assert got["ks"] == pytest.approx(ks_2samp(members, others).statistic, abs=1e-12)
    assert got["wasserstein"] == pytest.approx(wasserstein_distance(members, others), abs=1e-12)
    member = np.r_[np.ones(len(members)), np.zeros(len(others))]
    scores = -np.r_[members, others]
    assert got["mia_auc"] == pytest.approx(roc_auc_score(member, scores), abs=1e-12)
    fpr, tpr, _ = roc_curve(member, scores, drop_intermediate=False)
    assert got["tpr_at_1pct_fpr"] == pytest.approx(tpr[fpr <= 0.01].max(), abs=1e-12)


@pytest.mark.parametrize("chunk", [1, 2, 5, 64])
@pytest.mark.parametrize(
    "shape", ["lopsided", "disjoint", "one_value", "ties_on_cuts", "single_rows"]
)
def test_split_distances_windows_give_scipy_on_awkward_inputs(monkeypatch, chunk, shape):
    """The windows over both arrays must not change a number: cuts landing on ties,
    one split far larger, splits that do not overlap, a single repeated value."""
    from scipy.stats import ks_2samp, wasserstein_distance
    from sklearn.metrics import roc_auc_score

    from pipeline.analysis import statistics

    monkeypatch.setattr(statistics, "CHUNK", chunk)
    rng = np.random.default_rng(7)
    members, others = {
        "lopsided": (rng.exponential(0.5, 9), rng.exponential(0.9, 700)),
        "disjoint": (rng.uniform(0, 1, 40), rng.uniform(2, 3, 60)),
        "one_value": (np.full(30, 0.25), np.full(50, 0.25)),
        "ties_on_cuts": (np.repeat([0.1, 0.2, 0.3], 17), np.repeat([0.2, 0.3, 0.4, 0.5], 11)),
        "single_rows": (np.array([0.3]), np.array([0.1])),
    }[shape]
    members, others = np.sort(members), np.sort(others)
    got = statistics.split_distances(members, others)
    assert got["ks"] == pytest.approx(ks_2samp(members, others).statistic, abs=1e-12)
    assert got["wasserstein"] == pytest.approx(wasserstein_distance(members, others), abs=1e-12)
    member = np.r_[np.ones(len(members)), np.zeros(len(others))]
    assert got["mia_auc"] == pytest.approx(
        roc_auc_score(member, -np.r_[members, others]), abs=1e-12
    )


@pytest.mark.parametrize("size", [1, 2, 3, 10, 101, 1000])
def test_sorted_quantiles_equal_numpy_linear_exactly(size):
    from pipeline.analysis.statistics import sorted_quantiles

    rng = np.random.default_rng(size)
    values = np.sort(np.round(rng.exponential(1.0, size), 3))  # ties included
    quantiles = [0.0, 0.01, 0.5, 0.9, 0.99, 1.0]
    assert sorted_quantiles(values, quantiles) == np.quantile(values, quantiles).tolist()
