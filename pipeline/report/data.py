"""What the report pages show, read from the warehouse (aggregated in DuckDB, never per-sample
rows except the top-N table)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from pipeline.options import ReportOptions
from pipeline.queries import execute, query_frame

TOP_LOSSES = 25
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(name: str) -> str:
    """A model name as a single, harmless path segment (no separators, no traversal)."""
    cleaned = _UNSAFE.sub("_", name).strip(".") or "_"
    return cleaned[:120]


def page_name(model: str) -> str:
    """A file name for a model's page: safe, and distinct even when cleaning changed it."""
    cleaned = safe_name(model)
    if cleaned != model:
        cleaned += "-" + hashlib.sha256(model.encode()).hexdigest()[:8]
    return cleaned + ".html"


@dataclass(frozen=True)
class ModelReport:
    """Everything one model's page shows for one night."""

    snapshot_date: dt.date
    model: str
    epoch: int | None
    verdicts: list[dict[str, Any]]
    statistics: pl.DataFrame
    histograms: pl.DataFrame
    markers: dict[str, float]
    per_class: pl.DataFrame
    top_losses: pl.DataFrame
    nights: pl.DataFrame
    epochs: pl.DataFrame
    best_epoch: int | None
    calibration: pl.DataFrame
    ece: dict[str, float]
    lineage: dict[str, Any]  # the run that committed the night and its loss settings

    @property
    def file_name(self) -> str:
        return page_name(self.model)


@dataclass(frozen=True)
class NightReport:
    snapshot_date: dt.date
    models: list[str]
    verdicts: list[dict[str, Any]]
    histograms: pl.DataFrame


def night_models(connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date) -> list[str]:
    frame = query_frame(connection, "report_models", {"snapshot_date": snapshot_date})
    return [str(model) for model in frame["model"]]


def model_report(
    connection: duckdb.DuckDBPyConnection,
    snapshot_date: dt.date,
    model: str,
    options: ReportOptions,
) -> ModelReport:
    """Read one model's page data for one night."""
    scope = {"snapshot_date": snapshot_date, "model": model}
    verdicts = query_frame(
        connection, "report_verdicts", {"snapshot_date": snapshot_date, "models": [model]}
    ).to_dicts()
    history = query_frame(connection, "report_model_summaries", scope)
    tonight = history.filter(pl.col("snapshot_date") == snapshot_date)
    judged = execute(connection, "report_judged_epoch", scope)
    epoch = judged[0][0] if judged else None
    at_epoch = {**scope, "epoch": epoch}
    statistics = tonight.filter(_epoch_is(epoch))
    reference = statistics.filter(pl.col("split") == options.reference_split)
    lineage = night_lineage(connection, snapshot_date)
    # The clip cap of the eps the night's losses were computed with, not today's setting.
    eps = float(lineage.get("loss_settings", {}).get("eps", options.eps))
    markers = {"clip cap -log(eps)": -math.log(eps)}
    ln_c = statistics["ln_c"].drop_nulls()
    if ln_c.len():
        markers["ln C"] = float(ln_c[0])
    if reference.height and reference["label_entropy"][0] is not None:
        markers["H (train labels)"] = float(reference["label_entropy"][0])
    heldout = [split for split in statistics["split"].to_list() if split != options.reference_split]
    epochs = tonight.filter(pl.col("epoch").is_not_null())
    best = next((v["best_epoch"] for v in verdicts if v.get("best_epoch") is not None), None)
    return ModelReport(
        snapshot_date=snapshot_date,
        model=model,
        lineage=lineage,
        epoch=epoch,
        verdicts=verdicts,
        statistics=statistics,
        histograms=query_frame(connection, "report_histograms", at_epoch),
        markers=markers,
        per_class=query_frame(connection, "report_per_class", at_epoch),
        top_losses=query_frame(
            connection,
            "report_top_losses",
            {**at_epoch, "splits": heldout or statistics["split"].to_list(), "limit": TOP_LOSSES},
        ),
        nights=query_frame(connection, "report_model_nights", scope),
        epochs=epochs,
        best_epoch=best,
        calibration=query_frame(
            connection, "report_calibration", {**at_epoch, "bins": options.ece_bins}
        ),
        ece={
            row["split"]: row["ece"]
            for row in statistics.iter_rows(named=True)
            if row["ece"] is not None
        },
    )


def night_lineage(connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date) -> dict[str, Any]:
    """What made a night's numbers (empty for a night no run recorded)."""
    rows = query_frame(connection, "report_lineage", {"snapshot_date": snapshot_date}).to_dicts()
    if not rows:
        return {}
    lineage = rows[0]
    lineage["loss_settings"] = json.loads(lineage["loss_settings"])
    return lineage


def night_report(connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date) -> NightReport:
    verdicts = query_frame(
        connection, "report_verdicts", {"snapshot_date": snapshot_date, "models": []}
    ).to_dicts()
    return NightReport(
        snapshot_date=snapshot_date,
        models=night_models(connection, snapshot_date),
        verdicts=verdicts,
        histograms=query_frame(
            connection, "report_night_histograms", {"snapshot_date": snapshot_date}
        ),
    )


def nights(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return query_frame(connection, "report_nights").to_dicts()


def _epoch_is(epoch: int | None) -> pl.Expr:
    return pl.col("epoch").is_null() if epoch is None else pl.col("epoch") == epoch
