"""sql/spark/<name>.sql generated from the engine-neutral sql/<name>.sql with SQLGlot, so the
histograms and summaries are written once for both engines. Run at development time
(scripts/generate_spark_sql.py); the generated files are checked in and a test fails
when they drift from what this module makes of their sources.

SQLGlot turns DuckDB's `$name` parameters into Spark's `:name` and `::` casts into CAST;
one rewrite is ours: log10 stays Spark's LOG10 (SQLGlot writes LOG(10, x), ln x / ln 10,
which can differ in the last bit from the log10 both engines compute today).
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlglot
from sqlglot import exp

from pipeline.warehouse.queries import load_sql, sql_dir

GENERATED = ("histograms", "summaries")  # the statements Spark runs from one source
_DUCKDB_PARAMETER = re.compile(r"\$([a-z_]+)")


def spark_sql(name: str) -> str:
    """The text of sql/spark/<name>.sql generated from sql/<name>.sql."""
    lines = load_sql(name).splitlines()
    header = [line for line in lines if line.startswith("--")]
    body = "\n".join(line for line in lines if not line.startswith("--"))
    tree = sqlglot.parse_one(body, read="duckdb").transform(_keep_log10)
    statement = tree.sql(dialect="spark", pretty=True, comments=False)
    note = [
        f"-- Generated from sql/{name}.sql by scripts/generate_spark_sql.py (SQLGlot, DuckDB",
        "-- to Spark): edit that file and run the script; a test fails on any drift.",
    ]
    source_header = [_DUCKDB_PARAMETER.sub(r":\1", line) for line in header]
    return "\n".join([*note, *source_header, statement]) + "\n"


def _keep_log10(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Log) and node.this == exp.Literal.number(10) and node.expression:
        return exp.Anonymous(this="LOG10", expressions=[node.expression])
    return node


def spark_sql_path(name: str) -> Path:
    return sql_dir() / "spark" / f"{name}.sql"


def write_spark_sql() -> list[Path]:
    """Regenerate every sql/spark/<name>.sql of GENERATED; the paths written."""
    written = []
    for name in GENERATED:
        path = spark_sql_path(name)
        path.write_text(spark_sql(name))
        written.append(path)
    return written
