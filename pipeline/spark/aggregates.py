"""Histograms, summaries and verdicts of one night computed by Spark, stored in the
DuckDB catalog inside the caller's transaction (by aggregates.store_aggregates, as the
embedded engine's are).

Spark reads the night's committed loss files as the temp view night_losses and runs
sql/spark/*.sql: the histograms and summaries (generated from the statements the embedded
engine runs, pipeline/spark/transpile.py) and one fine sketch per split. The driver
receives only those: rows O(models x splits x bins), never a loss per sample; quantiles
and the split statistics come from the sketches (pipeline/analysis/sketches.py, with
their worst-case errors), the verdicts from the same rules as the embedded engine's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from pipeline.analysis.aggregates import (
    NightAggregates,
    bin_edges,
    clear_aggregates,
    histogram_parameters,
    store_aggregates,
    summary_parameters,
)
from pipeline.analysis.bins import BinScheme
from pipeline.analysis.evidence import GroupKey
from pipeline.analysis.sketches import FINE_LAST_BIN, FINE_LOW, FINE_PER_DECADE, Sketch
from pipeline.base.faults import fault_point
from pipeline.base.options import AnalysisOptions
from pipeline.warehouse.ledger import live_files
from pipeline.warehouse.queries import load_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# The per-sample columns the aggregates read, typed as every losses file stores them
# (sample_id and slice columns differ between dumps and are not read).
READ_SCHEMA = (
    "model string, split string, epoch long, label long, weight double, n_classes int, "
    "ce double, pred long, correct boolean, confidence double, clipped boolean, "
    "brier double, class_weight double"
)
FINE_PARAMETERS = {
    "fine_low": FINE_LOW,
    "fine_per_decade": FINE_PER_DECADE,
    "fine_last_bin": FINE_LAST_BIN,
}


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
    from pyspark.sql import functions as F

    read = spark.read.schema(READ_SCHEMA).parquet(*files)
    # A file leaves `correct` NULL (derivable: pred = label), as the `losses` view reads it.
    correct = F.coalesce(F.col("correct"), F.col("pred") == F.col("label"))
    read.withColumn("correct", correct).createOrReplaceTempView("night_losses")
    edges = spark.createDataFrame(bin_edges(scheme).rows(), "bin int, lower double, upper double")
    edges.createOrReplaceTempView("bin_edges")
    histograms = _run(spark, "histograms", histogram_parameters(snapshot_date, scheme, run_id))
    fault_point("during_aggregation")
    summaries = _run(spark, "summaries", summary_parameters(snapshot_date, analysis, run_id))
    sketches = _sketches(_run(spark, "fine_histograms", FINE_PARAMETERS))
    night = NightAggregates(histograms, summaries, sketches)
    store_aggregates(connection, scope, night, analysis, run_id)


def _run(spark: SparkSession, name: str, parameters: dict[str, Any]) -> pl.DataFrame:
    """sql/spark/<name>.sql with bound parameters; its (small) result as a Polars frame."""
    return _collect(spark.sql(load_sql(f"spark/{name}"), args=parameters))


def _collect(frame: DataFrame) -> pl.DataFrame:
    """A small Spark result (aggregates only) as a Polars frame, through Arrow."""
    result = pl.from_arrow(frame.toArrow())
    assert isinstance(result, pl.DataFrame)
    return result


def _sketches(fine: pl.DataFrame) -> dict[GroupKey, Sketch]:
    """Each split's sketch from the rows of sql/spark/fine_histograms.sql."""
    sketches: dict[GroupKey, Sketch] = {}
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
