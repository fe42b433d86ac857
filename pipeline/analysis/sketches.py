"""Split statistics from fine loss histograms, for engines that cannot hand the driver
every loss (Spark): memory O(bins) per split, whatever the rows.

A sketch is one split's losses binned on a fixed log scale (FINE_PER_DECADE bins a
decade from FINE_LOW; [0, FINE_LOW) below, [FINE_HIGH, inf) above), keeping per bin the
count, the sum, the smallest and the largest loss. Sketches of shards add up exactly
(counts and sums add; min of mins, max of maxes). From two sketches come the statistics
of statistics.py, each with a worst-case error that the sketch itself bounds:

- quantile: linear interpolation inside the bin holding the rank; off by at most the
  bin's loss range (hi - lo), i.e. a relative 10**(1/FINE_PER_DECADE) - 1 = 0.23%;
- KS: exact at every bin end; off by at most the largest mass one bin holds in either
  split (`ks_bound`);
- Wasserstein-1: between the splits with each bin's mass at its mean loss; off by at
  most sum(p_b * (hi_b - lo_b)) over both splits (`wasserstein_bound`);
- membership AUC: pairs in different bins ordered exactly, pairs in one bin counted as
  ties (half); off by at most sum(pA_b * pB_b) / 2 (`mia_auc_bound`);
- TPR at 1% FPR: the threshold's bin interpolated; off by at most that bin's share of
  the reference split (`tpr_bound`);
- bootstrap CI of the gap: the same m-out-of-n bootstrap, drawing bins (at their mean
  loss) instead of losses; a different random draw of the same interval.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FINE_LOW = 1e-12
FINE_PER_DECADE = 1000
FINE_DECADES = 16  # up to FINE_HIGH = 1e4
FINE_LAST_BIN = FINE_DECADES * FINE_PER_DECADE + 1
# The relative width of one fine bin: the worst relative error of a quantile below 1e4.
FINE_RELATIVE_WIDTH = 10 ** (1 / FINE_PER_DECADE) - 1


def fine_bins(losses: np.ndarray) -> np.ndarray:
    """The fine bin of each loss: the formula sql/spark/fine_histograms.sql uses too."""
    safe = np.maximum(losses, FINE_LOW)
    index = 1 + np.floor(FINE_PER_DECADE * np.log10(safe / FINE_LOW))
    return np.where(losses < FINE_LOW, 0, np.minimum(index, FINE_LAST_BIN)).astype(np.int64)


def count_from_bin_sorted(losses: np.ndarray, first: int) -> int:
    """How many of the ascending losses lie in fine bin `first` or above, exactly as
    counting fine_bins(losses) >= first: the bin never falls as the loss grows, so a
    binary search finds the first such loss, with no per-loss temporaries (at 40M losses,
    fine_bins' arrays held 1.2 GB)."""

    def bin_of(loss: float) -> int:
        return int(fine_bins(np.array([loss]))[0])

    # NaN sorts last but bins below every loss (never counted): search before it.
    numbers = int(np.searchsorted(losses, np.nan))
    return numbers - bisect.bisect_left(losses, first, hi=numbers, key=bin_of)


@dataclass(frozen=True)
class Sketch:
    """One split's fine histogram: non-empty bins ascending, with count, sum, min, max."""

    bins: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    lows: np.ndarray
    highs: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    # The split's losses as the verdict evidence reads them (evidence.SplitLosses).

    def quantiles(self, wanted: Sequence[float]) -> list[float]:
        return sketch_quantiles(self, wanted)

    def distances(self, others: Sketch) -> dict[str, float]:
        """KS, W1, membership AUC and TPR at 1% FPR to `others` (this: the members)."""
        return sketch_distances(self, others)

    def bootstrap_gap_ci(
        self, heldout: Sketch, *, resamples: int, max_samples: int, seed: int
    ) -> tuple[float, float]:
        """The bootstrap CI of mean(heldout) - mean(this split)."""
        return sketch_bootstrap_gap_ci(
            self, heldout, resamples=resamples, max_samples=max_samples, seed=seed
        )

    def count_from_bin(self, first: int) -> int:
        """How many losses lie in fine bin `first` or above (exact)."""
        return int(self.counts[self.bins >= first].sum())

    @property
    def means(self) -> np.ndarray:
        means: np.ndarray = self.sums / self.counts
        return means

    def value_at_rank(self, ranks: np.ndarray) -> np.ndarray:
        """The r-th smallest loss (0-based), interpolated linearly inside its bin."""
        ends = np.cumsum(self.counts)
        where = np.searchsorted(ends, ranks, side="right")
        starts = ends[where] - self.counts[where]
        spread = np.maximum(self.counts[where] - 1, 1)
        within = (ranks - starts) / spread
        values: np.ndarray = self.lows[where] + (self.highs[where] - self.lows[where]) * within
        return values


def sketch_quantiles(sketch: Sketch, quantiles: Sequence[float]) -> list[float]:
    """numpy's 'linear' quantiles, each rank's loss interpolated inside its bin."""
    positions = (sketch.n - 1) * np.asarray(quantiles, dtype=np.float64)
    below = np.floor(positions)
    above = np.minimum(below + 1, sketch.n - 1)
    low, high = sketch.value_at_rank(below), sketch.value_at_rank(above)
    fraction = positions - below
    return [float(value) for value in low + (high - low) * fraction]


def sketch_distances(members: Sketch, others: Sketch) -> dict[str, float]:
    """split_distances from two sketches, with each statistic's worst-case error."""
    bins = np.union1d(members.bins, others.bins)
    p_members = _masses(members, bins)
    p_others = _masses(others, bins)
    cdf_gap = np.abs(np.cumsum(p_members) - np.cumsum(p_others))
    below_members = np.cumsum(p_members) - p_members  # members in lower bins
    auc = float((p_others * (below_members + 0.5 * p_members)).sum())
    tpr, tpr_bound = _tpr_at_1pct_fpr(members, others)
    return {
        "ks": float(cdf_gap.max()),
        "wasserstein": _wasserstein(members, others),
        "mia_auc": auc,
        "tpr_at_1pct_fpr": tpr,
        "ks_bound": float(np.maximum(p_members, p_others).max()),
        "wasserstein_bound": _spread(members) + _spread(others),
        "mia_auc_bound": float((p_members * p_others).sum() / 2),
        "tpr_bound": tpr_bound,
    }


def _masses(sketch: Sketch, bins: np.ndarray) -> np.ndarray:
    mass = np.zeros(len(bins))
    mass[np.searchsorted(bins, sketch.bins)] = sketch.counts / sketch.n
    return mass


def _spread(sketch: Sketch) -> float:
    return float((sketch.counts * (sketch.highs - sketch.lows)).sum() / sketch.n)


def _wasserstein(members: Sketch, others: Sketch) -> float:
    """W1 between the two splits with each bin's mass at its mean loss."""
    points = np.concatenate([members.means, others.means])
    weights = np.concatenate([members.counts / members.n, -others.counts / others.n])
    order = np.argsort(points, kind="stable")
    points, cdf_gap = points[order], np.cumsum(weights[order])
    return float((np.abs(cdf_gap[:-1]) * np.diff(points)).sum())


def _tpr_at_1pct_fpr(members: Sketch, others: Sketch) -> tuple[float, float]:
    """Members below the held-out loss that 1% of the held-out split lies under."""
    allowed = others.n // 100
    if allowed >= others.n:
        return 1.0, 0.0
    threshold = float(others.value_at_rank(np.array([allowed]))[0])
    below = members.highs < threshold
    inside = (members.lows <= threshold) & ~below
    count = float(members.counts[below].sum())
    span = members.highs[inside] - members.lows[inside]
    share = np.where(span > 0, (threshold - members.lows[inside]) / np.where(span > 0, span, 1), 0)
    count += float((members.counts[inside] * share).sum())
    return count / members.n, float(members.counts[inside].sum()) / members.n


def sketch_bootstrap_gap_ci(
    reference: Sketch,
    heldout: Sketch,
    *,
    resamples: int,
    max_samples: int,
    seed: int,
    level: float = 0.95,
) -> tuple[float, float]:
    """bootstrap_gap_ci drawing bins (valued at their mean loss) in proportion to their
    counts: m-out-of-n resamples of size m = min(n, max_samples), scaled by sqrt(m/n)."""
    rng = np.random.default_rng(seed)
    deviations = _mean_deviations(heldout, resamples, max_samples, rng) - _mean_deviations(
        reference, resamples, max_samples, rng
    )
    gap = heldout.sums.sum() / heldout.n - reference.sums.sum() / reference.n
    tail = (1 - level) / 2
    low, high = np.quantile(deviations, [tail, 1 - tail])
    return float(gap + low), float(gap + high)


def _mean_deviations(
    sketch: Sketch, resamples: int, max_samples: int, rng: np.random.Generator
) -> np.ndarray:
    m = min(sketch.n, max_samples)
    probabilities = sketch.counts / sketch.n
    centre = float(sketch.sums.sum() / sketch.n)
    out = np.empty(resamples)
    chunk = max(1, 2_000_000 // len(probabilities))  # bound the draws held at once
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        draws = rng.multinomial(m, probabilities, size=stop - start)
        out[start:stop] = draws @ sketch.means / m - centre
    return out * math.sqrt(m / sketch.n)
