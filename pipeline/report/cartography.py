"""Training dynamics per sample (Dataset Cartography, Swayamdipta et al. 2020), for a
model night whose training split was dumped at 3 or more epochs: the map of confidence
(mean p_true over epochs) against variability (its standard deviation), coloured by
correctness; the regions by rank and their cuts; the hard-to-learn samples; forgetting
events (the view training_dynamics, sql/cartography_*.sql).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline.warehouse.queries import ddl, query_frame

MIN_EPOCHS = 3  # as sql/training_dynamics_view.sql's HAVING
CELLS = 20  # of the map's grid, each way
HARD_LISTED = 25


@dataclass(frozen=True)
class Cartography:
    split: str
    epochs: int
    grid: pl.DataFrame  # confidence_bin, variability_bin, n, correctness
    # region, samples, cut, forgetting_events, forgotten_samples, never_learnt
    regions: pl.DataFrame
    hard: pl.DataFrame  # the hard-to-learn samples, least confident first

    @property
    def cuts(self) -> dict[str, float]:
        """Each region's rank cut: the value its last sample reached."""
        return {
            str(region): float(cut) for region, cut in self.regions.select("region", "cut").rows()
        }

    def rule(self, region: str) -> str:
        """How far a region reaches, as the page says it."""
        cut = self.cuts.get(region)
        if cut is None:
            return ""
        if region == "ambiguous":
            return f"variability >= {cut:.3f} (top 33%)"
        if region == "easy-to-learn":
            return f"confidence >= {cut:.3f} (the most confident 33%, after ambiguous)"
        return f"confidence <= {cut:.3f} (the least confident 33%, after those)"


def cartography(
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: dt.date,
    model: str,
    split: str,
    epochs: int,
) -> Cartography | None:
    """The cartography of a model's split, or None with fewer than MIN_EPOCHS epochs."""
    if epochs < MIN_EPOCHS:
        return None
    connection.execute(
        ddl("cartography_view", snapshot_date=snapshot_date.isoformat(), model=model, split=split)
    )
    grid = query_frame(connection, "cartography_map", {"cells": CELLS}).with_columns(
        confidence_low=pl.col("confidence_bin") / CELLS,
        confidence_high=(pl.col("confidence_bin") + 1) / CELLS,
        variability_low=pl.col("variability_bin") / (2 * CELLS),
        variability_high=(pl.col("variability_bin") + 1) / (2 * CELLS),
    )
    return Cartography(
        split=split,
        epochs=epochs,
        grid=grid,
        regions=query_frame(connection, "cartography_regions"),
        hard=query_frame(connection, "cartography_hard", {"limit": HARD_LISTED}),
    )
