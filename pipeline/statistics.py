"""Statistics between splits that SQL does clumsily: the bootstrap CI of the loss gap."""

from __future__ import annotations

import math

import numpy as np


def bootstrap_gap_ci(
    reference: np.ndarray,
    heldout: np.ndarray,
    *,
    resamples: int,
    max_samples: int,
    seed: int,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of mean(heldout) - mean(reference).

    Splits larger than max_samples use an m-out-of-n bootstrap: resamples of
    size m whose deviations are scaled by sqrt(m / n), which keeps the cost
    fixed for 10M-row splits and the interval's width right.
    """
    rng = np.random.default_rng(seed)
    deviations = _mean_deviations(heldout, resamples, max_samples, rng) - _mean_deviations(
        reference, resamples, max_samples, rng
    )
    gap = float(heldout.mean() - reference.mean())
    tail = (1 - level) / 2
    low, high = np.quantile(deviations, [tail, 1 - tail])
    return gap + float(low), gap + float(high)


def _mean_deviations(
    values: np.ndarray, resamples: int, max_samples: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap means minus the sample mean, scaled to the full split size."""
    n = len(values)
    m = min(n, max_samples)
    sample = values if m == n else rng.choice(values, size=m, replace=False)
    centre = sample.mean()
    out = np.empty(resamples)
    chunk = max(1, 5_000_000 // m)  # bound memory: chunk x m indices at a time
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        picks = rng.integers(0, m, size=(stop - start, m))
        out[start:stop] = sample[picks].mean(axis=1) - centre
    return out * math.sqrt(m / n)
