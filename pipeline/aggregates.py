"""Histograms, summaries and verdicts of one snapshot, from the `losses` view (sql/*.sql)."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import polars as pl

from pipeline.settings import Settings
from pipeline.statistics import bootstrap_gap_ci, split_distances
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
    for row in verdict_rows(connection, snapshot_date, summaries, settings):
        connection.execute(load_sql("insert_verdict"), row)


def verdict_rows(
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: str,
    summaries: pl.DataFrame,
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
                        connection, base, epoch, reference_rows, heldout_rows, settings, thresholds
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
    connection: duckdb.DuckDBPyConnection,
    base: dict[str, Any],
    epoch: int | None,
    reference_rows: pl.DataFrame,
    heldout_rows: pl.DataFrame,
    settings: Settings,
    thresholds: Thresholds,
) -> dict[str, Any]:
    reference_summary = _at_epoch(reference_rows, epoch)
    heldout_summary = _at_epoch(heldout_rows, epoch)
    params = {
        "snapshot_date": base["snapshot_date"],
        "model": base["model"],
        "epoch": epoch,
        "reference_split": base["reference_split"],
        "heldout_split": base["heldout_split"],
    }
    reference_losses = _split_losses(connection, params, base["reference_split"])
    heldout_losses = _split_losses(connection, params, base["heldout_split"])
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


def _split_losses(connection: duckdb.DuckDBPyConnection, params: dict[str, Any], split: str) -> Any:
    query = {key: params[key] for key in ("snapshot_date", "model", "epoch")}
    losses = connection.execute(load_sql("split_losses"), {**query, "split": split}).fetchnumpy()
    # Sorted, so the seeded bootstrap does not depend on the order of the Parquet files.
    return np.sort(losses["ce"])
