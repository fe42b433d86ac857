"""The options several `lossgram` commands share, each written once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

WarehouseOption = Annotated[
    str | None,
    typer.Option(
        help="Warehouse folder (default data/warehouse under the current directory), or an "
        "object-store URI (s3://bucket/prefix)."
    ),
]
InboxOption = Annotated[
    Path | None, typer.Option(help="Inbox folder of new dumps (default data/inbox).")
]
DateOption = Annotated[
    dt.datetime | None,
    typer.Option("--date", formats=["%Y-%m-%d"], help="Snapshot date YYYY-MM-DD (default today)."),
]
ReportsOption = Annotated[
    str | None,
    typer.Option(
        help="Reports folder (default reports under the current directory), or an "
        "object-store URI (s3://bucket/site/) the pages are published to."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default ./lossgram.toml).")
]
FormatOption = Annotated[
    str, typer.Option("--format", help="table, csv or json (one JSON array of objects).")
]
MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", help="Column mapping canonical=source, e.g. label=target (repeatable)."),
]
LabelSmoothingOption = Annotated[
    float | None, typer.Option(help="Label smoothing e in [0, 1), as in PyTorch.")
]
ClassWeightsOption = Annotated[
    str | None, typer.Option(help="Per-class weights, comma separated: w0,w1,...")
]
IgnoreIndexOption = Annotated[
    str | None,
    typer.Option(help="Label value whose rows are left out and counted ('none' to disable)."),
]
EpsOption = Annotated[
    float | None, typer.Option(help="Probability clipping floor (default 1e-12).")
]
SplitOption = Annotated[
    str | None, typer.Option(help="Split name for dumps with no split column or split= folder.")
]
ModelOption = Annotated[
    str | None, typer.Option(help="Model name for dumps with no model column or model= folder.")
]
ClassesOption = Annotated[
    str | None, typer.Option(help="Class names for string labels, comma separated.")
]
OnlyModelOption = Annotated[str | None, typer.Option("--model", help="Only this model.")]
EngineOption = Annotated[
    str | None,
    typer.Option(help="duckdb (embedded, default) or spark (losses on Spark executors)."),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option(help="Spark master for --engine spark: local[N], spark://host:port, yarn..."),
]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Exit 3 when a night of the run has any of these: overfit, possible_overfit, "
        "underfit, insufficient_data, regressed (since the model's previous night). "
        "Comma-separated.",
    ),
]
NightOption = Annotated[
    dt.datetime | None,
    typer.Option("--date", formats=["%Y-%m-%d"], help="Only this night (default every night)."),
]
PngOption = Annotated[bool, typer.Option("--png", help="Also write PNGs of the main charts.")]
CompareOption = Annotated[
    str | None,
    typer.Option(
        "--compare",
        help="Compare these models of one night (A,B[,C]; --date, default the latest), or a "
        "model on an earlier night as MODEL@YYYY-MM-DD (mlp@2026-11-22,mlp): overlaid "
        "held-out histograms, KS/W1, and the samples they share.",
    ),
]
StandaloneOption = Annotated[
    bool,
    typer.Option(
        "--standalone",
        help="Put the chart scripts (~0.9 MB) inside every page, for a page sent alone; "
        "by default pages share one file in the reports folder.",
    ),
]
