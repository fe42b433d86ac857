"""A comparison of some models of one night (`lossgram report --compare A,B[,C]`): their
held-out loss histograms on the same bins, their statistics, KS and W1 between each
pair, and, where two models share samples, the paired view: how each shared sample's
loss moved from the first model to the other (sql/paired_*.sql)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from pipeline.analysis.statistics import split_distances
from pipeline.report.data import safe_name
from pipeline.warehouse.queries import ddl, execute, query_frame

MOST_WORSE = 25
# Two losses closer than this count as the same (float noise of one computation).
SAME_LOSS = 1e-9
DIFFERENCE_BINS = 40  # each way from 0


@dataclass(frozen=True)
class Paired:
    """Model A against model B on the samples they share."""

    model_a: str
    model_b: str
    summary: dict[str, Any]  # shared, better, worse, same, mean_difference
    width: float  # of the difference histogram's bins
    histogram: pl.DataFrame  # bin, count, fraction, lower, upper
    most_worse: pl.DataFrame


@dataclass(frozen=True)
class Comparison:
    snapshot_date: dt.date
    split: str
    models: list[str]
    histograms: pl.DataFrame  # model, bin, lower, upper, fraction (held-out split)
    statistics: pl.DataFrame  # model, n, mean_ce, median_ce, p90_ce, normalised_gap, verdict
    distances: list[dict[str, Any]]  # model_a, model_b, ks, wasserstein
    paired: list[Paired]

    @property
    def file_name(self) -> str:
        return comparison_page_name(self.models)


def comparison_page_name(models: list[str]) -> str:
    """compare-<a>-<b>.html: safe, and distinct for distinct model lists."""
    digest = hashlib.sha256("\0".join(models).encode()).hexdigest()[:8]
    joined = "-".join(safe_name(model)[:40] for model in models)
    # A file name holds 255 bytes: many or long (or non-ASCII) names are cut, the hash
    # keeps the page distinct.
    joined = joined.encode()[:160].decode(errors="ignore")
    return f"compare-{joined}-{digest}.html"


def comparison(
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: dt.date,
    models: list[str],
    heldout_splits: tuple[str, ...],
) -> Comparison:
    """Read the comparison of `models` (the first is the baseline of the paired view) on
    the night's first held-out split they have."""
    scope = {"snapshot_date": snapshot_date, "models": models}
    histograms = query_frame(
        connection, "report_night_histograms", {"snapshot_date": snapshot_date}
    )
    present = set(histograms["split"].to_list())
    split = next((name for name in heldout_splits if name in present), heldout_splits[0])
    histograms = histograms.filter(pl.col("model").is_in(models) & (pl.col("split") == split))
    losses = query_frame(connection, "compare_heldout", {**scope, "split": split})
    arrays = {
        str(model): group["ce"].to_numpy()
        for (model,), group in losses.group_by("model", maintain_order=True)
    }
    distances = []
    for a, b in itertools.combinations(models, 2):
        if len(arrays.get(a, ())) and len(arrays.get(b, ())):
            found = split_distances(arrays[a], arrays[b])
            distances.append(
                {"model_a": a, "model_b": b, "ks": found["ks"], "wasserstein": found["wasserstein"]}
            )
    paired = [
        view
        for other in models[1:]
        if (view := paired_view(connection, snapshot_date, models[0], other, split)) is not None
    ]
    return Comparison(
        snapshot_date=snapshot_date,
        split=split,
        models=models,
        histograms=histograms,
        statistics=_in_order(
            query_frame(connection, "compare_summaries", {**scope, "split": split}), models
        ),
        distances=distances,
        paired=paired,
    )


def _in_order(frame: pl.DataFrame, models: list[str]) -> pl.DataFrame:
    """Rows in the order the user named the models."""
    place = {model: index for index, model in enumerate(models)}
    return frame.sort(pl.col("model").replace_strict(place, return_dtype=pl.Int64))


def paired_view(
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: dt.date,
    model_a: str,
    model_b: str,
    split: str,
) -> Paired | None:
    """A against B on their shared samples, or None when they share none."""
    connection.execute(
        ddl(
            "paired_losses_view",
            snapshot_date=snapshot_date.isoformat(),
            model_a=model_a,
            model_b=model_b,
            split=split,
        )
    )
    summary = query_frame(connection, "paired_summary", {"tolerance": SAME_LOSS}).row(0, named=True)
    if not summary["shared"]:
        return None
    largest = execute(connection, "paired_largest_move")[0][0] or 1.0
    width = float(largest) / DIFFERENCE_BINS or 1.0
    histogram = query_frame(
        connection, "paired_histogram", {"width": width, "limit": DIFFERENCE_BINS}
    ).with_columns(
        lower=(pl.col("bin") - 0.5) * width,
        upper=(pl.col("bin") + 0.5) * width,
    )
    return Paired(
        model_a=model_a,
        model_b=model_b,
        summary=summary,
        width=width,
        histogram=histogram,
        most_worse=query_frame(connection, "paired_most_worse", {"limit": MOST_WORSE}),
    )
