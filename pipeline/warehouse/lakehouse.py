"""The warehouse as Delta Lake tables (the `lakehouse` setting, the extra
lossgram[delta]): after each night's commit, that night's per-sample losses and its
histograms, summaries and verdicts replace the night's partition of
<lakehouse>/<table>, partitioned by snapshot_date, one Delta commit per table. Each
commit names the night and the run in its metadata (lossgram.night, lossgram.run_id),
so a run that died before its export is caught up by the next, as the Parquet copies
under tables/ are. Spark, Databricks, Trino, Polars and DuckDB read the tables."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

import duckdb

from pipeline.base.errors import LossgramError
from pipeline.base.progress import Progress, no_progress
from pipeline.warehouse.queries import execute, load_sql

LAKEHOUSE_TABLES = ("losses", "histograms", "summaries", "verdicts")
NIGHT_KEY, RUN_KEY = "lossgram.night", "lossgram.run_id"
# What the Delta writer reads from the environment for an object store (deltalake's own
# object_store names); lossgram holds the one-writer lock, so S3 may rename unsafely.
S3_OPTIONS = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


class LakehouseError(LossgramError, RuntimeError):
    """The Delta tables cannot be written (the extra missing, the store unreachable)."""


def storage_options(location: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Delta writer's options for a location: for s3://, the AWS variables and the
    single-writer rename (lossgram's lock is the only writer); none for a folder."""
    environ = os.environ if environ is None else environ
    if not location.startswith(("s3://", "s3a://")):
        return {}
    options = {name: environ[name] for name in S3_OPTIONS if name in environ}
    options["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
    if options.get("AWS_ENDPOINT_URL", "").startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    return options


def _deltalake() -> Any:
    try:
        import deltalake
    except ImportError as error:
        raise LakehouseError(
            "the lakehouse needs the deltalake package: pip install 'lossgram[delta]'"
        ) from error
    return deltalake


def export_lakehouse_night(
    connection: duckdb.DuckDBPyConnection, location: str, snapshot_date: dt.date, run_id: str
) -> None:
    """Replace one night's partition of every lakehouse table (the losses streamed in
    batches, not held whole)."""
    deltalake = _deltalake()
    options = storage_options(location)
    night = snapshot_date.isoformat()
    properties = deltalake.CommitProperties(custom_metadata={NIGHT_KEY: night, RUN_KEY: run_id})
    for table in LAKEHOUSE_TABLES:
        statement = "lakehouse_losses" if table == "losses" else f"export_{table}"
        rows = connection.sql(load_sql(statement), params={"snapshot_date": snapshot_date})
        try:
            deltalake.write_deltalake(
                f"{location.rstrip('/')}/{table}",
                rows.to_arrow_reader(),
                mode="overwrite",
                predicate=f"snapshot_date = '{night}'",
                partition_by=["snapshot_date"],
                schema_mode="merge",  # a slice column a later night brings is added
                storage_options=options or None,
                commit_properties=properties,
            )
        except Exception as error:  # deltalake's errors: one line, the table named
            first = (str(error).strip().splitlines() or [""])[0][:300]
            raise LakehouseError(
                f"lakehouse {location}: table {table}, night {night} not written: {first}"
            ) from error


def exported_nights(location: str, table: str) -> dict[str, str]:
    """Each night's run id as the table's latest commit for it says ({} for no table)."""
    deltalake = _deltalake()
    try:
        history = deltalake.DeltaTable(
            f"{location.rstrip('/')}/{table}", storage_options=storage_options(location) or None
        ).history()
    except deltalake.exceptions.TableNotFoundError:
        return {}
    nights: dict[str, str] = {}
    for commit in reversed(history):  # oldest first: the latest commit of a night wins
        if NIGHT_KEY in commit and RUN_KEY in commit:
            nights[str(commit[NIGHT_KEY])] = str(commit[RUN_KEY])
    return nights


def catch_up_lakehouse(
    connection: duckdb.DuckDBPyConnection, location: str, progress: Progress = no_progress
) -> list[dt.date]:
    """Export the nights whose Delta partition is missing or mirrors an older commit."""
    written = {table: exported_nights(location, table) for table in LAKEHOUSE_TABLES}
    committed = execute(connection, "committed_nights")
    stale = [
        (day, run_id)
        for day, run_id in committed
        if any(written[table].get(day.isoformat()) != run_id for table in LAKEHOUSE_TABLES)
    ]
    for index, (snapshot_date, run_id) in enumerate(stale):
        export_lakehouse_night(connection, location, snapshot_date, run_id)
        progress(index + 1, len(stale), snapshot_date.isoformat())
    return [day for day, _ in stale]
