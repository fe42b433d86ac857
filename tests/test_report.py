"""Report pieces without a browser: golden chart specs, escaping, file names, page size."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema.core import load_schema
from conftest import write_dump

from pipeline.analysis.bins import log_bin_scheme
from pipeline.base.options import ReportOptions
from pipeline.nightly.driver import run_job
from pipeline.report import charts
from pipeline.report.data import linear_bins, model_report, page_name
from pipeline.report.pages import (
    bundle_tag,
    bundle_text,
    model_charts,
    shared_bundle,
    vega_bundle,
)
from pipeline.settings import Settings
from pipeline.warehouse.catalog import reading

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


@pytest.mark.parametrize(
    ("largest", "width", "last_bin", "open_last"),
    [
        ([2.47, 2.31], 0.1, 24, False),  # about 40 bars up to the largest loss
        ([0.004], 0.0001, 40, False),
        ([12.0, 45.0], 1.0, 30, True),  # capped at 30 nats, the rest in one open bar
        ([], 0.025, 40, False),
    ],
)
def test_linear_bins_are_round_and_cover_the_losses(largest, width, last_bin, open_last):
    binds = linear_bins(largest)
    assert binds["width"] == pytest.approx(width)
    assert (binds["last_bin"], binds["open_last"]) == (last_bin, open_last)


@pytest.mark.parametrize("spread", [(2.03, 2.47), (0.0, 40.0)])
def test_linear_histogram_counts_each_loss_in_its_own_bar(tmp_path, spread):
    """The linear-x chart once regrouped log bins by their lower edge: losses all in
    [2.03, 2.47] showed 56% of their mass in [1.5, 2.0). Now each bar counts exactly
    the losses in its range, as numpy.histogram does on the same edges."""
    rng = np.random.default_rng(7)
    n, classes = 4000, 10
    target = rng.uniform(*spread, n)  # the loss each sample should get
    labels = rng.integers(0, classes, n)
    logits = np.zeros((n, classes))
    # ce = log(sum exp) - z_y; with the others at 0: ce = log(1 + 9 e^-z_y) ... solved for z_y
    logits[np.arange(n), labels] = np.log(9.0) - np.log(np.expm1(np.maximum(target, 1e-9)))
    for split in ("train", "test"):
        half = slice(0, n // 2) if split == "train" else slice(n // 2, n)
        write_dump(
            tmp_path / "inbox" / "2026-11-20" / "model=m" / f"split={split}" / "part-0.parquet",
            {"sample_id": np.arange(n)[half], "label": labels[half], "logits": logits[half]},
        )
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    assert run_job(settings).status == "succeeded"
    with reading(settings.warehouse) as connection:
        report = model_report(connection, dt.date(2026, 11, 20), "m", ReportOptions())
        losses = connection.sql("SELECT split, ce FROM losses").pl()
    bars = report.linear_histograms
    width = linear_bins(report.statistics["max_ce"].to_list())["width"]
    for split in ("train", "test"):
        mine = bars.filter(pl.col("split") == split).sort("bin")
        ce = losses.filter(pl.col("split") == split)["ce"].to_numpy()
        last = int(mine["bin"].max())
        edges = np.arange(last + 2) * width
        if np.isinf(mine["upper"].max()):
            edges[-1] = np.inf
        counts, _ = np.histogram(ce, bins=edges)
        expected = {bin: int(c) for bin, c in enumerate(counts) if c}
        assert dict(zip(mine["bin"].to_list(), mine["count"].to_list(), strict=True)) == expected
        assert mine["fraction"].sum() == pytest.approx(1.0)
        assert mine["lower"].to_list() == [b * width for b in mine["bin"].to_list()]
    if spread == (2.03, 2.47):  # no bar below 2.0 holds anything
        assert bars.filter(pl.col("upper") <= 2.0).height == 0
    # Pages skip the schema check for speed: every spec of a real page must pass it here.
    schema = load_schema()
    for spec in model_charts(report).values():
        validate_jsonschema(spec, schema)  # raises, naming the bad property


@pytest.mark.parametrize("model", ["../../etc/passwd", "a/b", "..", "</script><b>x", "ü 模型", ""])
def test_page_names_are_safe_and_distinct(model):
    name = page_name(model)
    assert "/" not in name and not name.startswith(".") and name.endswith(".html")
    assert name != page_name(model + "x")


def test_bundle_is_inlinable():
    bundle = str(vega_bundle()).removeprefix("<script>").removesuffix("</script>")
    assert "</script" not in bundle
    assert "vegaEmbed" in bundle and "cdn.jsdelivr" not in bundle
    assert len(bundle) < 1_200_000


def test_shared_bundle_is_written_once_under_its_content_hash(tmp_path):
    name = shared_bundle(tmp_path)
    assert re.fullmatch(r"vega-[0-9a-f]{16}\.js", name)
    written = (tmp_path / name).stat().st_mtime_ns
    assert shared_bundle(tmp_path) == name and (tmp_path / name).stat().st_mtime_ns == written
    assert (tmp_path / name).read_text() == bundle_text()
    assert str(bundle_tag(name, depth=1)) == f'<script src="../{name}"></script>'
    assert str(bundle_tag(name, depth=0)) == f'<script src="{name}"></script>'


def test_bundle_is_cached_on_disk_per_vl_convert_version(tmp_path, monkeypatch):
    import vl_convert

    from pipeline.report import pages

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = pages.bundle_text.__wrapped__()
    cached = list((tmp_path / "lossgram").glob("vega-bundle-*.js"))
    assert len(cached) == 1

    def not_again(*args, **kwargs):
        raise AssertionError("the bundle was built again instead of read from the cache")

    monkeypatch.setattr(vl_convert, "javascript_bundle", not_again)
    assert pages.bundle_text.__wrapped__() == built
