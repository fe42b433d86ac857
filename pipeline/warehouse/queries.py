"""SQL statements kept in sql/*.sql, one per file, loaded by name and run with bound values.

Each file opens with a comment ending in `Binds: $a, $b` (or `Binds: none`), and a test
holds that header to the `$names` the statement uses. DDL cannot bind values: its
`{{name}}` literals are filled by `ddl`, the one place a value is quoted into SQL.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:  # imported where a frame is made: `lossgram sql` starts without it
    import polars as pl

# A value DDL needs quoted in ({{name}}): unlike a bound $name, ddl() writes it into the text.
_LITERAL = re.compile(r"\{\{([a-z_]+)\}\}")


def sql_dir() -> Path:
    """Folder of the SQL statements: inside the wheel, or the source tree's sql/."""
    package = Path(__file__).parent.parent
    packaged = package / "sql"
    return packaged if packaged.is_dir() else package.parent / "sql"


@cache
def load_sql(name: str) -> str:
    """One statement from sql/<name>.sql."""
    return (sql_dir() / f"{name}.sql").read_text()


def quote_literal(text: str) -> str:
    """A string as an SQL literal: DDL such as CREATE VIEW takes no parameters."""
    return "'" + text.replace("'", "''") + "'"


class Fragment(str):
    """SQL text ddl() filled from a file of sql/: placed into another statement as it is
    (its own values were quoted when it was filled)."""


def identifier(name: str) -> Fragment:
    """A name quoted as an SQL identifier (a view's name, in DDL)."""
    return Fragment('"' + name.replace('"', '""') + '"')


def ddl(name: str, **literals: str | list[str]) -> Fragment:
    """sql/<name>.sql with each `{{name}}` literal replaced by its quoted value (a list of
    strings becomes a list literal; a Fragment goes in as it is)."""

    def fill(match: re.Match[str]) -> str:
        value = literals[match.group(1)]
        if isinstance(value, Fragment):
            return value
        if isinstance(value, list):
            return "[" + ", ".join(quote_literal(item) for item in value) + "]"
        return quote_literal(value)

    # The header comment names the literals too: fill the statement alone.
    statement = "\n".join(line for line in load_sql(name).splitlines() if not line.startswith("--"))
    return Fragment(_LITERAL.sub(fill, statement))


def query_frame(
    connection: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Run sql/<name>.sql with bound parameters; the result as a Polars frame."""
    import polars as pl

    relation = connection.sql(load_sql(name), params=params or {})
    assert relation is not None
    frame = pl.from_arrow(relation.to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def execute(
    connection: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Run sql/<name>.sql with bound parameters; its rows (none for most writes)."""
    cursor = connection.execute(load_sql(name), params or {})
    return cursor.fetchall() if cursor.description else []


@contextlib.contextmanager
def registered(connection: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Frames visible to SQL under their keyword names while the block runs."""
    for name, frame in frames.items():
        connection.register(name, frame)
    try:
        yield
    finally:
        for name in frames:
            connection.unregister(name)
