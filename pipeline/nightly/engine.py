"""Which engine does a run's heavy parts: the loss stage, finding the sample ids a
night's dumps share, and the aggregates. Embedded (Polars and DuckDB in this process)
by default; Spark's twins (pipeline/spark/) when the settings or the caller say so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from importlib import import_module
from typing import TYPE_CHECKING, Any

from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse, WarehouseError

if TYPE_CHECKING:
    from pipeline.analysis.aggregates import SnapshotAggregate
    from pipeline.ingest.admission import SharedIds
    from pipeline.ingest.compute import SnapshotCompute
    from pipeline.spark.session import SparkSession


def _on_first_call(module: str, name: str) -> Callable[..., Any]:
    """module.name, imported when first called: the embedded steps load Polars, pyarrow
    and numpy, which a run that finds nothing new never needs."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module), name)(*args, **kwargs)

    return call


@dataclass(frozen=True)
class Engine:
    """What an engine does in a run; the embedded one by default."""

    compute: SnapshotCompute = field(
        default_factory=lambda: _on_first_call("pipeline.ingest.compute", "compute_snapshot")
    )
    shared_ids: SharedIds = field(
        default_factory=lambda: _on_first_call("pipeline.ingest.admission", "shared_ids_in_duckdb")
    )
    aggregate: SnapshotAggregate = field(
        default_factory=lambda: _on_first_call("pipeline.analysis.aggregates", "aggregate_snapshot")
    )


def engine_for(settings: Settings, spark: SparkSession | None = None) -> Engine:
    """The settings' engine: embedded, or Spark (the session given, else one made from
    spark_master and the spark.* settings)."""
    layout = Warehouse(settings.warehouse, catalog=settings.catalog).layout
    if settings.engine != "spark" and spark is None:
        shared_ids = _on_first_call("pipeline.ingest.admission", "shared_ids_in_duckdb")
        return Engine(shared_ids=partial(shared_ids, spill=layout.spill, store=layout.store))
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
