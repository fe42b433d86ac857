"""The verdicts of one snapshot: for each model and held-out split, gather the evidence
(summaries, split statistics, bootstrap CI) and apply the rules of verdicts.py."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, Self

import numpy as np
import polars as pl

from pipeline.analysis.sketches import fine_bins
from pipeline.analysis.verdicts import (
    CONFIDENTLY_WRONG_P,
    INSUFFICIENT,
    MISSING,
    Evidence,
    Verdict,
    best_epoch,
    decide,
    judged_epoch,
)
from pipeline.base.options import AnalysisOptions

# A summary group: (model, split, epoch), as in the summaries table.
GroupKey = tuple[str, str, int | None]


class SplitLosses(Protocol):
    """One summary group's losses as the evidence reads them, whichever engine made them:
    all of them sorted (statistics.SortedLosses, embedded) or a fine sketch
    (sketches.Sketch, Spark, with the worst-case errors it states). Two splits compared
    are of one kind: an engine makes every split of a night."""

    @property
    def n(self) -> int: ...

    def quantiles(self, wanted: Sequence[float]) -> list[float]: ...

    def distances(self, others: Self) -> dict[str, float]:
        """At least DISTANCES, this split being the members (the reference)."""
        ...

    def bootstrap_gap_ci(
        self, heldout: Self, *, resamples: int, max_samples: int, seed: int
    ) -> tuple[float, float]: ...

    def count_from_bin(self, first: int) -> int: ...


DISTANCES = ("ks", "wasserstein", "mia_auc", "tpr_at_1pct_fpr")
# Losses from the fine bin holding -ln(CONFIDENTLY_WRONG_P) up are confidently wrong:
# counted on the fine bins by both engines, so both count the same samples.
CONFIDENTLY_WRONG_BIN = int(fine_bins(np.array([-math.log(CONFIDENTLY_WRONG_P)]))[0])
# The verdict columns a comparison without a reference split leaves empty.
COMPARISON_COLUMNS = (
    "n_reference", "mean_reference", "gap", "normalised_gap", "gap_ci_low", "gap_ci_high",
    "ks", "wasserstein", "mia_auc", "tpr_at_1pct_fpr", "label_entropy", "best_epoch",
    "error_gap", "clipped_share",
)  # fmt: skip


def verdict_rows(
    snapshot_date: dt.date,
    summaries: pl.DataFrame,
    losses: Mapping[GroupKey, SplitLosses],
    analysis: AnalysisOptions,
) -> list[dict[str, Any]]:
    """One verdict per (model, held-out split) present in the snapshot."""
    reference = analysis.reference_split
    rows = []
    for (model,), per_model in summaries.group_by("model", maintain_order=True):
        reference_rows = per_model.filter(pl.col("split") == reference)
        for heldout in analysis.heldout_splits:
            heldout_rows = per_model.filter(pl.col("split") == heldout)
            if heldout_rows.is_empty():
                continue
            base = {
                "snapshot_date": snapshot_date,
                "model": str(model),
                "heldout_split": heldout,
                "reference_split": reference,
                "thresholds": analysis.thresholds.to_json(),
            }
            epoch = judged_epoch(reference_rows["epoch"].to_list(), heldout_rows["epoch"].to_list())
            if epoch is MISSING:
                rows.append({**base, **_no_reference(reference, reference_rows, heldout_rows)})
            else:
                comparison = _Comparison(base, epoch, reference_rows, heldout_rows)
                rows.append({**base, **_judge(comparison, losses, analysis)})
    return rows


class _Comparison:
    """One model's reference and held-out summaries at the judged epoch."""

    def __init__(
        self,
        base: dict[str, Any],
        epoch: int | None,
        reference_rows: pl.DataFrame,
        heldout_rows: pl.DataFrame,
    ) -> None:
        self.epoch = epoch
        self.reference = _at_epoch(reference_rows, epoch)
        self.heldout = _at_epoch(heldout_rows, epoch)
        self.reference_key: GroupKey = (base["model"], base["reference_split"], epoch)
        self.heldout_key: GroupKey = (base["model"], base["heldout_split"], epoch)
        self.best_epoch = best_epoch(
            heldout_rows["epoch"].to_list(), heldout_rows["mean_ce"].to_list()
        )
        self.has_epochs = heldout_rows["epoch"].drop_nulls().n_unique() > 1


def _judge(
    comparison: _Comparison, losses: Mapping[GroupKey, SplitLosses], analysis: AnalysisOptions
) -> dict[str, Any]:
    reference_losses = losses[comparison.reference_key]
    heldout_losses = losses[comparison.heldout_key]
    bootstrap = {
        "resamples": analysis.bootstrap_resamples,
        "max_samples": analysis.bootstrap_max_samples,
        "seed": analysis.seed,
    }
    measured = reference_losses.distances(heldout_losses)
    distances = {name: measured[name] for name in DISTANCES}
    low, high = reference_losses.bootstrap_gap_ci(heldout_losses, **bootstrap)
    wrong = heldout_losses.count_from_bin(CONFIDENTLY_WRONG_BIN)
    reference, heldout = comparison.reference, comparison.heldout
    evidence = Evidence(
        n_reference=int(reference["n"]),
        n_heldout=int(heldout["n"]),
        mean_reference=float(reference["mean_ce"]),
        mean_heldout=float(heldout["mean_ce"]),
        gap_ci_low=low,
        gap_ci_high=high,
        label_entropy=float(reference["label_entropy"] or 0.0),
        epoch=comparison.epoch,
        best_epoch=comparison.best_epoch,
        has_epochs=comparison.has_epochs,
        ece_heldout=heldout["ece"],
        confidently_wrong=wrong,
        accuracy_reference=reference["accuracy"],
        accuracy_heldout=heldout["accuracy"],
        clipped_reference=int(reference["clipped"] or 0),
        clipped_heldout=int(heldout["clipped"] or 0),
        max_heldout=heldout["max_ce"],
    )
    return {
        **_verdict_columns(decide(evidence, analysis.thresholds)),
        "epoch": comparison.epoch,
        "n_reference": evidence.n_reference,
        "n_heldout": evidence.n_heldout,
        "mean_reference": evidence.mean_reference,
        "mean_heldout": evidence.mean_heldout,
        "gap": evidence.gap,
        "normalised_gap": evidence.normalised_gap,
        "gap_ci_low": low,
        "gap_ci_high": high,
        **distances,
        "label_entropy": evidence.label_entropy,
        "ln_c": reference["ln_c"],
        "best_epoch": evidence.best_epoch,
        "error_gap": evidence.error_gap,
        "clipped_share": evidence.clipped_share,
    }


def _no_reference(
    reference: str, reference_rows: pl.DataFrame, heldout_rows: pl.DataFrame
) -> dict[str, Any]:
    latest = heldout_rows.sort("epoch", nulls_last=False).row(-1, named=True)
    heldout = str(latest["split"])
    if reference_rows.is_empty():
        verdict = Verdict(
            INSUFFICIENT,
            f"no '{reference}' split to compare with",
            (f"dump the {reference} split's predictions too",),
        )
    else:  # both dumped, but never at the same epoch (one of them without epochs)
        verdict = Verdict(
            INSUFFICIENT,
            f"'{reference}' is at epochs {_epochs(reference_rows)} and '{heldout}' at "
            f"{_epochs(heldout_rows)}: no epoch in common to compare",
            (f"dump {reference} and {heldout} at the same epochs (or both without one)",),
        )
    return {
        **dict.fromkeys(COMPARISON_COLUMNS),
        **_verdict_columns(verdict),
        "epoch": latest["epoch"],
        "n_heldout": latest["n"],
        "mean_heldout": latest["mean_ce"],
        "ln_c": latest["ln_c"],
    }


def _epochs(rows: pl.DataFrame) -> str:
    epochs = sorted({epoch for epoch in rows["epoch"].to_list() if epoch is not None})
    shown = ", ".join(str(epoch) for epoch in epochs[:6]) + (", ..." if len(epochs) > 6 else "")
    return shown if epochs else "none (no epoch column)"


def _verdict_columns(verdict: Verdict) -> dict[str, Any]:
    return {"verdict": verdict.verdict, "reason": verdict.reason, "hints": list(verdict.hints)}


def _at_epoch(rows: pl.DataFrame, epoch: int | None) -> dict[str, Any]:
    match = rows.filter(pl.col("epoch").is_null() if epoch is None else pl.col("epoch") == epoch)
    return match.row(0, named=True)
