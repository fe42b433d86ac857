"""Histograms, summaries and verdicts of one night computed by Spark, stored in the
DuckDB catalog inside the caller's transaction (as aggregates.aggregate_snapshot does).

Spark reads the night's committed loss files and runs sql/spark/*.sql: the histograms
(exact counts, the same bin scheme), the summaries, and one fine sketch per split. The
driver receives only those: rows O(models x splits x bins), never a loss per sample;
quantiles and the split statistics come from the sketches (pipeline/analysis/sketches.py, with
their worst-case errors), the verdicts from the same rules as the embedded engine's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from pipeline.analysis.aggregates import QUANTILES, clear_aggregates
from pipeline.analysis.bins import BinScheme
from pipeline.analysis.evidence import GroupKey, verdict_rows
from pipeline.analysis.sketches import (
    FINE_LAST_BIN,
    FINE_LOW,
    FINE_PER_DECADE,
    Sketch,
    sketch_quantiles,
)
from pipeline.base.faults import fault_point
from pipeline.base.options import AnalysisOptions
from pipeline.warehouse.ledger import live_files
from pipeline.warehouse.queries import execute, load_sql, query_frame, registered

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# The per-sample columns the aggregates read, typed as every losses file stores them
# (sample_id and slice columns differ between dumps and are not read).
READ_SCHEMA = (
    "model string, split string, epoch long, label long, weight double, n_classes int, "
    "ce double, correct boolean, confidence double, clipped boolean, brier double"
)


def aggregate_snapshot_on_spark(
    spark: SparkSession,
    root: Path,
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: dt.date,
    analysis: AnalysisOptions,
    scheme: BinScheme,
    models: list[str] | None = None,
    run_id: str | None = None,
) -> None:
    """aggregate_snapshot, the work done by Spark on the files the catalog lists for the
    night (root: the warehouse folder they are relative to)."""
    scope = clear_aggregates(connection, snapshot_date, models)
    files = list(  # a batch file is listed once per dump it holds
        dict.fromkeys(
            str(root / placed.path)
            for placed in live_files(connection)
            if placed.snapshot_date == snapshot_date and (not models or placed.model in models)
        )
    )
    if not files:
        return
    spark.read.schema(READ_SCHEMA).parquet(*files).createOrReplaceTempView("night_losses")
    edges = [(index, lower, upper) for _, index, lower, upper in scheme.rows()]
    spark.createDataFrame(edges, "bin int, lower double, upper double").createOrReplaceTempView(
        "bin_edges"
    )
    night = {"snapshot_date": snapshot_date.isoformat(), "run_id": run_id}
    bins = {"scheme_id": scheme.scheme_id, **scheme.guess_parameters()}
    histograms = _collect(spark.sql(load_sql("spark/histograms"), args={**night, **bins}))
    fault_point("during_aggregation")
    summaries = _collect(
        spark.sql(load_sql("spark/summaries"), args={**night, "ece_bins": analysis.ece_bins})
    )
    fine = {
        "fine_low": FINE_LOW,
        "fine_per_decade": FINE_PER_DECADE,
        "fine_last_bin": FINE_LAST_BIN,
    }
    sketches = _sketches(_collect(spark.sql(load_sql("spark/fine_histograms"), args=fine)))
    summaries = _with_quantiles(summaries, sketches)
    with registered(connection, computed_histograms=histograms, computed_summaries=summaries):
        execute(connection, "insert_histograms")
        execute(connection, "insert_summaries")
    stored = query_frame(connection, "snapshot_summaries", scope)
    for row in verdict_rows(snapshot_date, stored, sketches, analysis):
        execute(connection, "insert_verdict", {**row, "run_id": run_id})


def _collect(frame: DataFrame) -> pl.DataFrame:
    """A small Spark result (aggregates only) as a Polars frame, through Arrow."""
    result = pl.from_arrow(frame.toArrow())
    assert isinstance(result, pl.DataFrame)
    return result


def _sketches(fine: pl.DataFrame) -> dict[GroupKey, Sketch]:
    sketches: dict[GroupKey, Any] = {}
    for (model, split, epoch), rows in fine.sort("bin").group_by(
        "model", "split", "epoch", maintain_order=True
    ):
        sketches[(str(model), str(split), epoch)] = Sketch(
            rows["bin"].to_numpy(),
            rows["count"].to_numpy(),
            rows["total"].to_numpy(),
            rows["low"].to_numpy(),
            rows["high"].to_numpy(),
        )
    return sketches


def _with_quantiles(summaries: pl.DataFrame, sketches: dict[GroupKey, Sketch]) -> pl.DataFrame:
    """median_ce, p90_ce, p99_ce of each summary row, from its split's sketch."""
    values = [
        sketch_quantiles(sketches[(str(model), str(split), epoch)], QUANTILES)
        for model, split, epoch in summaries.select("model", "split", "epoch").iter_rows()
    ]
    columns = ("median_ce", "p90_ce", "p99_ce")
    return summaries.with_columns(
        pl.Series(name, [row[index] for row in values], dtype=pl.Float64)
        for index, name in enumerate(columns)
    )
