"""`lossgram sql`: a user's query on the warehouse, read-only for real.

One statement, and only a read (SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, and an
EXPLAIN of one of those: EXPLAIN ANALYZE runs its statement), classified by DuckDB's own
parser. File access is limited to the committed losses files, each by its exact path,
and then the connection's configuration is locked, so a query cannot read other files,
write any, attach databases, install extensions or change settings. A query
that runs past its time limit is interrupted.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline.base.errors import WarehouseError
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.queries import execute

if TYPE_CHECKING:  # `lossgram sql` prints DuckDB's own rows: it starts without Polars
    import polars as pl

READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
# EXPLAIN [ANALYZE] [(options)] <statement>: the statement explained must be a read too
# (EXPLAIN ANALYZE runs it: EXPLAIN ANALYZE COPY ... TO would write).
EXPLAINED = re.compile(
    r"^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?(?:\([^)]*\)\s*)?(?P<inner>.+)$", re.I | re.S
)


@dataclass(frozen=True)
class QueryResult:
    """A query's result, at most the limit asked for, and whether more was left out: as
    DuckDB's Python rows (a table or JSON: no Polars needed), or for bulk output (CSV,
    every row by default) as a Polars frame made from Arrow, which writes millions of
    rows in a second where Python's csv module takes tens."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    bulk: pl.DataFrame | None = None

    @property
    def frame(self) -> pl.DataFrame:
        """The result as a Polars frame, for the CSV writer and Python callers."""
        if self.bulk is not None:
            return self.bulk
        import polars as pl

        return pl.DataFrame(self.rows, schema=self.columns, orient="row", infer_schema_length=None)


def run_user_query(
    root: Path | str,
    query: str,
    *,
    timeout_seconds: float,
    limit: int | None,
    bulk: bool = False,
    memory_limit: str = "2GB",
) -> QueryResult:
    """Run a user's read statement on a read-only connection to the warehouse, within a
    memory limit (a query beside a nightly run leaves the writer room); `bulk` fetches it
    as Arrow into a Polars frame (QueryResult.bulk) instead of Python rows."""
    warehouse = Warehouse(root)
    connection = warehouse.connect(losses_view="losses" in query.lower())
    try:
        # Classified by the warehouse connection's parser before anything runs: duckdb's
        # module-level parser would start a second, in-memory database (~15 ms).
        _check_is_one_read(connection, query)
        execute(connection, "reader_memory_limit", {"limit": memory_limit})
        _lock_down(connection, warehouse)
        timer = threading.Timer(timeout_seconds, connection.interrupt)
        timer.start()
        try:
            relation = connection.sql(query)
            if relation is None:
                return QueryResult([], [], False)
            relation = _printable(relation)
            if limit is not None:
                relation = relation.limit(limit + 1)
            if bulk:
                import polars as pl

                frame = pl.from_arrow(relation.to_arrow_table())
                assert isinstance(frame, pl.DataFrame)
                if limit is not None and frame.height > limit:
                    return QueryResult(frame.columns, [], True, frame.head(limit))
                return QueryResult(frame.columns, [], False, frame)
            columns, rows = relation.columns, relation.fetchall()
        finally:
            timer.cancel()
    except duckdb.InterruptException as error:
        raise WarehouseError(
            f"query stopped after {timeout_seconds:g} s (--timeout): narrow it, or allow more"
        ) from error
    except duckdb.Error as error:
        raise WarehouseError(f"query failed: {_said(error)}") from error
    finally:
        connection.close()
    if limit is not None and len(rows) > limit:
        return QueryResult(columns, rows[:limit], True)
    return QueryResult(columns, rows, False)


def _said(error: duckdb.Error) -> str:
    """DuckDB's message in one line: its first line, and its hint if it gave one (`Did
    you mean "losses"?`, candidate bindings), not the statement and caret between."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    hints = [line for line in lines[1:] if line.startswith(("Did you mean", "Candidate"))]
    return "; ".join(lines[:1] + hints)


# DuckDB types that a table, CSV or JSON cannot show as they are, alone or nested: shown as text.
TEXT_ONLY_TYPES = re.compile(r"\b(VARIANT|INTERVAL|UNION|BIT|BLOB|GEOMETRY)\b")


def _printable(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The result with text-only types cast to VARCHAR and repeated column names made
    unique (a, a -> a, a_2), so every result can be printed as a table, CSV or JSON."""
    seen: set[str] = set()
    columns = []
    typed = zip(relation.columns, relation.types, strict=True)
    for position, (name, kind) in enumerate(typed, start=1):
        unique, suffix = name, 1
        while unique in seen:
            suffix += 1
            unique = f"{name}_{suffix}"
        seen.add(unique)
        value = f"#{position}"
        if TEXT_ONLY_TYPES.search(str(kind)):
            value = f"CAST({value} AS VARCHAR)"
        quoted = unique.replace('"', '""')
        columns.append(f'{value} AS "{quoted}"')
    return relation.project(", ".join(columns))


def _check_is_one_read(connection: duckdb.DuckDBPyConnection, query: str) -> None:
    try:
        statements = connection.extract_statements(query)
    except duckdb.Error as error:
        raise WarehouseError(f"query failed: {str(error).splitlines()[0]}") from error
    if len(statements) != 1:
        raise WarehouseError(f"lossgram sql runs one statement at a time, got {len(statements)}")
    kind = statements[0].type
    if kind == duckdb.StatementType.EXPLAIN:
        kind = _explained_kind(connection, statements[0].query)
    if kind == duckdb.StatementType.INVALID:
        raise WarehouseError(
            "lossgram sql is read-only: it cannot tell what this EXPLAIN explains; start "
            "the statement with EXPLAIN [ANALYZE] SELECT ..."
        )
    if kind not in READ_STATEMENTS:
        raise WarehouseError(
            f"lossgram sql is read-only: {kind.name} statements are refused (allowed: "
            "SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN of those)"
        )


def _explained_kind(connection: duckdb.DuckDBPyConnection, query: str) -> duckdb.StatementType:
    """The kind of statement an EXPLAIN explains (one it cannot read counts as a write)."""
    match = EXPLAINED.match(query)
    try:
        inner = connection.extract_statements(match.group("inner")) if match else []
    except duckdb.Error:
        inner = []
    if len(inner) != 1 or inner[0].type == duckdb.StatementType.EXPLAIN:
        return duckdb.StatementType.INVALID
    return inner[0].type


def _lock_down(connection: duckdb.DuckDBPyConnection, warehouse: Warehouse) -> None:
    """Files: only the committed losses and histogram files, each by its exact path (no
    folder, so nothing can be written beside or over them); settings: locked."""
    committed = [
        warehouse.layout.location(path) for (path,) in execute(connection, "readable_files")
    ]
    execute(connection, "reader_allowed_paths", {"paths": committed})
    execute(connection, "reader_no_external_access")
    execute(connection, "reader_lock_configuration")
