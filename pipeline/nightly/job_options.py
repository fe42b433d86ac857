"""What one run needs from the settings, made once where a command starts: the option
objects of each stage, the run's lineage and its engine. Nothing below the driver sees
the whole Settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from pipeline import __version__
from pipeline.analysis.bins import BinScheme
from pipeline.base.options import AnalysisOptions, EngineOptions, IngestOptions
from pipeline.nightly.engine import Engine, engine_for
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.layout import Layout
from pipeline.warehouse.ledger import Lineage

if TYPE_CHECKING:
    from pipeline.spark.session import SparkSession


def open_warehouse(settings: Settings) -> Warehouse:
    """The warehouse the settings name: made once per command and passed down."""
    return Warehouse(settings.warehouse, settings.duckdb_memory_limit, settings.catalog)


def engine_options(settings: Settings) -> EngineOptions:
    return EngineOptions(settings.engine, settings.spark_master, dict(settings.spark))


@dataclass(frozen=True)
class JobOptions:
    """What one run needs from the settings, made once at its start."""

    ingest: IngestOptions
    analysis: AnalysisOptions
    scheme: BinScheme
    lock_timeout: float
    lineage: Lineage
    engine: Engine
    lakehouse: str | None = None  # Delta tables mirroring the warehouse, when set

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        layout: Layout,
        only_model: str | None = None,
        spark: SparkSession | None = None,
    ) -> JobOptions:
        skip = settings.bad_rows == "skip"
        timeout = settings.dump_timeout or None
        ingest = IngestOptions(settings.reader_options(), skip, only_model, timeout)
        analysis, scheme = settings.analysis_options(), settings.bin_scheme()
        loss = {**asdict(settings.loss_spec()), "bad_rows": settings.bad_rows}
        engine_name = "spark" if spark is not None else settings.engine
        lineage = Lineage(
            __version__,
            # The engine does not shape the numbers beyond the sketches' stated bounds,
            # but a night's lineage says which one made it.
            {**loss, "bins": scheme.scheme_id, **asdict(analysis), "engine": engine_name},
            loss,
        )
        engine = engine_for(layout, engine_options(settings), spark)
        lakehouse = str(settings.lakehouse) if settings.lakehouse is not None else None
        return cls(ingest, analysis, scheme, settings.lock_timeout, lineage, engine, lakehouse)
