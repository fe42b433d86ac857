"""Histograms, summaries and verdicts of one snapshot, inside the caller's transaction.

Both engines run the same statements, sql/histograms.sql and sql/summaries.sql (Spark
their generated twins in sql/spark/), over the night's rows in `night_losses` and the
scheme's `bin_edges`; each hands back the rows as frames with every summary group's
losses (exact here, sketched on Spark), and store_aggregates stores them and the verdicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import numpy as np
import polars as pl

from pipeline.analysis.bins import BinScheme
from pipeline.analysis.evidence import GroupKey, SplitLosses, verdict_rows
from pipeline.analysis.statistics import SortedLosses
from pipeline.base.faults import fault_point
from pipeline.base.options import AnalysisOptions
from pipeline.warehouse.queries import ddl, execute, load_sql, query_frame, registered

QUANTILES = (0.5, 0.9, 0.99)
QUANTILE_COLUMNS = ("median_ce", "p90_ce", "p99_ce")


class SnapshotAggregate(Protocol):
    """An engine's aggregation of one night: aggregate_snapshot here, or its Spark twin."""

    def __call__(
        self,
        connection: duckdb.DuckDBPyConnection,
        snapshot_date: dt.date,
        analysis: AnalysisOptions,
        scheme: BinScheme,
        models: list[str] | None = None,
        run_id: str | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class NightAggregates:
    """What an engine computed of one night: the rows of sql/histograms.sql and
    sql/summaries.sql (quantiles still NULL), and each summary group's losses."""

    histograms: pl.DataFrame
    summaries: pl.DataFrame
    losses: Mapping[GroupKey, SplitLosses]


def aggregate_snapshot(
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: dt.date,
    analysis: AnalysisOptions,
    scheme: BinScheme,
    models: list[str] | None = None,
    run_id: str | None = None,
) -> None:
    """Replace one snapshot's histograms, summaries and verdicts (inside the caller's
    transaction); `models` limits it to some models; each row names the run."""
    scope = clear_aggregates(connection, snapshot_date, models)
    with _night_relations(connection, scope, scheme):
        histograms = query_frame(
            connection, "histograms", histogram_parameters(snapshot_date, scheme, run_id)
        )
        fault_point("during_aggregation")
        summaries = query_frame(
            connection, "summaries", summary_parameters(snapshot_date, analysis, run_id)
        )
    losses = _group_losses(connection, scope, summaries)
    night = NightAggregates(histograms, summaries, losses)
    store_aggregates(connection, scope, night, analysis, run_id)


def histogram_parameters(
    snapshot_date: dt.date, scheme: BinScheme, run_id: str | None
) -> dict[str, Any]:
    """What sql/histograms.sql binds, on either engine."""
    return {
        "snapshot_date": snapshot_date.isoformat(),
        "scheme_id": scheme.scheme_id,
        **scheme.guess_parameters(),
        "run_id": run_id,
    }


def summary_parameters(
    snapshot_date: dt.date, analysis: AnalysisOptions, run_id: str | None
) -> dict[str, Any]:
    """What sql/summaries.sql binds, on either engine."""
    return {
        "snapshot_date": snapshot_date.isoformat(),
        "ece_bins": analysis.ece_bins,
        "run_id": run_id,
    }


def bin_edges(scheme: BinScheme) -> pl.DataFrame:
    """The scheme's bins as the statements read them (`bin_edges`: bin, lower, upper)."""
    return pl.DataFrame(
        [(index, lower, upper) for _, index, lower, upper in scheme.rows()],
        schema={"bin": pl.Int32, "lower": pl.Float64, "upper": pl.Float64},
        orient="row",
    )


@contextmanager
def _night_relations(
    connection: duckdb.DuckDBPyConnection, scope: dict[str, Any], scheme: BinScheme
) -> Iterator[None]:
    """The night's rows as the temp view night_losses and the scheme as bin_edges, while
    the block runs (DuckDB's side of what the neutral statements read)."""
    night = {"snapshot_date": scope["snapshot_date"].isoformat(), "models": scope["models"]}
    connection.execute(ddl("night_losses_view", **night))
    with registered(connection, bin_edges=bin_edges(scheme)):
        yield
    # Not on an error: the caller's transaction is rolled back then, the view with it
    # (and an aborted transaction refuses a DROP, hiding the error).
    execute(connection, "drop_night_losses_view")


def store_aggregates(
    connection: duckdb.DuckDBPyConnection,
    scope: dict[str, Any],
    night: NightAggregates,
    analysis: AnalysisOptions,
    run_id: str | None,
) -> None:
    """Store what an engine computed of one night (in the scope clear_aggregates cleared):
    the histograms, the summaries with their quantiles, and the verdicts."""
    summaries = _with_quantiles(night.summaries, night.losses)
    with registered(connection, computed_histograms=night.histograms, computed_summaries=summaries):
        execute(connection, "insert_histograms")
        execute(connection, "insert_summaries")
    stored = query_frame(connection, "snapshot_summaries", scope)
    for row in verdict_rows(scope["snapshot_date"], stored, night.losses, analysis):
        execute(connection, "insert_verdict", {**row, "run_id": run_id})


def _with_quantiles(
    summaries: pl.DataFrame, losses: Mapping[GroupKey, SplitLosses]
) -> pl.DataFrame:
    """median_ce, p90_ce and p99_ce of every summary row, from its group's losses."""
    values = []
    for model, split, epoch, n in summaries.select("model", "split", "epoch", "n").iter_rows():
        group = losses[(str(model), str(split), epoch)]
        if group.n != n:  # both read in one transaction (or from one set of files)
            raise RuntimeError(f"{group.n} losses of {model} {split} {epoch}, summary n {n}")
        values.append(group.quantiles(QUANTILES))
    return summaries.with_columns(
        pl.Series(name, [row[index] for row in values], dtype=pl.Float64)
        for index, name in enumerate(QUANTILE_COLUMNS)
    )


def clear_aggregates(
    connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date, models: list[str] | None
) -> dict[str, Any]:
    """Drop a snapshot's histograms, summaries and verdicts (of some models); returns the
    scope the queries of its new ones bind."""
    scope = {"snapshot_date": snapshot_date, "models": models or []}
    night = {"snapshot_date": snapshot_date}
    # The night's committed histogram file comes back into histogram_rows and is retired;
    # the warehouse writes its new file before the commit (warehouse/histogram_files.py).
    for statement in ("clear_histograms", "retire_histogram_file", "forget_histogram_file"):
        execute(connection, statement, night)
    for statement in ("delete_histograms", "clear_summaries", "clear_verdicts"):
        execute(connection, statement, scope)
    return scope


def _group_losses(
    connection: duckdb.DuckDBPyConnection, scope: dict[str, Any], summaries: pl.DataFrame
) -> dict[GroupKey, SortedLosses]:
    """Every summary group's losses, sorted, in one array each and no other copy.

    One unordered pass (group_losses.sql) streamed into arrays preallocated from the
    summaries' n, then sorted in place: fetchnumpy(), np.sort() and DuckDB's
    quantile_cont each held a second copy (bench/README.md).
    """
    sizes = summaries["n"].to_list()
    arrays = [np.empty(size) for size in sizes]
    filled = np.zeros(len(sizes), dtype=np.int64)
    groups_frame = summaries.select("model", "split", "epoch").with_row_index("group_index")
    with registered(connection, summary_groups=groups_frame):
        # A relation, not execute(): Arrow from a DB-API result copies every row first.
        result = connection.sql(load_sql("group_losses"), params=scope)
        _fill_groups(result.to_arrow_reader(batch_size=1 << 20), arrays, filled)
    if filled.tolist() != sizes:  # summaries and losses are read in one transaction
        raise RuntimeError(f"losses per group {filled.tolist()} differ from the summaries' n")
    for values in arrays:
        # Sorted, so the seeded bootstrap does not depend on the order of the Parquet files.
        values.sort()
    keys = groups_frame.drop("group_index").rows()
    return {
        (str(model), str(split), epoch): SortedLosses(values)
        for (model, split, epoch), values in zip(keys, arrays, strict=True)
    }


def _fill_groups(batches: Any, arrays: list[np.ndarray], filled: np.ndarray) -> None:
    """Copy (group_index, ce) batches into each group's array, after its filled rows."""
    for batch in batches:
        groups = batch.column(0).to_numpy()
        ce = batch.column(1).to_numpy()
        if groups[0] == groups[-1] and (groups == groups[0]).all():  # the usual case
            runs = [(int(groups[0]), ce)]
        else:
            order = np.argsort(groups, kind="stable")
            present, counts = np.unique(groups[order], return_counts=True)
            runs = list(
                zip(present.tolist(), np.split(ce[order], np.cumsum(counts)[:-1]), strict=True)
            )
        for group, values in runs:
            arrays[group][filled[group] : filled[group] + len(values)] = values
            filled[group] += len(values)


def register_bin_scheme(connection: duckdb.DuckDBPyConnection, scheme: BinScheme) -> None:
    """The bin scheme's rows in bin_schemes (replaced whole): the edges the stored
    histograms' scheme_id names."""
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
