"""The sample ids a night's dumps share, found by Spark: the same pairs as
admission.shared_ids_in_duckdb (sql/spark/shared_sample_ids.sql), so the driver never
holds a night's ids. Loss files store sample_id as integers or text (per dump); each
kind is read with its own schema and cast to text, as DuckDB does."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from pipeline.ingest.admission import NightPart, SharedPair
from pipeline.warehouse.layout import DUMP_COLUMN
from pipeline.warehouse.queries import load_sql

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def shared_ids_on_spark(spark: SparkSession, parts: list[NightPart]) -> list[SharedPair]:
    """Pairs of dumps (places in the night's order) sharing ids, with how many. A batch
    file names each row's dump in DUMP_COLUMN (null in a one-dump file)."""
    from pyspark.sql import functions as F

    by_kind: dict[str, list[str]] = defaultdict(list)
    for file in sorted({file for file, _, _ in parts}):
        kind = pq.read_schema(file).field("sample_id").type
        by_kind["bigint" if str(kind) == "int64" else "string"].append(file)
    night = spark.createDataFrame(parts, "file string, dump_path string, dump long")
    read = []
    for kind, paths in by_kind.items():
        schema = f"model string, split string, epoch long, sample_id {kind}, {DUMP_COLUMN} string"
        read.append(
            spark.read.schema(schema)
            .parquet(*paths)
            .select(
                "model", "split", "epoch",
                F.col("sample_id").cast("string").alias("sample_id"),
                F.col(DUMP_COLUMN).alias("dump_path"),
                F.input_file_name().alias("file"),
            )
        )  # fmt: skip
    ids = read[0]
    for part in read[1:]:
        ids = ids.unionByName(part)
    # input_file_name() is a URI (file:///a%20b/...): back to the path it names ("+"
    # protected from url_decode, which reads it as a space).
    scheme = F.regexp_replace(F.col("file"), "^file:(//)?", "")
    path = F.url_decode(F.regexp_replace(scheme, "[+]", "%2B"))
    ids = ids.withColumn("file", path).alias("ids")
    listed = (F.col("ids.file") == F.col("night.file")) & F.col("ids.dump_path").eqNullSafe(
        F.col("night.dump_path")
    )
    ids.join(night.alias("night"), listed).select(
        "night.dump", "ids.model", "ids.split", "ids.epoch", "ids.sample_id"
    ).createOrReplaceTempView("night_ids")
    rows = spark.sql(load_sql("spark/shared_sample_ids")).collect()
    return [(r["model"], r["split"], r["epoch"], r["earlier"], r["later"], r["ids"]) for r in rows]
