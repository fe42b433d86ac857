"""Training dynamics per sample (Dataset Cartography, Swayamdipta et al. 2020), for a
model night whose training split was dumped at 3 or more epochs: the map of confidence
(mean p_true over epochs) against variability (its standard deviation), coloured by
correctness; the regions; the hard-to-learn samples; forgetting events (sql/cartography_*.sql).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline.warehouse.queries import ddl, query_frame

MIN_EPOCHS = 3
# Regions: variability from AMBIGUOUS up is ambiguous; below it, confidence from EASY up
# is easy-to-learn, the rest hard-to-learn.
AMBIGUOUS = 0.2
EASY = 0.5
CELLS = 20  # of the map's grid, each way
HARD_LISTED = 25


@dataclass(frozen=True)
class Cartography:
    split: str
    epochs: int
    grid: pl.DataFrame  # confidence_bin, variability_bin, n, correctness
    regions: pl.DataFrame  # region, samples, forgetting_events, forgotten_samples
    hard: pl.DataFrame  # the hard-to-learn samples, least confident first


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
    regions = {"ambiguous": AMBIGUOUS, "easy": EASY}
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
        regions=query_frame(connection, "cartography_regions", regions),
        hard=query_frame(connection, "cartography_hard", {**regions, "limit": HARD_LISTED}),
    )
