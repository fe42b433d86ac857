"""Report pieces without a browser: golden chart specs, escaping, file names, page size."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from pipeline.bins import log_bin_scheme
from pipeline.report import charts
from pipeline.report.data import page_name
from pipeline.report.pages import vega_bundle

GOLDEN = Path(__file__).parent / "golden"
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
    linear = charts.loss_histogram(histogram_rows(), markers=markers, log_x=False)
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


def test_linear_rebinning_keeps_the_mass():
    rebinned = charts.linear_rebinned(histogram_rows())
    totals = rebinned.group_by("split").agg(pl.col("fraction").sum()).sort("split")
    assert totals["fraction"].to_list() == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("model", ["../../etc/passwd", "a/b", "..", "</script><b>x", "ü 模型", ""])
def test_page_names_are_safe_and_distinct(model):
    name = page_name(model)
    assert "/" not in name and not name.startswith(".") and name.endswith(".html")
    assert name != page_name(model + "x")


def test_bundle_is_inlinable():
    bundle = str(vega_bundle())
    assert "</script" not in bundle
    assert "vegaEmbed" in bundle and "cdn.jsdelivr" not in bundle
    assert len(bundle) < 1_200_000


def test_bundle_is_cached_on_disk_per_vl_convert_version(tmp_path, monkeypatch):
    import vl_convert

    from pipeline.report import pages

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = pages.vega_bundle.__wrapped__()
    cached = list((tmp_path / "lossgram").glob("vega-bundle-*.js"))
    assert len(cached) == 1

    def not_again(*args, **kwargs):
        raise AssertionError("the bundle was built again instead of read from the cache")

    monkeypatch.setattr(vl_convert, "javascript_bundle", not_again)
    assert pages.vega_bundle.__wrapped__() == built
