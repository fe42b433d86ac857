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

from pipeline.warehouse.layout import Layout
from pipeline.warehouse.queries import execute, query_frame

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
            layout.store.publish(temporary, export_path(table, snapshot_date))
        finally:
            temporary.unlink(missing_ok=True)


def catch_up_exports(connection: duckdb.DuckDBPyConnection, layout: Layout) -> list[dt.date]:
    """Export the nights whose Parquet copy is missing or mirrors an older commit."""
    written = exported_runs(connection, layout)
    stale = []
    for snapshot_date, run_id in execute(connection, "committed_nights"):
        relatives = [export_path(table, snapshot_date) for table in EXPORTED_TABLES]
        if any(_exported_run(layout, relative, written) != run_id for relative in relatives):
            export_night(connection, layout, snapshot_date, run_id)
            stale.append(snapshot_date)
    return stale


def exported_runs(connection: duckdb.DuckDBPyConnection, layout: Layout) -> dict[str, str] | None:
    """The run id of every exported file (by warehouse-relative path) from one glob over
    tables/: 0.08 s for 900 files, against 0.13 s of footers plus 0.17 s to import
    pyarrow (the warehouse's name holds no glob character: Warehouse refuses one). None
    when a file cannot be read (cut short) or there is none yet: then file by file."""
    pattern = layout.location("tables/*/snapshot_date=*/data.parquet")  # as export_path
    try:
        rows = execute(connection, "exported_runs", {"files": pattern, "key": RUN_KEY.decode()})
    except duckdb.Error:
        return None
    # The last four parts (tables/<table>/snapshot_date=<D>/data.parquet) on disk and on
    # an object store alike.
    return {"/".join(str(name).split("/")[-4:]): str(run) for name, run in rows}


def _exported_run(layout: Layout, relative: str, written: dict[str, str] | None) -> str | None:
    if written is not None:
        return written.get(relative)
    try:  # file by file: its footer
        metadata = layout.footer(layout.location(relative)).metadata or {}
    except (OSError, ValueError):  # missing, or cut short
        return None
    run = metadata.get(RUN_KEY)
    return run.decode() if run is not None else None
