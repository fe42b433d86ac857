"""Which engine does a run's heavy parts: the loss stage, finding the sample ids a
night's dumps share, and the aggregates. Embedded (Polars and DuckDB in this process)
by default; Spark's twins (pipeline/spark/) when the settings or the caller say so."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from pipeline.admission import SharedIds, shared_ids_in_duckdb
from pipeline.aggregates import SnapshotAggregate, aggregate_snapshot
from pipeline.compute import SnapshotCompute, compute_snapshot
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, WarehouseError

if TYPE_CHECKING:
    from pipeline.spark.session import SparkSession


@dataclass(frozen=True)
class Engine:
    """What an engine does in a run; the embedded one by default."""

    compute: SnapshotCompute = compute_snapshot
    shared_ids: SharedIds = shared_ids_in_duckdb
    aggregate: SnapshotAggregate = aggregate_snapshot


def engine_for(settings: Settings, spark: SparkSession | None = None) -> Engine:
    """The settings' engine: embedded, or Spark (the session given, else one made from
    spark_master and the spark.* settings)."""
    layout = Warehouse(settings.warehouse, catalog=settings.catalog).layout
    if settings.engine != "spark" and spark is None:
        return Engine(
            shared_ids=partial(shared_ids_in_duckdb, spill=layout.spill, store=layout.store)
        )
    if layout.store is not None:
        # Spark reads the losses through Hadoop's file systems and its executors write
        # staging the driver must reach: on an object store neither is built yet.
        raise WarehouseError(
            f"the Spark engine needs the warehouse on a file system the driver and every "
            f"executor mount (HDFS, NFS, EFS, /dbfs, /Volumes), not {layout.name}: use the "
            "embedded engine for an object-store warehouse"
        )
    from pipeline.spark.admission import shared_ids_on_spark
    from pipeline.spark.aggregates import aggregate_snapshot_on_spark
    from pipeline.spark.compute import compute_snapshot_on_spark
    from pipeline.spark.session import spark_session

    session = spark or spark_session(settings.spark_master, settings.spark)
    return Engine(
        partial(compute_snapshot_on_spark, session),
        partial(shared_ids_on_spark, session),
        partial(aggregate_snapshot_on_spark, session, layout.root),
    )
