"""Altair chart builders: pure functions, aggregated data in, chart out."""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import polars as pl

# Fixed colour per split across every chart and page; other split names follow.
SPLIT_COLOURS = {"train": "#4c78a8", "val": "#54a24b", "test": "#e45756"}
EXTRA_COLOURS = ("#f58518", "#b279a2", "#72b7b2", "#9d755d", "#bab0ac")
LOG_FLOOR = 1e-5  # where the [0, 1e-4) bin starts on a log axis
LOG_CEILING = 1e3  # where the [100, inf) bin ends on a log axis
REGIONS = ("ambiguous", "easy-to-learn", "hard-to-learn")  # of the cartography map


def split_scale(splits: Sequence[str]) -> alt.Scale:
    """A colour scale whose domain is fixed, so a split has one colour everywhere."""
    domain = [name for name in SPLIT_COLOURS if name in splits]
    others = sorted(set(splits) - set(SPLIT_COLOURS))
    colours = [SPLIT_COLOURS[name] for name in domain]
    colours += [EXTRA_COLOURS[index % len(EXTRA_COLOURS)] for index in range(len(others))]
    return alt.Scale(domain=[*domain, *others], range=colours)


def histogram_bars(histograms: pl.DataFrame, *, log_x: bool) -> pl.DataFrame:
    """Bars to draw: the open-ended bins get finite ends so they show on the axis (on a
    linear axis, as wide as the bar before)."""
    first_end = LOG_FLOOR if log_x else 0.0
    widths = (pl.col("upper") - pl.col("lower")).filter(pl.col("upper").is_finite())
    return histograms.with_columns(
        bin_range=pl.format(
            "[{}, {})",
            pl.col("lower").round_sig_figs(3),
            pl.when(pl.col("upper").is_infinite())
            .then(pl.lit("inf"))
            .otherwise(pl.col("upper").round_sig_figs(3).cast(pl.String)),
        ),
        x_start=pl.when(pl.col("lower") <= 0).then(first_end).otherwise(pl.col("lower")),
        x_end=pl.when(pl.col("upper").is_infinite())
        .then(LOG_CEILING if log_x else pl.col("lower") + widths.max().fill_null(1.0))
        .otherwise(pl.col("upper")),
    )


# Marker labels are stacked: a label goes on the next line when it would run into the one
# before it, judged on an axis NOMINAL_WIDTH pixels wide (a narrow page's chart, the PNG
# is wider) at LABEL_CHAR_PX pixels a character (fontSize 10).
NOMINAL_WIDTH = 560
LABEL_CHAR_PX = 6.2
LABEL_LINE_PX = 12


def log_loss_x(title: str) -> alt.X:
    """The loss axis of the log-binned histograms: [1e-5, 1e3], no grid of ~70 lines."""
    return alt.X(
        "x_start:Q",
        scale=alt.Scale(type="log", domain=[LOG_FLOOR, LOG_CEILING]),
        axis=alt.Axis(grid=False),
        title=title,
    )


def sqrt_fraction_y(title: str) -> alt.Y:
    """Fraction of samples on a square-root scale: thin tails stay visible."""
    return alt.Y("fraction:Q", title=title, stack=None, scale=alt.Scale(type="sqrt"))


def marker_rules_frame(markers: dict[str, float], *, log_x: bool = True) -> pl.DataFrame:
    """Vertical markers; markers at (nearly) the same loss share one rule and one label.
    Each label gets a line (label_y, pixels from the top): the next line when it would
    crowd the label before it."""
    frame = (
        pl.DataFrame(
            {"marker": list(markers), "value": list(markers.values())},
            schema={"marker": pl.String, "value": pl.Float64},
        )
        .filter(pl.col("value").is_finite())
        .with_columns(pl.col("value").clip(lower_bound=LOG_FLOOR))
        .group_by(pl.col("value").round(2).alias("at"))
        .agg(pl.col("marker").str.join(" = "), pl.col("value").first())
        .with_columns(marker=pl.format("{} {}", "marker", pl.col("value").round(3)))
        .sort("value")
        .drop("at")
    )
    values, texts = frame["value"].to_list(), frame["marker"].to_list()
    largest = max(values, default=1.0)
    span = math.log10(LOG_CEILING / LOG_FLOOR)

    def pixels(value: float) -> float:
        share = math.log10(value / LOG_FLOOR) / span if log_x else value / (1.1 * largest)
        return share * NOMINAL_WIDTH

    # Each line's right end so far: a label goes on the first line it does not run into.
    ends: list[float] = []
    lines = []
    for value, text in zip(values, texts, strict=True):
        start = pixels(value) + 3  # the text's dx
        line = next((index for index, end in enumerate(ends) if start > end + 4), len(ends))
        if line == len(ends):
            ends.append(0.0)
        ends[line] = start + len(text) * LABEL_CHAR_PX
        lines.append(line)
    return frame.with_columns(
        label_y=pl.Series([8 + LABEL_LINE_PX * line for line in lines], dtype=pl.Int64)
    )


def loss_histogram(
    histograms: pl.DataFrame,
    *,
    markers: dict[str, float],
    log_x: bool = True,
    title: str = "",
    width: int | str = "container",
    height: int = 260,
) -> alt.TopLevelMixin:
    """Overlaid train/test loss histogram: fraction of samples per cross-entropy bin (the
    stored log bins, or equal-width bins counted from the losses for a linear x)."""
    columns = histograms.select("split", "lower", "upper", "count", "fraction")
    bars = histogram_bars(columns, log_x=log_x)
    scale = alt.Scale(type="log", domain=[LOG_FLOOR, LOG_CEILING]) if log_x else alt.Scale()
    colour = alt.Color(
        "split:N", scale=split_scale(bars["split"].unique().to_list()), title="split"
    )
    histogram = (
        alt.Chart(bars, title=title)
        .mark_rect(opacity=0.55, stroke=None)
        .encode(
            x=alt.X(
                "x_start:Q",
                scale=scale,
                axis=alt.Axis(grid=not log_x),  # a log axis would draw ~70 grid lines
                title="cross-entropy loss (nats)" + (", log scale" if log_x else ""),
            ),
            x2=alt.X2("x_end:Q"),
            # sqrt keeps the thin tails visible next to a tall bin at 0
            y=alt.Y(
                "fraction:Q",
                title="fraction of samples (sqrt scale)",
                stack=None,
                scale=alt.Scale(type="sqrt"),
            ),
            y2=alt.Y2Datum(0),
            color=colour,
            tooltip=[
                alt.Tooltip("split:N"),
                alt.Tooltip("bin_range:N", title="bin"),
                alt.Tooltip("count:Q"),
                alt.Tooltip("fraction:Q", format=".4f"),
            ],
        )
    )
    rules = marker_rules_frame(markers, log_x=log_x)
    layers = [histogram, *_marker_layers(rules)] if rules.height else [histogram]
    return alt.layer(*layers).properties(width=width, height=height)


def _marker_layers(rules: pl.DataFrame) -> list[alt.Chart]:
    """The dashed reference lines (clip cap, ln C, H) and their labels."""
    lines = (
        alt.Chart(rules)
        .mark_rule(strokeDash=[4, 3], color="#333")
        .encode(
            x=alt.X("value:Q"),
            tooltip=[alt.Tooltip("marker:N"), alt.Tooltip("value:Q", format=".3f")],
        )
    )
    labels = (
        alt.Chart(rules)
        .mark_text(align="left", dx=3, fontSize=10, color="#333")
        .encode(x=alt.X("value:Q"), y=alt.Y("label_y:Q", scale=None), text=alt.Text("marker:N"))
    )
    return [lines, labels]


def night_histograms(
    histograms: pl.DataFrame,
    order: list[str],
    entropy: dict[str, float],
    *,
    columns: int = 3,
) -> alt.TopLevelMixin:
    """Small multiples of the overlaid histograms, one panel per model of a night, in
    `order` (worst gap / H first), each with its model's H marked (entropy)."""
    bars = histogram_bars(histograms, log_x=True).with_columns(kind=pl.lit("bar"))
    marks = pl.DataFrame(
        {"model": list(entropy), "h": list(entropy.values()), "kind": "H"},
        schema={"model": pl.String, "h": pl.Float64, "kind": pl.String},
    ).filter(pl.col("h") > 0)
    # The panels' order as a field: sorting by a list of names would write the names into
    # a Vega expression, where a U+2028 or a newline in one breaks every panel.
    rank = pl.DataFrame({"model": order, "panel": list(range(len(order)))})
    data = pl.concat([bars, marks], how="diagonal_relaxed").join(rank, on="model", how="left")
    colour = alt.Color("split:N", scale=split_scale(bars["split"].unique().to_list()))
    base = alt.Chart().properties(width=240, height=140)
    rule = (
        base.transform_filter(alt.datum.kind == "H")
        .mark_rule(strokeDash=[4, 3], color="#333")
        .encode(x=alt.X("h:Q"), tooltip=[alt.Tooltip("h:Q", format=".3f", title="H")])
    )
    hist = (
        base.transform_filter(alt.datum.kind == "bar")
        .mark_rect(opacity=0.55)
        .encode(
            x=log_loss_x("cross-entropy loss (log)"),
            x2=alt.X2("x_end:Q"),
            y=sqrt_fraction_y("fraction (sqrt)"),
            y2=alt.Y2Datum(0),
            color=colour,
            tooltip=[
                alt.Tooltip("model:N"),
                alt.Tooltip("split:N"),
                alt.Tooltip("bin_range:N"),
                alt.Tooltip("fraction:Q", format=".4f"),
            ],
        )
    )
    chart: alt.TopLevelMixin = (
        alt.layer(hist, rule, data=data)
        .facet(
            facet=alt.Facet("model:N", title=None, sort=alt.SortField("panel")),
            columns=columns,
        )
        # The night page switches y to "shared" in the browser on request.
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")  # every panel keeps its own x axis
    )
    return chart


def cartography_map(grid: pl.DataFrame, cuts: dict[str, float]) -> alt.TopLevelMixin:
    """Confidence against variability per training sample, binned, coloured by the mean
    correctness of each cell; dashed lines at the regions' rank cuts (cuts: region ->
    the variability or confidence its last sample reached)."""
    cells = (
        alt.Chart(grid)
        .mark_rect()
        .encode(
            x=alt.X("confidence_low:Q", scale=alt.Scale(domain=[0, 1]),
                    title="confidence (mean p_true over epochs)"),
            x2=alt.X2("confidence_high:Q"),
            y=alt.Y("variability_low:Q", scale=alt.Scale(domain=[0, 0.5]),
                    title="variability (std of p_true over epochs)"),
            y2=alt.Y2("variability_high:Q"),
            color=alt.Color("correctness:Q", scale=alt.Scale(domain=[0, 1], scheme="viridis"),
                            title="correctness"),
            tooltip=[alt.Tooltip("n:Q"), alt.Tooltip("correctness:Q", format=".2f"),
                     alt.Tooltip("confidence_low:Q", title="confidence from", format=".2f"),
                     alt.Tooltip("variability_low:Q", title="variability from", format=".3f")],
        )
    )  # fmt: skip
    ambiguous = cuts.get("ambiguous", 0.5)
    rules = [(0.0, 1.0, ambiguous, ambiguous)]  # x, x2, y, y2
    rules += [(cuts[name], cuts[name], 0.0, ambiguous) for name in REGIONS[1:] if name in cuts]
    lines = pl.DataFrame(rules, schema=["x", "x2", "y", "y2"], orient="row")
    borders = (
        alt.Chart(lines)
        .mark_rule(strokeDash=[4, 3], color="#333")
        .encode(x=alt.X("x:Q"), x2=alt.X2("x2:Q"), y=alt.Y("y:Q"), y2=alt.Y2("y2:Q"))
    )
    # The regions named in the subtitle, not on the plot: a label there sat on the cells.
    regions = (
        "above the dashed line: ambiguous (top 33% by variability); below it, right of the "
        "right line: easy-to-learn, left of the left line: hard-to-learn (33% each by confidence)"
    )
    title = alt.TitleParams("Dataset cartography (training split)", subtitle=regions)
    chart: alt.TopLevelMixin = alt.layer(cells, borders).properties(
        width="container", height=320, title=title
    )
    return chart


def per_class_losses(per_class: pl.DataFrame) -> alt.TopLevelMixin:
    """Mean loss per class (by name where the dumps declared names), splits side by side."""
    colour = alt.Color("split:N", scale=split_scale(per_class["split"].unique().to_list()))
    if "class" not in per_class.columns:
        per_class = per_class.with_columns(pl.col("label").cast(pl.String).alias("class"))
    chart: alt.TopLevelMixin = (
        alt.Chart(per_class)
        .mark_bar()
        .encode(
            x=alt.X("class:N", title="class", sort=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("split:N"),
            y=alt.Y("mean_ce:Q", title="mean cross-entropy"),
            color=colour,
            tooltip=[
                alt.Tooltip("class:N"),
                alt.Tooltip("split:N"),
                alt.Tooltip("n:Q"),
                alt.Tooltip("mean_ce:Q", format=".4f"),
                alt.Tooltip("accuracy:Q", format=".3f"),
            ],
        )
        .properties(width="container", height=220, title="Mean loss per class")
    )
    return chart


def loss_trend(
    summaries: pl.DataFrame, *, x: str, title: str, best: int | None = None, width: int = 400
) -> alt.TopLevelMixin:
    """Mean loss per split over nights (x = snapshot_date) or epochs (x = epoch)."""
    data = summaries.select(x, "split", "mean_ce", "n")
    if x == "snapshot_date":
        data = data.with_columns(pl.col(x).cast(pl.String))
    x_type = "O" if x == "snapshot_date" else "Q"  # nights are discrete, not a time axis
    colour = alt.Color("split:N", scale=split_scale(data["split"].unique().to_list()))
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                f"{x}:{x_type}",
                title="night" if x_type == "O" else "epoch",
                # epochs are whole: no 2.5 between two of them
                axis=alt.Axis(labelAngle=0)
                if x_type == "O"
                else alt.Axis(labelAngle=0, tickMinStep=1, format="d"),
            ),
            y=alt.Y("mean_ce:Q", title="mean cross-entropy"),
            color=colour,
            tooltip=[
                alt.Tooltip(f"{x}:{x_type}"),
                alt.Tooltip("split:N"),
                alt.Tooltip("mean_ce:Q", format=".4f"),
                alt.Tooltip("n:Q"),
            ],
        )
    )
    layers: list[alt.Chart] = [lines]
    if best is not None:
        marker = pl.DataFrame({x: [best], "marker": [f"best epoch {best}"]})
        layers.append(
            alt.Chart(marker)
            .mark_rule(strokeDash=[4, 3], color="#333")
            .encode(x=alt.X(f"{x}:Q"), tooltip=[alt.Tooltip("marker:N")])
        )
        layers.append(
            alt.Chart(marker)
            .mark_text(align="left", dx=4, dy=8, fontSize=10)
            .encode(
                x=alt.X(f"{x}:Q"),
                y=alt.YValue(0),  # type: ignore[no-untyped-call]
                text=alt.Text("marker:N"),
            )
        )
    return alt.layer(*layers).properties(width=width, height=220, title=title)


def reliability_diagram(calibration: pl.DataFrame, ece: dict[str, float]) -> alt.TopLevelMixin:
    """Accuracy against confidence per split, with the diagonal of perfect calibration."""
    colour = alt.Color("split:N", scale=split_scale(calibration["split"].unique().to_list()))
    subtitle = ", ".join(f"ECE {split} = {value:.4f}" for split, value in ece.items())
    points = (
        alt.Chart(calibration)
        .mark_line(point=True)
        .encode(
            x=alt.X("mean_confidence:Q", scale=alt.Scale(domain=[0, 1]), title="confidence"),
            y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="accuracy"),
            color=colour,
            tooltip=[
                alt.Tooltip("split:N"),
                alt.Tooltip("n:Q"),
                alt.Tooltip("mean_confidence:Q", format=".3f"),
                alt.Tooltip("accuracy:Q", format=".3f"),
            ],
        )
    )
    diagonal = (
        alt.Chart(pl.DataFrame({"mean_confidence": [0.0, 1.0], "accuracy": [0.0, 1.0]}))
        .mark_line(strokeDash=[4, 3], color="#999")
        .encode(x=alt.X("mean_confidence:Q"), y=alt.Y("accuracy:Q"))
    )
    return alt.layer(diagonal, points).properties(
        width=320, height=320, title=alt.TitleParams("Reliability diagram", subtitle=subtitle)
    )
