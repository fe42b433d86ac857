"""Sweeps: the models of a night that declare the same hyperparameter names (the view
`sweeps`, sql/schema/012_sweeps.sql). A sweep's page plots the judged held-out loss and
gap / H against each parameter that varies, names the recommended configuration, and
overlays the held-out histograms of the recommended, the most overfit and the most
underfit configurations."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline.report.data import safe_name
from pipeline.warehouse.queries import query_frame

# Values spanning this ratio or more (all positive) go on a log axis.
LOG_SPAN = 100.0


@dataclass(frozen=True)
class Sweep:
    snapshot_date: dt.date
    name: str  # its parameter names, "C, penalty"
    rows: pl.DataFrame  # one per model and parameter (the view sweeps)
    histograms: pl.DataFrame  # the held-out histograms of the configurations shown

    @property
    def file_name(self) -> str:
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:8]
        return f"sweep-{safe_name(self.name.replace(', ', '-'))[:80]}-{digest}.html"

    @property
    def configurations(self) -> pl.DataFrame:
        """One row per model: its parameters as columns, its numbers, best first."""
        wide = self.rows.pivot(on="param", index="model", values="value")
        numbers = self.rows.unique("model").select(
            "model", "heldout_split", "heldout_mean_ce", "gap_over_h", "verdict", "epoch",
            "best_epoch", "recommended",
        )  # fmt: skip
        return wide.join(numbers, on="model").sort("heldout_mean_ce", nulls_last=True)

    @property
    def varying(self) -> list[str]:
        """The parameters with more than one value: the axes worth a chart."""
        counts = self.rows.group_by("param").agg(pl.col("value").n_unique()).sort("param")
        return counts.filter(pl.col("value") > 1)["param"].to_list()

    @property
    def recommended(self) -> dict[str, object] | None:
        chosen = self.configurations.filter(pl.col("recommended"))
        return chosen.row(0, named=True) if chosen.height else None

    def log_axis(self, param: str) -> bool:
        values = self.rows.filter(pl.col("param") == param)["value_number"]
        if values.null_count() or not values.len() or values.min() <= 0:  # type: ignore[operator]
            return False
        return bool(values.max() / values.min() >= LOG_SPAN)  # type: ignore[operator]


def night_sweeps(connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date) -> list[Sweep]:
    """The sweeps of a night (none when no two models declare the same parameters)."""
    rows = query_frame(connection, "report_sweeps", {"snapshot_date": snapshot_date})
    if not rows.height:
        return []
    histograms = query_frame(
        connection, "report_night_histograms", {"snapshot_date": snapshot_date}
    )
    sweeps = []
    for (name,), part in rows.group_by("sweep", maintain_order=True):
        split = part["heldout_split"].drop_nulls().first()
        labels: dict[str, str] = {}
        for role, model in _shown(part).items():
            labels[model] = f"{labels[model]}, {role}" if model in labels else f"{role}: {model}"
        overlaid = histograms.filter(
            pl.col("model").is_in(list(labels)) & (pl.col("split") == split)
        ).with_columns(model=pl.col("model").replace_strict(labels))
        sweeps.append(Sweep(snapshot_date, str(name), part, overlaid))
    return sweeps


def _shown(rows: pl.DataFrame) -> dict[str, str]:
    """The configurations a sweep overlays: role -> model (one model may fill two)."""
    members = rows.unique("model", maintain_order=True)
    roles = {}
    chosen = members.filter(pl.col("recommended"))
    if chosen.height:
        roles["recommended"] = str(chosen["model"][0])
    for role, column in (("most overfit", "gap_over_h"), ("most underfit", "train_share_of_h")):
        ranked = members.drop_nulls(column).sort(column, descending=True)
        if ranked.height:
            roles[role] = str(ranked["model"][0])
    return roles
