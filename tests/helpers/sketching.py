"""Fine sketches made in numpy, as Spark's sql/spark/fine_histograms.sql makes them: for
the tests that hold a sketch's statistics to the exact ones
(tests/unit/analysis/test_sketches.py)."""

from __future__ import annotations

import numpy as np

from pipeline.analysis.sketches import Sketch, fine_bins


def sketch_of(losses: np.ndarray) -> Sketch:
    """The sketch of an array of losses (what Spark computes)."""
    bins = fine_bins(losses)
    present, inverse = np.unique(bins, return_inverse=True)
    size = len(present)
    return Sketch(
        present,
        np.bincount(inverse, minlength=size).astype(np.int64),
        np.bincount(inverse, weights=losses, minlength=size),
        _reduce(np.minimum, inverse, losses, size, np.inf),
        _reduce(np.maximum, inverse, losses, size, -np.inf),
    )


def merged(one: Sketch, other: Sketch) -> Sketch:
    """The sketch of both shards' losses together (what Spark's partial aggregates do):
    counts and sums add, lows and highs take the extremes."""
    bins = np.union1d(one.bins, other.bins)
    counts = np.zeros(len(bins), dtype=np.int64)
    sums, lows, highs = (
        np.zeros(len(bins)),
        np.full(len(bins), np.inf),
        np.full(len(bins), -np.inf),
    )
    for part in (one, other):
        at = np.searchsorted(bins, part.bins)
        counts[at] += part.counts
        sums[at] += part.sums
        lows[at] = np.minimum(lows[at], part.lows)
        highs[at] = np.maximum(highs[at], part.highs)
    return Sketch(bins, counts, sums, lows, highs)


def _reduce(
    ufunc: np.ufunc, groups: np.ndarray, values: np.ndarray, size: int, start: float
) -> np.ndarray:
    out = np.full(size, start)
    ufunc.at(out, groups, values)
    return out
