"""Report charts without a browser: golden Vega-Lite specs, fixed split colours, marker
labels."""

from __future__ import annotations

import json
import math
import os

import polars as pl
import pytest

from pipeline.analysis.bins import log_bin_scheme
from pipeline.report import charts
from tests.helpers.paths import GOLDEN

UPDATE = os.environ.get("LOSSGRAM_UPDATE_GOLDEN") == "1"


def histogram_rows() -> pl.DataFrame:
    edges = log_bin_scheme().rows()
    rows = []
    for split, bins in (("train", {0: 80, 30: 15, 70: 5}), ("test", {0: 40, 60: 40, 110: 20})):
        for index, count in bins.items():
            _, _, lower, upper = edges[index]
            rows.append(
                {
                    "split": split,
                    "bin": index,
                    "lower": lower,
                    "upper": upper,
                    "count": count,
                    "fraction": count / 100,
                }
            )
    return pl.DataFrame(rows)


def check_golden(name: str, spec: dict) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(spec, indent=1, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        path.write_text(text)
        if not UPDATE:
            pytest.fail(f"golden file {path.name} was missing; written, review and commit it")
    assert text == path.read_text(), f"{name} changed: review, then LOSSGRAM_UPDATE_GOLDEN=1"


def test_loss_histogram_spec_is_golden():
    markers = {"ln C": 2.302585, "H (train labels)": 2.30, "clip cap -log(eps)": 27.631021}
    chart = charts.loss_histogram(histogram_rows(), markers=markers, title="test")
    check_golden("loss_histogram_log", chart.to_dict())
    linear_rows = pl.DataFrame(
        {
            "split": ["train", "train", "test", "test"],
            "lower": [0.0, 0.5, 2.0, 30.0],
            "upper": [0.5, 1.0, 2.5, float("inf")],
            "count": [90, 10, 70, 30],
            "fraction": [0.9, 0.1, 0.7, 0.3],
        }
    )
    linear = charts.loss_histogram(linear_rows, markers=markers, log_x=False)
    check_golden("loss_histogram_linear", linear.to_dict())


def test_trend_and_calibration_specs_are_golden():
    summaries = pl.DataFrame(
        {
            "epoch": [1, 2, 3, 1, 2, 3],
            "split": ["train"] * 3 + ["test"] * 3,
            "mean_ce": [1.0, 0.5, 0.1, 1.1, 0.7, 0.9],
            "n": [100] * 6,
        }
    )
    check_golden(
        "loss_trend_epochs", charts.loss_trend(summaries, x="epoch", title="t", best=2).to_dict()
    )
    calibration = pl.DataFrame(
        {
            "split": ["test", "test"],
            "confidence_bin": [7, 14],
            "n": [10, 90],
            "mean_confidence": [0.5, 0.98],
            "accuracy": [0.4, 0.97],
        }
    )
    check_golden("reliability", charts.reliability_diagram(calibration, {"test": 0.02}).to_dict())


def test_split_colours_are_fixed_whatever_the_order():
    one = charts.split_scale(["test", "train"]).to_dict()
    two = charts.split_scale(["train", "val", "test", "holdout"]).to_dict()
    assert dict(zip(one["domain"], one["range"], strict=True)) == {
        "train": "#4c78a8",
        "test": "#e45756",
    }
    colours = dict(zip(two["domain"], two["range"], strict=True))
    assert colours["train"] == "#4c78a8" and colours["test"] == "#e45756"
    assert colours["val"] == "#54a24b" and colours["holdout"] not in one["range"]


def test_markers_at_the_same_loss_share_a_label():
    frame = charts.marker_rules_frame({"ln C": 2.302585, "H": 2.3021, "cap": 27.63})
    assert frame["marker"].to_list() == ["ln C = H 2.303", "cap 27.63"]


def test_marker_labels_that_would_run_into_each_other_are_stacked():
    """H 2.0 and ln C 2.3 sit 0.06 decades apart: their labels once overlapped. A label
    takes the first line where it starts past the end of the one before it."""
    frame = charts.marker_rules_frame(
        {"H (train labels)": 2.0, "ln C": 2.302585, "clip cap -log(eps)": 27.631, "far": 900.0}
    )
    rows = frame.sort("value").iter_rows(named=True)
    placed: dict[int, float] = {}
    span = math.log10(charts.LOG_CEILING / charts.LOG_FLOOR)
    for row in rows:
        start = math.log10(row["value"] / charts.LOG_FLOOR) / span * charts.NOMINAL_WIDTH + 3
        line = (row["label_y"] - 8) // charts.LABEL_LINE_PX
        assert start > placed.get(line, -math.inf), row  # clear of its line's last label
        placed[line] = start + len(row["marker"]) * charts.LABEL_CHAR_PX
    lines = frame.sort("value")["label_y"].to_list()
    assert lines[:2] == [8, 20]  # H, then ln C on the next line
