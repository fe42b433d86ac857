"""The aggregate tables as Parquet under the warehouse, for readers that do not open the
DuckDB catalog (Spark SQL, Trino, Polars): tables/<table>/snapshot_date=D/data.parquet.

Each night's file is written after its commit and swapped in whole (readers see the old
file or the new one), and names in its metadata the run whose commit it mirrors; a run
that died between its commit and the export is caught up by the next run.
"""

from __future__ import annotations

import datetime as dt
import uuid

import duckdb

from pipeline.layout import Layout
from pipeline.queries import execute, query_frame

EXPORTED_TABLES = ("histograms", "summaries", "verdicts")
RUN_KEY = b"lossgram.run_id"


def export_path(table: str, snapshot_date: dt.date) -> str:
    """The night's file of a table, relative to the warehouse."""
    return f"tables/{table}/snapshot_date={snapshot_date.isoformat()}/data.parquet"


def export_night(
    connection: duckdb.DuckDBPyConnection, layout: Layout, snapshot_date: dt.date, run_id: str
) -> None:
    """Write one night's rows of every exported table, each file swapped in whole."""
    import pyarrow.parquet as pq  # here: a run with nothing new only checks the footers

    layout.root.mkdir(parents=True, exist_ok=True)
    for table in EXPORTED_TABLES:
        frame = query_frame(connection, f"export_{table}", {"snapshot_date": snapshot_date})
        rows = frame.drop("snapshot_date").to_arrow()  # the folder name carries the date
        rows = rows.replace_schema_metadata({**(rows.schema.metadata or {}), RUN_KEY: run_id})
        # Written beside the warehouse's files (a rename away on disk), then published.
        temporary = layout.root / f".{table}-{uuid.uuid4().hex[:12]}.parquet.tmp"
        try:
            pq.write_table(rows, temporary)
            layout.publish(temporary, export_path(table, snapshot_date))
        finally:
            temporary.unlink(missing_ok=True)


def catch_up_exports(connection: duckdb.DuckDBPyConnection, layout: Layout) -> list[dt.date]:
    """Export the nights whose Parquet copy is missing or mirrors an older commit."""
    stale = []
    for snapshot_date, run_id in execute(connection, "committed_nights"):
        if any(
            _exported_run(connection, layout, export_path(t, snapshot_date)) != run_id
            for t in EXPORTED_TABLES
        ):
            export_night(connection, layout, snapshot_date, run_id)
            stale.append(snapshot_date)
    return stale


def _exported_run(
    connection: duckdb.DuckDBPyConnection, layout: Layout, relative: str
) -> str | None:
    try:
        footer = {"path": layout.location(relative), "key": RUN_KEY.decode()}
        rows = execute(connection, "exported_run", footer)
    except duckdb.Error:  # missing, or cut short
        return None
    return str(rows[0][0]) if rows else None
