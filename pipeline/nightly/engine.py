"""Which engine does a run's heavy parts: the loss stage, finding the sample ids a
night's dumps share, and the aggregates. Embedded (Polars and DuckDB in this process)
by default; Spark's twins (pipeline/spark/) when the engine options or the caller say so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from typing import TYPE_CHECKING, Any

from pipeline.base.errors import WarehouseError
from pipeline.base.options import EngineOptions
from pipeline.warehouse.layout import Layout

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
    """What an engine does in a run: compute a night's losses, find the sample ids its
    dumps share, aggregate it."""

    compute: SnapshotCompute
    shared_ids: SharedIds
    aggregate: SnapshotAggregate


def embedded_engine(layout: Layout) -> Engine:
    """Polars and DuckDB in this process, reading the warehouse's store."""
    shared_ids = _on_first_call("pipeline.ingest.admission", "shared_ids_in_duckdb")
    return Engine(
        _on_first_call("pipeline.ingest.compute", "compute_snapshot"),
        partial(shared_ids, store=layout.store, spill=layout.spill),
        _on_first_call("pipeline.analysis.aggregates", "aggregate_snapshot"),
    )


def engine_for(layout: Layout, options: EngineOptions, spark: SparkSession | None = None) -> Engine:
    """The engine the options name: embedded, or Spark (the session given, else one made
    from spark_master and the spark.* settings)."""
    if options.name != "spark" and spark is None:
        return embedded_engine(layout)
    if not layout.store.mounted:
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

    session = spark or spark_session(options.spark_master, options.spark_conf)
    return Engine(
        partial(compute_snapshot_on_spark, session),
        partial(shared_ids_on_spark, session),
        partial(aggregate_snapshot_on_spark, session, layout.root),
    )
