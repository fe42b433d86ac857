"""The sample ids a night's dumps share, found by Spark: the same pairs as
admission.shared_ids_in_duckdb (sql/spark/shared_sample_ids.sql), so the driver never
holds a night's ids. Loss files store sample_id as integers or text (per dump); each
kind is read with its own schema and cast to text, as DuckDB does."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from pipeline.admission import SharedPair
from pipeline.queries import load_sql

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def shared_ids_on_spark(spark: SparkSession, files: dict[str, int]) -> list[SharedPair]:
    """Pairs of dumps (places in the night's order) sharing ids, with how many."""
    from pyspark.sql import functions as F

    by_kind: dict[str, list[str]] = defaultdict(list)
    for file in files:
        kind = pq.read_schema(file).field("sample_id").type
        by_kind["bigint" if str(kind) == "int64" else "string"].append(file)
    night = spark.createDataFrame(list(files.items()), "file string, dump long")
    parts = []
    for kind, paths in by_kind.items():
        schema = f"model string, split string, epoch long, sample_id {kind}"
        parts.append(
            spark.read.schema(schema)
            .parquet(*paths)
            .select(
                "model", "split", "epoch",
                F.col("sample_id").cast("string").alias("sample_id"),
                F.input_file_name().alias("file"),
            )
        )  # fmt: skip
    ids = parts[0]
    for part in parts[1:]:
        ids = ids.unionByName(part)
    # input_file_name() is a URI (file:///a%20b/...): back to the path it names ("+"
    # protected from url_decode, which reads it as a space).
    scheme = F.regexp_replace(F.col("file"), "^file:(//)?", "")
    path = F.url_decode(F.regexp_replace(scheme, "[+]", "%2B"))
    ids.withColumn("file", path).join(night, "file").drop("file").createOrReplaceTempView(
        "night_ids"
    )
    rows = spark.sql(load_sql("spark/shared_sample_ids")).collect()
    return [(r["model"], r["split"], r["epoch"], r["earlier"], r["later"], r["ids"]) for r in rows]
