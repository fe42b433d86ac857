"""Regenerate sql/spark/histograms.sql and sql/spark/summaries.sql from the engine-neutral
sql/histograms.sql and sql/summaries.sql (SQLGlot, DuckDB to Spark).

Usage (from the repository root, with the spark extra installed for SQLGlot):

    .venv/bin/python scripts/generate_spark_sql.py

Check the generated files in: tests/test_spark_sql.py fails when they differ from what
this makes of their sources.
"""

from __future__ import annotations

from pipeline.spark.transpile import write_spark_sql

if __name__ == "__main__":
    for path in write_spark_sql():
        print(f"wrote {path}")
