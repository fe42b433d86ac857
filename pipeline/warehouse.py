"""The embedded warehouse: per-sample losses as hive Parquet plus one DuckDB file.

<warehouse>/losses/snapshot_date=YYYY-MM-DD/model=NAME/<key>.parquet
<warehouse>/lossgram.duckdb      tables + the `losses` view over that Parquet
<warehouse>/.lock                one writer at a time
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import polars as pl

from pipeline.settings import Settings

DATABASE_FILE = "lossgram.duckdb"
STORAGE_VERSION = "v1.4.0"
LOSSES_FOLDER = "losses"
LOCK_FILE = ".lock"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
MAX_FOLDER_VALUE = 240  # bytes; file systems allow 255 per path segment


class WarehouseError(RuntimeError):
    """The warehouse cannot be used as asked (newer schema, locked, missing)."""


def sql_dir() -> Path:
    """Folder of the SQL statements: inside the wheel, or the source tree's sql/."""
    packaged = Path(__file__).parent / "sql"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "sql"


@cache
def load_sql(name: str) -> str:
    """One statement from sql/<name>.sql."""
    return (sql_dir() / f"{name}.sql").read_text()


def query_frame(
    connection: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Run sql/<name>.sql with bound parameters; the result as a Polars frame."""
    relation = connection.sql(load_sql(name), params=params or {})
    assert relation is not None
    frame = pl.from_arrow(relation.to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def quote_literal(text: str) -> str:
    """The one place a value is quoted into SQL: DDL such as CREATE VIEW takes no parameters."""
    return "'" + text.replace("'", "''") + "'"


def safe_name(name: str) -> str:
    """A model name as a single, harmless path segment (no separators, no traversal)."""
    cleaned = _SAFE_NAME.sub("_", name).strip(".") or "_"
    return cleaned[:120]


def hive_value(name: str) -> str:
    """A value for a key=value folder: percent-encoded, as DuckDB, Polars and pyarrow decode
    it, so the folder holds any model name exactly (no separators, no traversal)."""
    encoded = quote(name, safe="")
    if len(encoded.encode()) > MAX_FOLDER_VALUE:
        raise WarehouseError(f"model name {name[:60]!r}... is too long for a folder name")
    return encoded


def migrations() -> list[tuple[int, Path]]:
    """(version, file) of sql/schema/NNN_*.sql, in order."""
    found = []
    for path in sorted((sql_dir() / "schema").glob("[0-9][0-9][0-9]_*.sql")):
        found.append((int(path.name[:3]), path))
    return found


@dataclass(frozen=True)
class BinScheme:
    """A fixed histogram bin scheme shared by every shard, night and engine."""

    scheme_id: str
    edges: tuple[float, ...]  # lower edges; the last bin runs to +inf
    # How SQL guesses a loss's bin in O(1) before checking it against the stored edges:
    # ("log", low, per_decade) or ("linear", width, 0).
    guess: tuple[str, float, float]

    def guess_parameters(self) -> dict[str, Any]:
        kind, first, second = self.guess
        return {
            "guess_kind": kind,
            "guess_a": first,
            "guess_b": second,
            "last_bin": len(self.edges) - 1,
        }

    def rows(self) -> list[tuple[str, int, float, float]]:
        uppers = (*self.edges[1:], math.inf)
        return [
            (self.scheme_id, index, lower, upper)
            for index, (lower, upper) in enumerate(zip(self.edges, uppers, strict=True))
        ]


def log_bin_scheme(low: float = 1e-4, high: float = 100.0, per_decade: int = 20) -> BinScheme:
    """[0, low), log-spaced edges low..high at per_decade bins per decade, then [high, inf)."""
    decades = round(math.log10(high / low))
    steps = decades * per_decade
    edges = [0.0] + [low * 10 ** (step / per_decade) for step in range(steps + 1)]
    edges[-1] = high  # exact, whatever the float rounding of the power
    return BinScheme(
        f"log-{low:g}-{high:g}-{per_decade}", tuple(edges), ("log", low, float(per_decade))
    )


def linear_bin_scheme(width: float = 0.1, high: float = 30.0) -> BinScheme:
    """Equal-width bins [0, width), ... up to high, then [high, inf)."""
    count = round(high / width)
    edges = [round(step * width, 12) for step in range(count + 1)]
    return BinScheme(f"linear-{width:g}-{high:g}", tuple(edges), ("linear", width, 0.0))


def bin_scheme(settings: Settings) -> BinScheme:
    if settings.bins == "linear":
        return linear_bin_scheme(settings.linear_bin_width, settings.linear_bin_max)
    return log_bin_scheme()


class Warehouse:
    """Paths of one warehouse folder and connections to its DuckDB file."""

    def __init__(self, root: Path, memory_limit: str = "2GB") -> None:
        self.root = root.resolve()
        self.memory_limit = memory_limit
        self.database = self.root / DATABASE_FILE
        self.losses = self.root / LOSSES_FOLDER

    def partition(self, snapshot_date: str, model: str | None = None) -> Path:
        folder = self.losses / f"snapshot_date={snapshot_date}"
        return folder if model is None else folder / f"model={hive_value(model)}"

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Open the DuckDB file; a writer applies migrations and refreshes the view."""
        if read_only:
            if not self.database.exists():
                raise WarehouseError(f"no warehouse at {self.root} (run `lossgram run` first)")
            connection = duckdb.connect(str(self.database), read_only=True)
            self._check_version(connection)
            # The stored view has this folder's absolute path; a temporary one follows a
            # warehouse that was moved, without writing to a read-only file.
            self._create_losses_view(connection, temporary=True)
            return connection
        self.root.mkdir(parents=True, exist_ok=True)
        # Bounded memory: big aggregations spill to a folder inside the warehouse. One
        # thread: parallel float sums depend on scheduling, and a rerun must give
        # bit-identical tables.
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": self.memory_limit,
            "temp_directory": str(self.root / ".tmp"),
            "threads": 1,
            # Hand freed memory back to the OS in the background: otherwise the 40M-row
            # quantiles' ~0.5 GB stays resident under the statistics step that follows.
            "allocator_background_threads": True,
            # Storage readable by DuckDB 1.4+ too, so the stock `duckdb` CLI (1.5 on PyPI
            # today) opens the file; fixed when the file is created.
            "storage_compatibility_version": STORAGE_VERSION,
        }
        connection = duckdb.connect(str(self.database), config=config)
        connection.execute("SET TimeZone = 'UTC'")
        self._migrate(connection)
        view = connection.execute(load_sql("losses_view_exists")).fetchone()
        if not (view and view[0]):
            self.refresh_losses_view(connection)  # writers refresh it after placing files
        return connection

    def _check_version(self, connection: duckdb.DuckDBPyConnection) -> int:
        known = max(version for version, _ in migrations())
        exists = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()
        current = 0
        if exists and exists[0]:
            row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
            current = int(row[0]) if row and row[0] is not None else 0
        if current > known:
            raise WarehouseError(
                f"{self.database} has schema version {current}, newer than this lossgram "
                f"knows ({known}): upgrade lossgram"
            )
        return current

    def _migrate(self, connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
        )
        current = self._check_version(connection)
        for version, path in migrations():
            if version <= current:
                continue
            connection.execute("BEGIN")
            connection.execute(path.read_text())
            connection.execute(
                "INSERT INTO schema_version (version, name) VALUES ($version, $name)",
                {"version": version, "name": path.name},
            )
            connection.execute("COMMIT")

    def refresh_losses_view(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._create_losses_view(connection, temporary=False)

    def _create_losses_view(
        self, connection: duckdb.DuckDBPyConnection, *, temporary: bool
    ) -> None:
        has_files = any(self.losses.glob("snapshot_date=*/model=*/*.parquet"))
        if has_files:
            pattern = str(self.losses / "snapshot_date=*" / "model=*" / "*.parquet")
            statement = load_sql("losses_view").replace(":losses_glob", quote_literal(pattern))
        else:
            statement = load_sql("losses_view_empty")
        if temporary:
            statement = statement.replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMP VIEW")
        connection.execute(statement)

    def register_bin_scheme(self, connection: duckdb.DuckDBPyConnection, scheme: BinScheme) -> None:
        connection.execute(
            "DELETE FROM bin_schemes WHERE scheme_id = $scheme_id", {"scheme_id": scheme.scheme_id}
        )
        connection.executemany("INSERT INTO bin_schemes VALUES (?, ?, ?, ?)", scheme.rows())

    @contextlib.contextmanager
    def lock(self, timeout_seconds: float) -> Iterator[None]:
        """Hold the warehouse's writer lock, waiting up to timeout_seconds for it."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK_FILE
        with path.open("a+") as handle:
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


def read_only_query(root: Path, query: str) -> pl.DataFrame:
    """Run a user's SQL on a read-only connection; writes fail with a clear error."""
    warehouse = Warehouse(root)
    connection = warehouse.connect(read_only=True)
    try:
        relation = connection.sql(query)
        if relation is None:
            return pl.DataFrame()
        frame = pl.from_arrow(relation.to_arrow_table())
    except duckdb.Error as error:
        text = str(error)
        if "read-only" in text or "read only" in text:
            raise WarehouseError(f"lossgram sql is read-only: {text.splitlines()[0]}") from error
        raise WarehouseError(f"query failed: {text}") from error
    finally:
        connection.close()
    assert isinstance(frame, pl.DataFrame)
    return frame


def job_history(root: Path, limit: int) -> pl.DataFrame:
    """The most recent job runs, newest first."""
    connection = Warehouse(root).connect(read_only=True)
    try:
        return query_frame(connection, "job_history", {"limit": limit})
    finally:
        connection.close()
