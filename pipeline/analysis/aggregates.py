"""Histograms, summaries and verdicts of one snapshot, from the `losses` view (sql/*.sql)
inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import duckdb
import numpy as np
import polars as pl

from pipeline.analysis.bins import BinScheme
from pipeline.analysis.evidence import GroupKey, verdict_rows
from pipeline.analysis.statistics import sorted_quantiles
from pipeline.base.faults import fault_point
from pipeline.base.options import AnalysisOptions
from pipeline.warehouse.queries import execute, load_sql, query_frame, registered

QUANTILES = (0.5, 0.9, 0.99)  # median_ce, p90_ce, p99_ce


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
    execute(
        connection,
        "histograms",
        {**scope, "scheme_id": scheme.scheme_id, "run_id": run_id, **scheme.guess_parameters()},
    )
    fault_point("during_aggregation")
    execute(connection, "summaries", {**scope, "ece_bins": analysis.ece_bins, "run_id": run_id})
    summaries = query_frame(connection, "snapshot_summaries", scope)
    losses = _group_losses(connection, scope, summaries)
    _set_quantiles(connection, snapshot_date, summaries, losses)
    for row in verdict_rows(snapshot_date, summaries, losses, analysis):
        execute(connection, "insert_verdict", {**row, "run_id": run_id})


def clear_aggregates(
    connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date, models: list[str] | None
) -> dict[str, Any]:
    """Drop a snapshot's histograms, summaries and verdicts (of some models); returns the
    scope the queries of its new ones bind."""
    scope = {"snapshot_date": snapshot_date, "models": models or []}
    for statement in ("clear_histograms", "clear_summaries", "clear_verdicts"):
        execute(connection, statement, scope)
    return scope


def _group_losses(
    connection: duckdb.DuckDBPyConnection, scope: dict[str, Any], summaries: pl.DataFrame
) -> dict[GroupKey, np.ndarray]:
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
        (str(model), str(split), epoch): values
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


def _set_quantiles(
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: dt.date,
    summaries: pl.DataFrame,
    losses: dict[GroupKey, np.ndarray],
) -> None:
    """median_ce, p90_ce and p99_ce of every summary row, from its sorted losses."""
    quantiles = pl.DataFrame(
        [(*key, *sorted_quantiles(values, QUANTILES)) for key, values in losses.items()],
        schema={
            "model": pl.String,
            "split": pl.String,
            "epoch": summaries.schema["epoch"],
            "median_ce": pl.Float64,
            "p90_ce": pl.Float64,
            "p99_ce": pl.Float64,
        },
        orient="row",
    )
    with registered(connection, summary_quantiles=quantiles):
        execute(connection, "set_summary_quantiles", {"snapshot_date": snapshot_date})


def register_bin_scheme(connection: duckdb.DuckDBPyConnection, scheme: BinScheme) -> None:
    """The bin scheme's rows in bin_schemes (replaced whole), for the histograms to join."""
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
