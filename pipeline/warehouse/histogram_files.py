"""Each night's histograms in a Parquet file of their own, out of the catalog.

The catalog is copied at every commit (pipeline/warehouse/catalog.py), so what it holds
must not grow with the nights: the per-class histograms of every epoch were ~1 MiB a
night. A commit computes a night's histograms into `histogram_rows` (sql/histograms.sql,
either engine), and before it ends `move_out_histograms` writes them to
histograms/snapshot_date=D/<run>-<n>.parquet, lists the file in `histogram_files` and
empties the table; the `histograms` view reads both. Files are immutable under run-unique
names: a night computed again gets a new file and the old one is retired like a losses
file.
"""

from __future__ import annotations

import datetime as dt
import uuid

import duckdb

from pipeline.warehouse.layout import HISTOGRAMS_FOLDER, Layout
from pipeline.warehouse.queries import ddl, execute, query_frame


def histogram_file_path(snapshot_date: dt.date, run_id: str) -> str:
    """A night's histogram file, relative to the warehouse: the folder names the night
    (read as a hive partition), the name the run (and a unique part: a run may land a
    night twice)."""
    unique = uuid.uuid4().hex[:8]
    return (
        f"{HISTOGRAMS_FOLDER}/snapshot_date={snapshot_date.isoformat()}/{run_id}-{unique}.parquet"
    )


def move_out_histograms(
    connection: duckdb.DuckDBPyConnection, layout: Layout, run_id: str
) -> list[str]:
    """Within a commit: write every night in histogram_rows to its own new file, list it
    and empty the table; then bind the stored view over the files. Returns the new files
    (relative), so a failed commit can remove them."""
    written = []
    for (snapshot_date,) in execute(connection, "histogram_row_nights"):
        rows = query_frame(connection, "night_histogram_rows", {"snapshot_date": snapshot_date})
        relative = histogram_file_path(snapshot_date, run_id)
        layout.catalogs.mkdir(parents=True, exist_ok=True)
        local = layout.catalogs / f".histograms-{uuid.uuid4().hex[:12]}.parquet"
        try:
            rows.write_parquet(local)
            layout.store.publish(local, relative)
        finally:
            local.unlink(missing_ok=True)
        written.append(relative)
        night = {"snapshot_date": snapshot_date}
        execute(connection, "retire_histogram_file", night)  # a table's rows of an old file
        execute(connection, "forget_histogram_file", night)
        record = {**night, "path": relative, "rows": rows.height, "run_id": run_id}
        execute(connection, "record_histogram_file", record)
        execute(connection, "clear_night_histogram_rows", night)
    if written:
        layout.store.sync_names(written)
        bind_histogram_views(connection, layout, stored=True)
    return written


def bind_histogram_views(
    connection: duckdb.DuckDBPyConnection, layout: Layout, *, stored: bool
) -> None:
    """The view over the committed histogram files where the warehouse now is: stored
    (within a commit), or this session's own (a reader of a moved or copied catalog: the
    stored `histograms` view then reads it, as a temporary view comes first by name)."""
    files = [layout.location(path) for (path,) in execute(connection, "histogram_files_listed")]
    if stored:
        if files:
            connection.execute(ddl("histogram_file_rows_view", histogram_files=files))
        else:
            execute(connection, "histogram_file_rows_view_empty")
        execute(connection, "comment_histogram_file_rows")
        return
    if files:
        connection.execute(ddl("histogram_file_rows_view_temp", histogram_files=files))
