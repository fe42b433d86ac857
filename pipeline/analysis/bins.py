"""Histogram bin schemes: fixed edges shared by every shard, night and engine, so
histograms merge exactly (add counts and weight sums, recompute fractions)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BinScheme:
    """A fixed histogram bin scheme shared by every shard, night and engine."""

    scheme_id: str
    edges: tuple[float, ...]  # lower edges; the last bin runs to +inf
    # How SQL guesses a loss's bin in O(1) before checking it against the stored edges:
    # ("log", low, per_decade) or ("linear", width, 0).
    guess: tuple[str, float, float]

    def guess_parameters(self) -> dict[str, Any]:
        """The binds of sql/histograms.sql's guess; the other kind's get harmless values
        (SQL binds every parameter, and Spark's ANSI mode refuses a division by zero)."""
        kind, first, second = self.guess
        log = kind == "log"
        return {
            "guess_kind": kind,
            "log_low": first if log else 1.0,
            "bins_per_decade": second if log else 0.0,
            "linear_width": 1.0 if log else first,
            "last_bin": len(self.edges) - 1,
        }

    def rows(self) -> list[tuple[str, int, float, float]]:
        uppers = (*self.edges[1:], math.inf)
        return [
            (self.scheme_id, index, lower, upper)
            for index, (lower, upper) in enumerate(zip(self.edges, uppers, strict=True))
        ]


def log_bin_scheme(low: float = 1e-4, high: float = 100.0, per_decade: int = 20) -> BinScheme:
    """[0, low), log-spaced edges low..high at per_decade bins per decade, then [high, inf)."""
    decades = round(math.log10(high / low))
    steps = decades * per_decade
    edges = [0.0] + [low * 10 ** (step / per_decade) for step in range(steps + 1)]
    edges[-1] = high  # exact, whatever the float rounding of the power
    return BinScheme(
        f"log-{low:g}-{high:g}-{per_decade}", tuple(edges), ("log", low, float(per_decade))
    )


LINEAR_BIN_WIDTH, LINEAR_BIN_MAX = 0.1, 30.0  # the linear scheme's default edges


def linear_bin_scheme(width: float = LINEAR_BIN_WIDTH, high: float = LINEAR_BIN_MAX) -> BinScheme:
    """Equal-width bins [0, width), ... up to high, then [high, inf)."""
    count = round(high / width)
    edges = [round(step * width, 12) for step in range(count + 1)]
    return BinScheme(f"linear-{width:g}-{high:g}", tuple(edges), ("linear", width, 0.0))
