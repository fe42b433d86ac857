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

from pipeline.analysis.changes import Change, night_changes
from pipeline.base.options import ReportOptions
from pipeline.report.cartography import Cartography, cartography
from pipeline.warehouse.queries import execute, query_frame

TOP_LOSSES = 25
SLICE_VALUES = 20  # a slice column with more values on a night is not tabulated
VERDICTS_SCHEMA_VERSION = 2  # 2: the verdict possible_overfit
VERDICT_FIELDS = (
    "model", "heldout_split", "reference_split", "epoch", "verdict", "reason", "hints",
    "n_reference", "n_heldout", "mean_reference", "mean_heldout", "gap", "normalised_gap",
    "gap_ci_low", "gap_ci_high", "ks", "wasserstein", "mia_auc", "tpr_at_1pct_fpr",
    "label_entropy", "ln_c", "best_epoch", "error_gap", "clipped_share",
)  # fmt: skip
# The linear-x histogram: about this many bars from 0 to the largest loss, drawn up to
# LINEAR_X_MAX nats; larger losses share one last, open bar.
LINEAR_BARS = 40
LINEAR_X_MAX = 30.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(name: str) -> str:
    """A model name as a single, harmless path segment (no separators, no traversal)."""
    cleaned = _UNSAFE.sub("_", name).strip(".") or "_"
    return cleaned[:120]


# The names a night's folder gives its own files: a model's page never takes one.
NIGHT_FILES, COMPARISON_PREFIX = ("index", "verdicts"), "compare-"


def page_name(model: str) -> str:
    """A file name for a model's page: safe, distinct even when cleaning changed it, and
    never the night page's, verdicts.json's or a comparison's (compare-*.html)."""
    cleaned = safe_name(model)
    reserved = cleaned.lower() in NIGHT_FILES or cleaned.lower().startswith(COMPARISON_PREFIX)
    if reserved:
        cleaned = f"model-{cleaned}"
    if reserved or cleaned != model or len(cleaned.encode()) > 120:
        # Cut to fit a file name (255 bytes), the hash keeps it distinct.
        cleaned = cleaned.encode()[:120].decode(errors="ignore")
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
    linear_histograms: pl.DataFrame  # equal-width bins counted from the losses
    markers: dict[str, float]
    per_class: pl.DataFrame
    slices: pl.DataFrame  # per value of each few-valued slice column, worst gap first
    cartography: Cartography | None  # with 3+ epochs of the training split
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
    changes: list[Change]  # against each model's previous night, regressions first
    run_id: str | None  # the run that last committed the night

    def verdicts_document(self) -> dict[str, Any]:
        """reports/<date>/verdicts.json (schema: docs/verdicts.schema.json)."""
        return {
            "schema_version": VERDICTS_SCHEMA_VERSION,
            "snapshot_date": self.snapshot_date.isoformat(),
            "run_id": self.run_id,
            "verdicts": [
                {name: verdict[name] for name in VERDICT_FIELDS} for verdict in self.verdicts
            ],
            "changes": [change.as_json() for change in self.changes],
        }


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
    markers = _baselines(lineage, statistics, reference, options.eps)
    heldout = [split for split in statistics["split"].to_list() if split != options.reference_split]
    epochs = tonight.filter(pl.col("epoch").is_not_null())
    reference_epochs = epochs.filter(pl.col("split") == options.reference_split)
    epochs_trained = reference_epochs["epoch"].n_unique()
    best = next((v["best_epoch"] for v in verdicts if v.get("best_epoch") is not None), None)
    largest = statistics["max_ce"].drop_nulls().to_list()
    groups = model_groups(connection, at_epoch, linear_bins(largest), options.ece_bins)
    return ModelReport(
        snapshot_date=snapshot_date,
        model=model,
        lineage=lineage,
        epoch=epoch,
        verdicts=verdicts,
        statistics=statistics,
        histograms=query_frame(connection, "report_histograms", at_epoch),
        linear_histograms=groups.linear,
        markers=markers,
        per_class=groups.per_class,
        slices=slice_table(connection, at_epoch, options.reference_split),
        cartography=cartography(
            connection, snapshot_date, model, options.reference_split, epochs_trained
        ),
        top_losses=query_frame(
            connection,
            "report_top_losses",
            {**at_epoch, "splits": heldout or statistics["split"].to_list(), "limit": TOP_LOSSES},
        ),
        nights=query_frame(connection, "report_model_nights", scope),
        epochs=epochs,
        best_epoch=best,
        calibration=groups.calibration,
        ece=dict(statistics.filter(pl.col("ece").is_not_null()).select("split", "ece").iter_rows()),
    )


@dataclass(frozen=True)
class ModelGroups:
    """What a model's page counts from its night's losses, read once."""

    linear: pl.DataFrame  # split, bin, lower, upper, count, fraction
    per_class: pl.DataFrame  # label, class, split, n, mean_ce, accuracy
    calibration: pl.DataFrame  # split, confidence_bin, n, mean_confidence, accuracy


def model_groups(
    connection: duckdb.DuckDBPyConnection,
    at_epoch: dict[str, Any],
    bins: dict[str, Any],
    confidence_bins: int,
) -> ModelGroups:
    """The linear histogram, the per-class table and the reliability diagram of a model's
    night at one epoch, from one read of its losses (sql/report_model_groups.sql: three
    reads took 1.5x as long on 11M rows, bench/HISTORY.md)."""
    rows = query_frame(
        connection, "report_model_groups", {**at_epoch, **bins, "bins": confidence_bins}
    )

    def kind(name: str) -> pl.DataFrame:
        return rows.filter(pl.col("kind") == name)

    return ModelGroups(
        linear=kind("linear")
        .select("split", "bin", "lower", "upper", pl.col("n").alias("count"), "fraction")
        .sort("split", "bin"),
        per_class=kind("class")
        .select("label", "class", "split", "n", "mean_ce", "accuracy")
        .sort("label", "split"),
        calibration=kind("calibration")
        .select("split", "confidence_bin", "n", "mean_confidence", "accuracy")
        .sort("split", "confidence_bin"),
    )


def _baselines(
    lineage: dict[str, Any], statistics: pl.DataFrame, reference: pl.DataFrame, eps: float
) -> dict[str, float]:
    """The reference lines of the histogram: the clip cap, ln C and H of the train labels."""
    # The clip cap of the eps the night's losses were computed with, not today's setting.
    night_eps = float(lineage.get("loss_settings", {}).get("eps", eps))
    markers = {"clip cap -log(eps)": -math.log(night_eps)}
    ln_c = statistics["ln_c"].drop_nulls()
    if ln_c.len():
        markers["ln C"] = float(ln_c[0])
    if reference.height and reference["label_entropy"][0] is not None:
        markers["H (train labels)"] = float(reference["label_entropy"][0])
    return markers


def slice_table(
    connection: duckdb.DuckDBPyConnection, at_epoch: dict[str, Any], reference: str
) -> pl.DataFrame:
    """The per-slice table of a model's night (empty when its files carry no slice
    column: other models' slice columns are not its own)."""
    present = {str(name) for (name,) in execute(connection, "losses_columns")}
    names = [
        str(name) for name, _, _ in execute(connection, "slice_column_types") if name in present
    ]
    if not names:
        return pl.DataFrame()
    binds = {**at_epoch, "slices": names, "reference": reference, "max_values": SLICE_VALUES}
    return query_frame(connection, "report_slices", binds)


def linear_bins(largest: list[float]) -> dict[str, Any]:
    """Binds of the linear histogram (report_model_groups.sql): a round bar width giving
    about LINEAR_BARS bars from 0 to the largest loss (capped at LINEAR_X_MAX, the rest in
    one open bar)."""
    top = min(max((value for value in largest if math.isfinite(value)), default=1.0), LINEAR_X_MAX)
    wanted = max(top, 1e-6) / LINEAR_BARS
    decade = 10.0 ** math.floor(math.log10(wanted))
    width = next(step * decade for step in (1, 2, 2.5, 5, 10) if step * decade >= wanted)
    open_last = any(value >= LINEAR_X_MAX for value in largest)
    last_bin = math.ceil(LINEAR_X_MAX / width) if open_last else math.floor(top / width)
    return {"width": width, "last_bin": last_bin, "open_last": open_last}


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
        changes=night_changes(connection, snapshot_date),
        run_id=night_lineage(connection, snapshot_date).get("run_id"),
        histograms=query_frame(
            connection, "report_night_histograms", {"snapshot_date": snapshot_date}
        ),
    )


def nights(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return query_frame(connection, "report_nights").to_dicts()


def _epoch_is(epoch: int | None) -> pl.Expr:
    return pl.col("epoch").is_null() if epoch is None else pl.col("epoch") == epoch
