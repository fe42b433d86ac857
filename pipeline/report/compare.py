"""A comparison of some (night, model) entries (`lossgram report --compare A,B@DATE`): one
night's models side by side, or a model against its own earlier night. Their held-out
loss histograms on the same bins, their statistics, KS and W1 between each pair, and,
where two entries share samples, the paired view: how each shared sample's loss moved
from the first entry to the other (sql/paired_*.sql)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from pipeline.analysis.statistics import split_distances
from pipeline.report.data import safe_name
from pipeline.warehouse.queries import ddl, execute, query_frame

MOST_WORSE = 25
DIFFERENCE_BINS = 40  # each way from 0


@dataclass(frozen=True)
class Entry:
    """One side of a comparison: a model on a night."""

    model: str
    snapshot_date: dt.date

    def label(self, *, dated: bool) -> str:
        """How pages name it: model@date when the entries span nights."""
        return f"{self.model}@{self.snapshot_date}" if dated else self.model


def parse_entries(items: Sequence[str], night: dt.date) -> list[Entry]:
    """`--compare` items: MODEL (of `night`) or MODEL@YYYY-MM-DD. A name holding an @
    stays whole unless what follows its last @ is a date."""
    entries = []
    for item in items:
        model, at, when = item.strip().rpartition("@")
        try:
            day = dt.date.fromisoformat(when) if at else None
        except ValueError:
            day = None
        entries.append(Entry(model, day) if day else Entry(item.strip(), night))
    return entries


@dataclass(frozen=True)
class Paired:
    """Model A against model B on the samples they share."""

    model_a: str
    model_b: str
    summary: dict[str, Any]  # shared, better, worse, same (the centre bin), mean_difference
    width: float  # of the difference histogram's bins: "the same" is within width / 2
    histogram: pl.DataFrame  # bin, count, fraction, lower, upper
    most_worse: pl.DataFrame


@dataclass(frozen=True)
class Comparison:
    snapshot_date: dt.date  # the latest entry's night: its folder holds the page
    split: str
    models: list[str]  # the entries' labels, as named
    histograms: pl.DataFrame  # model (label), bin, lower, upper, fraction (held-out split)
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
    entries: list[Entry],
    heldout_splits: tuple[str, ...],
) -> Comparison:
    """Read the comparison of the entries (the first is the baseline of the paired view)
    on the first held-out split they have."""
    dated = len({entry.snapshot_date for entry in entries}) > 1
    labels = {(e.snapshot_date, e.model): e.label(dated=dated) for e in entries}
    nights = [
        query_frame(connection, "report_night_histograms", {"snapshot_date": day})
        .filter(pl.col("model").is_in([e.model for e in entries if e.snapshot_date == day]))
        .with_columns(
            model=pl.col("model").replace_strict(
                {e.model: e.label(dated=dated) for e in entries if e.snapshot_date == day}
            )
        )
        for day in dict.fromkeys(entry.snapshot_date for entry in entries)
    ]
    histograms = pl.concat(nights, how="diagonal_relaxed")
    present = set(histograms["split"].to_list())
    split = next((name for name in heldout_splits if name in present), heldout_splits[0])
    histograms = histograms.filter(pl.col("split") == split)
    binds = {
        "dates": [e.snapshot_date for e in entries],
        "models": [e.model for e in entries],
        "split": split,
    }
    losses = query_frame(connection, "compare_heldout", binds)
    arrays = {
        labels[(day, str(model))]: group["ce"].to_numpy()
        for (day, model), group in losses.group_by("snapshot_date", "model", maintain_order=True)
    }
    names = [entry.label(dated=dated) for entry in entries]
    distances = []
    for a, b in itertools.combinations(names, 2):
        if len(arrays.get(a, ())) and len(arrays.get(b, ())):
            found = split_distances(arrays[a], arrays[b])
            distances.append(
                {"model_a": a, "model_b": b, "ks": found["ks"], "wasserstein": found["wasserstein"]}
            )
    paired = [
        view
        for other in entries[1:]
        if (view := paired_view(connection, entries[0], other, split, dated)) is not None
    ]
    named = pl.DataFrame(
        [(day, model, label) for (day, model), label in labels.items()],
        schema={"snapshot_date": pl.Date, "model": pl.String, "label": pl.String},
        orient="row",
    )
    statistics = (
        query_frame(connection, "compare_summaries", binds)
        .join(named, on=["snapshot_date", "model"])
        .drop("model")
        .rename({"label": "model"})
    )
    return Comparison(
        snapshot_date=max(entry.snapshot_date for entry in entries),
        split=split,
        models=names,
        histograms=histograms,
        statistics=_in_order(statistics.drop("snapshot_date"), names),
        distances=distances,
        paired=paired,
    )


def _in_order(frame: pl.DataFrame, models: list[str]) -> pl.DataFrame:
    """Rows in the order the user named the models."""
    place = {model: index for index, model in enumerate(models)}
    return frame.sort(pl.col("model").replace_strict(place, return_dtype=pl.Int64))


def paired_view(
    connection: duckdb.DuckDBPyConnection, a: Entry, b: Entry, split: str, dated: bool
) -> Paired | None:
    """A against B on their shared samples, or None when they share none."""
    connection.execute(
        ddl(
            "paired_losses_view",
            date_a=a.snapshot_date.isoformat(),
            model_a=a.model,
            date_b=b.snapshot_date.isoformat(),
            model_b=b.model,
            split=split,
        )
    )
    largest = execute(connection, "paired_largest_move")[0][0]
    width = float(largest or 1.0) / DIFFERENCE_BINS or 1.0
    summary = query_frame(connection, "paired_summary", {"width": width}).row(0, named=True)
    if not summary["shared"]:
        return None
    histogram = query_frame(
        connection, "paired_histogram", {"width": width, "limit": DIFFERENCE_BINS}
    ).with_columns(
        lower=(pl.col("bin") - 0.5) * width,
        upper=(pl.col("bin") + 0.5) * width,
    )
    return Paired(
        model_a=a.label(dated=dated),
        model_b=b.label(dated=dated),
        summary=summary,
        width=width,
        histogram=histogram,
        most_worse=query_frame(connection, "paired_most_worse", {"limit": MOST_WORSE}),
    )
