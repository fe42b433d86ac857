"""Comparing models of one night: KS and W1 between each pair against scipy, and the
paired view of shared samples against numpy on the same losses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.nightly.driver import run_job
from pipeline.report.compare import DIFFERENCE_BINS, SAME_LOSS, comparison
from pipeline.settings import Settings
from pipeline.warehouse.catalog import reading
from tests.helpers.dumps import write_dump

NIGHT = "2026-11-23"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Three models; a and b share test ids 0..299, c's test ids are 1000..1299."""
    root = tmp_path_factory.mktemp("compare")
    rng = np.random.default_rng(3)
    for model, test_signal, first_id in (("a", 2.0, 0), ("b", 1.0, 0), ("c", 1.5, 1000)):
        for split, signal in (("train", 4.0), ("test", test_signal)):
            n = 300
            labels = rng.integers(0, 5, n)
            logits = rng.normal(size=(n, 5))
            logits[np.arange(n), labels] += signal
            ids = np.arange(n) + (first_id if split == "test" else 0)
            path = root / "inbox" / NIGHT / f"model={model}" / f"split={split}" / "part-0.parquet"
            write_dump(path, {"sample_id": ids, "label": labels, "logits": logits})
    settings = Settings(inbox=root / "inbox", warehouse=root / "wh", reports=root / "reports")
    assert run_job(settings).status == "succeeded"
    return settings


def test_pairwise_distances_and_the_paired_view_match_the_oracles(warehouse):
    with reading(warehouse.warehouse) as connection:
        found = comparison(connection, dt.date.fromisoformat(NIGHT), ["a", "b", "c"], ("test",))
        losses = connection.sql("SELECT model, sample_id, ce FROM losses WHERE split = 'test'").pl()
    ce = {m: losses.filter(pl.col("model") == m).sort("sample_id") for m in "abc"}
    for row in found.distances:
        a, b = ce[row["model_a"]]["ce"].to_numpy(), ce[row["model_b"]]["ce"].to_numpy()
        assert row["ks"] == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
        assert row["wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
    assert [(p.model_a, p.model_b) for p in found.paired] == [("a", "b")]  # c shares none
    (paired,) = found.paired
    difference = ce["b"]["ce"].to_numpy() - ce["a"]["ce"].to_numpy()  # same ids, same order
    assert paired.summary["shared"] == 300
    assert paired.summary["better"] == int((difference < -SAME_LOSS).sum())
    assert paired.summary["worse"] == int((difference > SAME_LOSS).sum())
    assert paired.summary["mean_difference"] == pytest.approx(difference.mean(), rel=1e-9)
    bins = np.clip(np.round(difference / paired.width), -DIFFERENCE_BINS, DIFFERENCE_BINS)
    expected = dict(zip(*np.unique(bins, return_counts=True), strict=True))
    assert dict(zip(paired.histogram["bin"], paired.histogram["count"], strict=True)) == expected
    worst = np.sort(difference)[::-1][: len(paired.most_worse)]
    np.testing.assert_allclose(paired.most_worse["difference"].to_numpy(), worst, rtol=1e-12)
    assert found.statistics["model"].to_list() == ["a", "b", "c"]


def test_report_compare_writes_a_page_the_night_links(warehouse):
    def report(*flags: str):
        arguments = ["report", "--warehouse", str(warehouse.warehouse), *flags]
        return CliRunner().invoke(app, [*arguments, "--reports", str(warehouse.reports)])

    done = report("--compare", "a,b")
    assert done.exit_code == 0, done.output
    page = Path(done.output.split("comparison: ")[1].strip())
    assert page.is_file() and page.parent.name == NIGHT
    night = (page.parent / "index.html").read_text()
    assert page.name in night  # linked from the night page
    for flags in (
        ["--compare", "a"],
        ["--compare", "a,zz"],
        ["--compare", "a,b", "--date", "2020-01-01"],
    ):
        wrong = report(*flags)
        assert wrong.exit_code == 2 and len(wrong.output.strip().splitlines()) == 1, wrong.output
