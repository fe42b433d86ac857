"""The report's linear-x histogram on a real warehouse: each bar counts exactly the losses
in its range (numpy.histogram on the same edges), and every chart of a real model page
passes the Vega-Lite schema."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema.core import load_schema

from pipeline.base.options import ReportOptions
from pipeline.nightly.driver import run_job
from pipeline.report.data import linear_bins, model_report
from pipeline.report.pages import model_charts
from pipeline.settings import Settings
from pipeline.warehouse.catalog import reading
from tests.helpers.dumps import write_dump


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
