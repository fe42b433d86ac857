"""The `losses` views: the committed per-sample files read as one relation.

Files of one schema (one column_set, recorded in file_columns when placed) are read
together, and the groups joined by column name: binding the view opens one footer per
schema, where unifying every file by name opened each file's footer at every commit
and every query (~15,000 files after a year of nights: bench/README.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from pipeline.warehouse.layout import Layout, column_set
from pipeline.warehouse.queries import Fragment, ddl, execute, identifier, registered

# (path relative to the warehouse, its night, its column_set or None when not recorded)
Listed = list[tuple[str, dt.date, str | None]]


def live_listed(
    connection: duckdb.DuckDBPyConnection, months: Sequence[str] | None = None
) -> Listed:
    """Every committed file with its night and schema signature, or those of some
    months' views (month_view names)."""
    if months is None:
        rows = execute(connection, "live_file_groups")
    else:
        keys = [name.removeprefix(MONTH_VIEW_PREFIX) for name in months]
        rows = execute(connection, "live_file_groups_of_months", {"months": keys})
    return [(str(path), day, columns) for path, day, columns in rows]


def live_months(connection: duckdb.DuckDBPyConnection) -> set[str]:
    """The months' views the committed files call for (month_view names)."""
    return {MONTH_VIEW_PREFIX + month for (month,) in execute(connection, "live_file_months")}


def month_views(connection: duckdb.DuckDBPyConnection) -> set[str]:
    """The months' views this catalog holds."""
    return {name for (name,) in execute(connection, "losses_month_views")}


def files_to_bind(
    connection: duckdb.DuckDBPyConnection, night: dt.date | None
) -> tuple[Listed, set[str] | None]:
    """The files a `losses` view is bound over: every committed file; or, for a night's
    commit, those of the months whose views it makes again (its own, and any month
    without one), not every night's, with every month's view the files call for."""
    if night is None:
        return live_listed(connection), None
    months = live_months(connection)
    remade = {month_view(night)} | (months - month_views(connection))
    return live_listed(connection, sorted(remade & months)), months


def entries_listed(
    connection: duckdb.DuckDBPyConnection, entries: Sequence[tuple[dt.date, str]]
) -> Listed:
    """The committed files of some (night, model) entries."""
    dates, models = [day for day, _ in entries], [model for _, model in entries]
    rows = execute(connection, "night_file_groups", {"dates": dates, "models": models})
    return [(str(path), day, columns) for path, day, columns in rows]


def sign_unrecorded(
    connection: duckdb.DuckDBPyConnection, layout: Layout, listed: Listed, *, record: bool
) -> Listed:
    """listed with a signature for every file: files of an older lossgram have none
    recorded, so their footers are read once (and, in a commit, the signatures kept)."""
    found = {
        path: column_set(layout.footer(layout.location(path)).schema.to_arrow_schema())
        for path, _, columns in listed
        if columns is None
    }
    if found and record:
        import polars as pl

        frame = pl.DataFrame(
            {"path": list(found), "column_set": list(found.values())},
            schema={"path": pl.String, "column_set": pl.String},
        )
        with registered(connection, found_columns=frame):
            execute(connection, "record_found_file_columns")
    return [(path, day, columns or found[path]) for path, day, columns in listed]


def _group_parts(layout: Layout, listed: Listed) -> Fragment:
    """One losses_group per schema, in order of first appearance, by absolute location
    (every file of listed must be signed), joined by column name."""
    groups: dict[str | None, list[str]] = {}
    for path, _, columns in listed:
        groups.setdefault(columns, []).append(layout.location(path))
    parts = [ddl("losses_group", files=files) for files in groups.values()]
    return Fragment("\nUNION ALL BY NAME\n".join(parts))


def losses_source(layout: Layout, listed: Listed) -> Fragment:
    """The SELECT a session's view reads: the listed files, grouped by schema."""
    return ddl("losses_source", groups=_group_parts(layout, listed))


# A month's view is losses_of_YYYY_MM (sql/live_file_months.sql names months so too).
MONTH_VIEW_PREFIX = "losses_of_"


def month_view(day: dt.date) -> str:
    """The name of the stored view of a night's month."""
    return f"{MONTH_VIEW_PREFIX}{day:%Y_%m}"


def bind_temp_view(connection: duckdb.DuckDBPyConnection, layout: Layout, listed: Listed) -> None:
    """This session's own `losses` view over the listed files (signed)."""
    if listed:
        connection.execute(ddl("losses_view_temp", losses_source=losses_source(layout, listed)))
    else:
        execute(connection, "losses_view_empty_temp")


def bind_stored_view(
    connection: duckdb.DuckDBPyConnection,
    layout: Layout,
    listed: Listed,
    catalog: str,
    night: dt.date | None = None,
    months: set[str] | None = None,
) -> None:
    """The stored `losses` view and the views over it, by absolute paths, so the stock
    duckdb CLI works from any folder; a guard names a copied or moved catalog instead of
    reading the old folder's files. It reads one view per month (views bind when
    queried): a commit of `night` makes its month's view again, and the `losses` view
    only when a month comes or goes; without a night, every view is made again.
    `listed`: every committed file, or (given `months`, every month's view the committed
    files call for) those of the months whose views are made again."""
    # A session view of the same name comes first: COMMENT ON would comment it instead.
    execute(connection, "drop_losses_view_temp")
    by_month: dict[str, Listed] = {}
    for entry in listed:
        by_month.setdefault(month_view(entry[1]), []).append(entry)
    wanted = set(by_month) if months is None else months
    existing = month_views(connection)
    # The night's month, and any month without its view (a catalog an older lossgram made).
    remade = {month_view(night)} | (wanted - existing) if night else wanted
    for name in sorted(remade):
        if name in by_month:
            view = identifier(name)
            groups = _group_parts(layout, by_month[name])
            connection.execute(ddl("losses_month_view", month_view=view, groups=groups))
            connection.execute(ddl("comment_losses_month_view", month_view=view))
    for name in existing - wanted:
        connection.execute(ddl("drop_losses_month_view", month_view=identifier(name)))
    if night is not None and existing == wanted:
        return  # the `losses` view reads the month's new view by name
    if wanted:
        parts = [ddl("losses_month_part", month_view=identifier(n)) for n in sorted(wanted)]
        source = ddl("losses_source", groups=Fragment("\nUNION ALL BY NAME\n".join(parts)))
        connection.execute(ddl("losses_view", losses_source=source, catalog_path=catalog))
    else:
        execute(connection, "losses_view_empty")
    for statement in (
        "comment_losses_view",
        "named_losses_view",
        "comment_named_losses_view",
        "training_dynamics_view",
        "comment_training_dynamics_view",
    ):
        execute(connection, statement)
