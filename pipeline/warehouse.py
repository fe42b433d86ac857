"""The embedded catalog: one DuckDB file of aggregate tables, the ledger and the `losses`
view over the per-sample Parquet (file layout: pipeline/layout.py)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl

from pipeline.bins import BinScheme
from pipeline.layout import Layout
from pipeline.losses import LOSS_SCHEMA
from pipeline.queries import ddl, execute, registered, sql_dir

# Storage readable by DuckDB 1.4+ too, so the stock `duckdb` CLI (1.5 on PyPI today)
# opens the file; fixed when the file is created.
STORAGE_VERSION = "v1.4.0"
# The `losses` view's columns before any Parquet lands: the hive keys come last.
EMPTY_LOSSES = pl.Schema(
    [
        *((name, dtype) for name, dtype in LOSS_SCHEMA.items() if name != "model"),
        ("model", pl.String()),
        ("snapshot_date", pl.Date()),
    ]
)


class WarehouseError(RuntimeError):
    """The warehouse cannot be used as asked (newer schema, locked, missing)."""


def migrations() -> list[tuple[int, Path]]:
    """(version, file) of sql/schema/NNN_*.sql, in order."""
    return [
        (int(path.name[:3]), path)
        for path in sorted((sql_dir() / "schema").glob("[0-9][0-9][0-9]_*.sql"))
    ]


class Warehouse:
    """One warehouse folder: its layout, and connections to its DuckDB file."""

    def __init__(self, root: Path, memory_limit: str | None = None) -> None:
        self.layout = Layout(root.resolve())
        self.root = self.layout.root
        self.database = self.layout.database
        self.memory_limit = memory_limit  # a writer's; None leaves DuckDB's default

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Open the DuckDB file; a writer applies migrations and makes the view."""
        if read_only:
            if not self.database.exists():
                raise WarehouseError(f"no warehouse at {self.root} (run `lossgram run` first)")
            connection = duckdb.connect(str(self.database), read_only=True)
            if self._check_version(connection) < self._known_version():
                connection.close()
                raise WarehouseError(
                    f"{self.database} was made by an older lossgram: run `lossgram run` "
                    "once to upgrade it"
                )
            # The stored view has this folder's absolute path; a temporary one follows a
            # warehouse that was moved, without writing to a read-only file.
            self._create_losses_view(connection, temporary=True)
            return connection
        self.root.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            # Bounded memory: big aggregations spill to a folder inside the warehouse.
            "temp_directory": str(self.layout.spill),
            # One thread: parallel float sums depend on scheduling, and a rerun must
            # give bit-identical tables.
            "threads": 1,
            # Hand freed memory back to the OS in the background, so the quantiles'
            # memory does not stay resident under the statistics step that follows.
            "allocator_background_threads": True,
            "storage_compatibility_version": STORAGE_VERSION,
        }
        if self.memory_limit is not None:
            config["memory_limit"] = self.memory_limit
        connection = duckdb.connect(str(self.database), config=config)
        execute(connection, "session_settings")
        self._migrate(connection)
        if not execute(connection, "losses_view_exists")[0][0]:
            self.refresh_losses_view(connection)  # writers refresh it after placing files
        return connection

    @staticmethod
    def _known_version() -> int:
        return max(version for version, _ in migrations())

    def _check_version(self, connection: duckdb.DuckDBPyConnection) -> int:
        """The file's schema version; a WarehouseError if a newer lossgram made it."""
        known = self._known_version()
        current = 0
        if execute(connection, "schema_version_exists")[0][0]:
            current = execute(connection, "schema_version")[0][0] or 0
        if current > known:
            raise WarehouseError(
                f"{self.database} has schema version {current}, newer than this lossgram "
                f"knows ({known}): upgrade lossgram"
            )
        return int(current)

    def _migrate(self, connection: duckdb.DuckDBPyConnection) -> None:
        execute(connection, "create_schema_version")
        current = self._check_version(connection)
        pending = [(version, path) for version, path in migrations() if version > current]
        for version, path in pending:
            with transaction(connection):
                connection.execute(path.read_text())
                execute(connection, "record_migration", {"version": version, "name": path.name})
        if pending:
            # The per-sample schema lives in pipeline/losses.py; a change to it comes with a
            # migration, which brings this table along.
            with registered(connection, empty_losses=pl.DataFrame(schema=EMPTY_LOSSES)):
                execute(connection, "create_loss_columns")

    def refresh_losses_view(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._create_losses_view(connection, temporary=False)

    def _create_losses_view(
        self, connection: duckdb.DuckDBPyConnection, *, temporary: bool
    ) -> None:
        if self.layout.has_losses():
            statement = "losses_view_temp" if temporary else "losses_view"
            connection.execute(ddl(statement, losses_glob=self.layout.losses_glob()))
        else:
            execute(connection, "losses_view_empty_temp" if temporary else "losses_view_empty")

    def register_bin_scheme(self, connection: duckdb.DuckDBPyConnection, scheme: BinScheme) -> None:
        execute(connection, "clear_bin_scheme", {"scheme_id": scheme.scheme_id})
        bins = pl.DataFrame(
            scheme.rows(),
            schema={
                "scheme_id": pl.String,
                "bin": pl.Int32,
                "lower": pl.Float64,
                "upper": pl.Float64,
            },
            orient="row",
        )
        with registered(connection, scheme_bins=bins):
            execute(connection, "insert_bin_scheme")

    @contextlib.contextmanager
    def lock(self, timeout_seconds: float) -> Iterator[None]:
        """Hold the warehouse's writer lock, waiting up to timeout_seconds for it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.layout.lock_file.open("a+") as handle:
            deadline = time.monotonic() + timeout_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise WarehouseError(
                            f"{self.root} is locked by another lossgram run ({holder}); "
                            f"gave up after {timeout_seconds:g} s (setting lock_timeout)"
                        ) from None
                    time.sleep(0.2)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Everything in the block commits together, or not at all."""
    connection.execute("BEGIN")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@contextlib.contextmanager
def reading(root: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a warehouse, closed afterwards."""
    connection = Warehouse(root).connect(read_only=True)
    try:
        yield connection
    finally:
        connection.close()


def read_only_query(root: Path, query: str) -> pl.DataFrame:
    """Run a user's SQL on a read-only connection; writes fail with a clear error."""
    with reading(root) as connection:
        try:
            relation = connection.sql(query)
            if relation is None:
                return pl.DataFrame()
            frame = pl.from_arrow(relation.to_arrow_table())
        except duckdb.Error as error:
            text = str(error)
            if "read-only" in text or "read only" in text:
                raise WarehouseError(
                    f"lossgram sql is read-only: {text.splitlines()[0]}"
                ) from error
            raise WarehouseError(f"query failed: {text}") from error
    assert isinstance(frame, pl.DataFrame)
    return frame
