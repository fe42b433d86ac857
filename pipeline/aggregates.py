"""Histograms, summaries and verdicts of one snapshot, from the `losses` view (sql/*.sql)."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl

from pipeline.settings import Settings
from pipeline.statistics import bootstrap_gap_ci, sorted_quantiles, split_distances
from pipeline.verdicts import INSUFFICIENT, Evidence, Thresholds, Verdict, decide
from pipeline.warehouse import BinScheme, load_sql, query_frame


def aggregate_snapshot(
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: str,
    settings: Settings,
    scheme: BinScheme,
    models: list[str] | None = None,
) -> None:
    """Replace one snapshot's histograms, summaries and verdicts (inside the caller's
    transaction)."""
    scope = {"snapshot_date": snapshot_date, "models": models or []}
    for statement in ("clear_histograms", "clear_summaries", "clear_verdicts"):
        connection.execute(load_sql(statement), scope)
    connection.execute(
        "INSERT INTO histograms " + load_sql("histograms"),
        {**scope, "scheme_id": scheme.scheme_id, **scheme.guess_parameters()},
    )
    connection.execute(
        "INSERT INTO summaries " + load_sql("summaries"), {**scope, "ece_bins": settings.ece_bins}
    )
    summaries = query_frame(connection, "snapshot_summaries", scope)
    losses = _group_losses(connection, scope, summaries)
    _set_quantiles(connection, snapshot_date, summaries, losses)
    for row in verdict_rows(snapshot_date, summaries, losses, settings):
        connection.execute(load_sql("insert_verdict"), row)


# A summary group: (model, split, epoch), as in the summaries table.
GroupKey = tuple[str, str, int | None]
QUANTILES = (0.5, 0.9, 0.99)  # median_ce, p90_ce, p99_ce


def _group_losses(
    connection: duckdb.DuckDBPyConnection, scope: dict[str, Any], summaries: pl.DataFrame
) -> dict[GroupKey, np.ndarray]:
    """Every summary group's losses, sorted, in one array each and no other copy.

    One unordered pass (group_losses.sql) streamed into arrays preallocated from the
    summaries' n, then sorted in place: fetchnumpy(), np.sort() and DuckDB's
    quantile_cont each held a second copy (0.35-0.7 GB more at 44M rows).
    """
    sizes = summaries["n"].to_list()
    arrays = [np.empty(size) for size in sizes]
    filled = np.zeros(len(sizes), dtype=np.int64)
    groups_frame = summaries.select("model", "split", "epoch").with_row_index("group_index")
    connection.register("summary_groups", groups_frame)
    try:
        # A relation, not execute(): Arrow from a DB-API result copies every row first.
        result = connection.sql(load_sql("group_losses"), params=scope)
        batches = result.to_arrow_reader(batch_size=1 << 20)
        _fill_groups(batches, arrays, filled)
    finally:
        connection.unregister("summary_groups")
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
    snapshot_date: str,
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
    connection.register("summary_quantiles", quantiles)
    try:
        connection.execute(load_sql("set_summary_quantiles"), {"snapshot_date": snapshot_date})
    finally:
        connection.unregister("summary_quantiles")


def verdict_rows(
    snapshot_date: str,
    summaries: pl.DataFrame,
    losses: dict[GroupKey, np.ndarray],
    settings: Settings,
) -> list[dict[str, Any]]:
    """One verdict per (model, held-out split) present in the snapshot."""
    thresholds = Thresholds.from_settings(settings)
    reference = settings.reference_split
    rows = []
    for (model,), per_model in summaries.group_by("model", maintain_order=True):
        for heldout in settings.heldout_splits:
            heldout_rows = per_model.filter(pl.col("split") == heldout)
            if heldout_rows.is_empty():
                continue
            reference_rows = per_model.filter(pl.col("split") == reference)
            epoch = _judged_epoch(reference_rows, heldout_rows)
            base = {
                "snapshot_date": snapshot_date,
                "model": str(model),
                "heldout_split": heldout,
                "reference_split": reference,
                "thresholds": thresholds.to_json(),
            }
            if epoch is _MISSING:
                rows.append({**base, **_no_reference(reference, heldout_rows)})
                continue
            rows.append(
                {
                    **base,
                    **_judge(
                        losses, base, epoch, reference_rows, heldout_rows, settings, thresholds
                    ),
                }
            )
    return rows


_MISSING = object()


def _judged_epoch(reference_rows: pl.DataFrame, heldout_rows: pl.DataFrame) -> Any:
    """The latest epoch both splits have (None when the dumps have no epochs)."""
    common = set(reference_rows["epoch"].to_list()) & set(heldout_rows["epoch"].to_list())
    if not common:
        return _MISSING
    numbered = [epoch for epoch in common if epoch is not None]
    return max(numbered) if numbered else None


def _best_epoch(heldout_rows: pl.DataFrame) -> int | None:
    numbered = heldout_rows.filter(pl.col("epoch").is_not_null())
    if numbered.is_empty():
        return None
    return int(numbered.sort("mean_ce", "epoch")["epoch"][0])


def _judge(
    losses: dict[GroupKey, np.ndarray],
    base: dict[str, Any],
    epoch: int | None,
    reference_rows: pl.DataFrame,
    heldout_rows: pl.DataFrame,
    settings: Settings,
    thresholds: Thresholds,
) -> dict[str, Any]:
    reference_summary = _at_epoch(reference_rows, epoch)
    heldout_summary = _at_epoch(heldout_rows, epoch)
    reference_losses = losses[(base["model"], base["reference_split"], epoch)]
    heldout_losses = losses[(base["model"], base["heldout_split"], epoch)]
    comparison = split_distances(reference_losses, heldout_losses)
    low, high = bootstrap_gap_ci(
        reference_losses,
        heldout_losses,
        resamples=settings.bootstrap_resamples,
        max_samples=settings.bootstrap_max_samples,
        seed=settings.seed,
    )
    evidence = Evidence(
        n_reference=int(reference_summary["n"]),
        n_heldout=int(heldout_summary["n"]),
        mean_reference=float(reference_summary["mean_ce"]),
        mean_heldout=float(heldout_summary["mean_ce"]),
        gap_ci_low=low,
        gap_ci_high=high,
        prior_entropy=float(reference_summary["label_entropy"] or 0.0),
        epoch=epoch,
        best_epoch=_best_epoch(heldout_rows),
    )
    verdict = decide(evidence, thresholds)
    return {
        **_verdict_columns(verdict),
        "epoch": epoch,
        "n_reference": evidence.n_reference,
        "n_heldout": evidence.n_heldout,
        "mean_reference": evidence.mean_reference,
        "mean_heldout": evidence.mean_heldout,
        "gap": evidence.gap,
        "normalised_gap": evidence.normalised_gap,
        "gap_ci_low": low,
        "gap_ci_high": high,
        "ks": comparison["ks"],
        "wasserstein": comparison["wasserstein"],
        "mia_auc": comparison["mia_auc"],
        "tpr_at_1pct_fpr": comparison["tpr_at_1pct_fpr"],
        "prior_entropy": evidence.prior_entropy,
        "ln_c": reference_summary["ln_c"],
        "best_epoch": evidence.best_epoch,
    }


def _no_reference(reference: str, heldout_rows: pl.DataFrame) -> dict[str, Any]:
    latest = heldout_rows.sort("epoch", nulls_last=False).row(-1, named=True)
    verdict = Verdict(
        INSUFFICIENT,
        f"no '{reference}' split to compare with (at a common epoch)",
        (f"dump the {reference} split's predictions too",),
    )
    empty = dict.fromkeys(
        (
            "n_reference",
            "mean_reference",
            "gap",
            "normalised_gap",
            "gap_ci_low",
            "gap_ci_high",
            "ks",
            "wasserstein",
            "mia_auc",
            "tpr_at_1pct_fpr",
            "prior_entropy",
            "best_epoch",
        )
    )
    return {
        **empty,
        **_verdict_columns(verdict),
        "epoch": latest["epoch"],
        "n_heldout": latest["n"],
        "mean_heldout": latest["mean_ce"],
        "ln_c": latest["ln_c"],
    }


def _verdict_columns(verdict: Verdict) -> dict[str, Any]:
    return {"verdict": verdict.verdict, "reason": verdict.reason, "hints": list(verdict.hints)}


def _at_epoch(rows: pl.DataFrame, epoch: int | None) -> dict[str, Any]:
    match = rows.filter(pl.col("epoch").is_null() if epoch is None else pl.col("epoch") == epoch)
    return match.row(0, named=True)
