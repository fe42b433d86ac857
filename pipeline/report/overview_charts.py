"""Altair charts of many models at once: the dashboard's verdict timeline and trends,
and the comparison page's overlaid histograms and paired differences. Pure functions,
aggregated data in, chart out (the one-model charts are in charts.py)."""

from __future__ import annotations

import altair as alt
import polars as pl

from pipeline.report.charts import histogram_bars, log_loss_x, sqrt_fraction_y

# The verdict colours of the pages' banners and tables.
VERDICT_COLOURS = {
    "overfit": "#d93025",
    "possible_overfit": "#f28b82",
    "underfit": "#f9ab00",
    "good_fit": "#1e8e3e",
    "insufficient_data": "#80868b",
}


def verdict_timeline(dashboard: pl.DataFrame) -> alt.TopLevelMixin:
    """Models x nights, each cell coloured by the night's verdict."""
    data = dashboard.with_columns(pl.col("snapshot_date").cast(pl.String))
    chart: alt.TopLevelMixin = (
        alt.Chart(data, title="Verdicts per night")
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("snapshot_date:O", title="night", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("model:N", title=None),
            color=alt.Color(
                "verdict:N",
                scale=alt.Scale(domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values())),
                title="verdict",
            ),
            tooltip=[
                alt.Tooltip("snapshot_date:O"),
                alt.Tooltip("model:N"),
                alt.Tooltip("heldout_split:N"),
                alt.Tooltip("verdict:N"),
                alt.Tooltip("normalised_gap:Q", format=".1%", title="gap / H"),
            ],
        )
        # 18 px a model as a number: a step height beside a container width made Vega warn
        # on every dashboard ("Dropping fit-y").
        .properties(width="container", height=18 * max(1, data["model"].n_unique()))
    )
    return chart


def model_trends(dashboard: pl.DataFrame, field: str, title: str) -> alt.TopLevelMixin:
    """One line per model over nights; click a model in the legend to pick it out."""
    data = dashboard.with_columns(pl.col("snapshot_date").cast(pl.String))
    pick = alt.selection_point(fields=["model"], bind="legend")
    chart: alt.TopLevelMixin = (
        alt.Chart(data, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("snapshot_date:O", title="night", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y(f"{field}:Q", title=title),
            color=alt.Color("model:N", title="model (click to pick)"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=[
                alt.Tooltip("snapshot_date:O"),
                alt.Tooltip("model:N"),
                alt.Tooltip(f"{field}:Q", format=".4f"),
            ],
        )
        .add_params(pick)
        .properties(width="container", height=220)
    )
    return chart


def model_overlay(histograms: pl.DataFrame, split: str) -> alt.TopLevelMixin:
    """Several models' held-out histograms on the same log bins, one colour each."""
    bars = histogram_bars(histograms, log_x=True)
    chart: alt.TopLevelMixin = (
        alt.Chart(bars, title=f"Held-out ({split}) loss histograms")
        .mark_rect(opacity=0.45)
        .encode(
            x=log_loss_x("cross-entropy loss (nats), log scale"),
            x2=alt.X2("x_end:Q"),
            y=sqrt_fraction_y("fraction of samples (sqrt)"),
            y2=alt.Y2Datum(0),
            color=alt.Color("model:N", title="model"),
            tooltip=[alt.Tooltip("model:N"), alt.Tooltip("bin_range:N"),
                     alt.Tooltip("fraction:Q", format=".4f")],
        )
        .properties(width="container", height=260)
    )  # fmt: skip
    return chart


def _in_title(name: str) -> str:
    """A model name as chart titles show it: Vega-Lite writes titles into expressions (the
    marks' descriptions), where a newline or U+2028 breaks the chart; spaces instead."""
    return "".join(" " if not character.isprintable() else character for character in name)


def difference_histogram(histogram: pl.DataFrame, model_a: str, model_b: str) -> alt.TopLevelMixin:
    """The per-sample loss differences (B - A) of shared samples: right of 0 got worse."""
    model_a, model_b = _in_title(model_a), _in_title(model_b)
    data = histogram.with_columns(
        side=pl.when(pl.col("bin") > 0)
        .then(pl.lit("worse"))
        .when(pl.col("bin") < 0)
        .then(pl.lit("better"))
        .otherwise(pl.lit("about the same"))
    )
    chart: alt.TopLevelMixin = (
        alt.Chart(data, title=f"Loss of {model_b} minus loss of {model_a}, per shared sample")
        .mark_rect()
        .encode(
            x=alt.X("lower:Q", title=f"loss({model_b}) - loss({model_a}) (nats)"),
            x2=alt.X2("upper:Q"),
            y=alt.Y("fraction:Q", title="fraction of shared samples (sqrt)",
                    scale=alt.Scale(type="sqrt")),
            y2=alt.Y2Datum(0),
            color=alt.Color(
                "side:N",
                scale=alt.Scale(domain=["better", "about the same", "worse"],
                                range=["#1e8e3e", "#80868b", "#d93025"]),
                title=model_b,
            ),
            tooltip=[alt.Tooltip("lower:Q", format=".3f"), alt.Tooltip("upper:Q", format=".3f"),
                     alt.Tooltip("count:Q"), alt.Tooltip("fraction:Q", format=".4f")],
        )
        .properties(width="container", height=220)
    )  # fmt: skip
    return chart


def sweep_points(
    rows: pl.DataFrame, param: str, measure: str, title: str, *, log_x: bool
) -> alt.TopLevelMixin:
    """One measure of a sweep's configurations against one parameter's values, coloured by
    verdict, the recommended one drawn larger (rows: the view sweeps, one parameter)."""
    numeric = rows["value_number"].null_count() == 0
    x = (
        alt.X("value_number:Q", title=param, scale=alt.Scale(type="log" if log_x else "linear"))
        if numeric
        else alt.X("value:N", title=param, sort=None)
    )
    verdicts = alt.Scale(domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values()))
    chart: alt.TopLevelMixin = (
        alt.Chart(rows.with_columns(pick=pl.col("recommended").cast(pl.Int8)), title=title)
        .mark_point(filled=True, opacity=0.9)
        .encode(
            x=x,
            y=alt.Y(f"{measure}:Q", title=title, scale=alt.Scale(zero=False)),
            color=alt.Color("verdict:N", scale=verdicts, title="verdict"),
            size=alt.Size("pick:Q", scale=alt.Scale(domain=[0, 1], range=[60, 260]), legend=None),
            shape=alt.Shape("recommended:N", title="recommended"),
            tooltip=[alt.Tooltip("model:N"), alt.Tooltip("value:N", title=param),
                     alt.Tooltip(f"{measure}:Q", format=".4f"), alt.Tooltip("verdict:N")],
        )
        .properties(width="container", height=220)
    )  # fmt: skip
    return chart
