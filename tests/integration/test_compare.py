"""Comparing models of one night, and a model against its own earlier night: KS and W1
between each pair against scipy, the paired view of shared samples against numpy on the
same losses, and the comparison a regression gets on its night page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.nightly.driver import run_job
from pipeline.report.compare import DIFFERENCE_BINS, Entry, comparison, parse_entries
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
        night = dt.date.fromisoformat(NIGHT)
        found = comparison(connection, [Entry(m, night) for m in "abc"], ("test",))
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
    assert paired.summary["mean_difference"] == pytest.approx(difference.mean(), rel=1e-9)
    bins = np.clip(np.round(difference / paired.width), -DIFFERENCE_BINS, DIFFERENCE_BINS)
    # One definition of "about the same": the centre bar of the difference histogram.
    assert paired.summary["same"] == int((bins == 0).sum())
    assert paired.summary["better"] == int((bins < 0).sum())
    assert paired.summary["worse"] == int((bins > 0).sum())
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


def test_compare_entries_name_a_model_on_a_night():
    night = dt.date(2026, 11, 23)
    assert parse_entries(["a", "a@2026-11-20", "x@y", "m@2026-02-30"], night) == [
        Entry("a", night),
        Entry("a", dt.date(2026, 11, 20)),
        Entry("x@y", night),  # an @ in a name stays
        Entry("m@2026-02-30", night),  # not a date: part of the name
    ]


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Model m (class names ant, bee, cat) on two nights over the same test ids: fitting
    on the first, overfit on the second (its test logits much weaker)."""
    root = tmp_path_factory.mktemp("two-nights")
    rng = np.random.default_rng(8)
    n = 400
    labels = {split: rng.integers(0, 3, n) for split in ("train", "test")}
    for night, test_signal in (("2026-11-22", 4.0), ("2026-11-23", 0.3)):
        for split, signal in (("train", 4.0), ("test", test_signal)):
            logits = rng.normal(size=(n, 3))
            logits[np.arange(n), labels[split]] += signal
            path = root / "inbox" / night / "model=m" / f"split={split}" / "part-0.parquet"
            write_dump(path, {"sample_id": np.arange(n), "label": labels[split],
                              "logits": logits}, classes=["ant", "bee", "cat"])  # fmt: skip
    settings = Settings(inbox=root / "inbox", warehouse=root / "wh", reports=root / "reports")
    arguments = ["run", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse)]
    done = CliRunner().invoke(app, [*arguments, "--reports", str(settings.reports)])
    assert done.exit_code == 0, done.output
    return settings


def test_a_model_against_its_previous_night(two_nights):
    with reading(two_nights.warehouse) as connection:
        entries = [Entry("m", dt.date(2026, 11, 22)), Entry("m", dt.date(2026, 11, 23))]
        found = comparison(connection, entries, ("test",))
        losses = connection.sql(
            "SELECT snapshot_date, sample_id, ce FROM losses WHERE split = 'test'"
            " ORDER BY snapshot_date, sample_id"
        ).pl()
    before, after = (
        part["ce"].to_numpy() for _, part in losses.group_by("snapshot_date", maintain_order=True)
    )
    assert found.models == ["m@2026-11-22", "m@2026-11-23"]
    assert found.snapshot_date == dt.date(2026, 11, 23)  # its page goes in the later night
    assert found.statistics["model"].to_list() == found.models
    (distance,) = found.distances
    assert distance["ks"] == pytest.approx(stats.ks_2samp(before, after).statistic, abs=1e-12)
    (paired,) = found.paired
    assert paired.summary["shared"] == 400
    assert paired.summary["mean_difference"] == pytest.approx((after - before).mean(), rel=1e-9)
    assert set(paired.most_worse["label"]) <= {"ant", "bee", "cat"}  # class names
    assert set(paired.most_worse["pred_b"]) <= {"ant", "bee", "cat"}


def test_a_regression_gets_its_comparison_with_the_previous_night(two_nights):
    night = two_nights.reports / "2026-11-23"
    page = (night / "index.html").read_text()
    linked = re.search(r'class="against-previous" href="([^"]+)"', page)
    assert linked and (night / linked.group(1)).is_file()  # a static page, not a command
    compare = (night / linked.group(1)).read_text()
    assert "m@2026-11-22" in compare and "m@2026-11-23" in compare
    hints = re.search(r'<ul id="hints">(.*?)</ul>', page, re.S).group(1)
    assert "regressed: good fit -&gt; overfit" in hints and linked.group(1) in hints
    assert '<a href="m.html">m</a>' in page.split('<ul id="changes">')[1]  # each model linked
    # and on request, from the command line
    arguments = [
        "report",
        "--warehouse",
        str(two_nights.warehouse),
        "--reports",
        str(two_nights.reports),
    ]
    done = CliRunner().invoke(
        app, [*arguments, "--compare", "m@2026-11-22,m", "--date", "2026-11-23"]
    )
    assert done.exit_code == 0, done.output
    assert Path(done.output.split("comparison: ")[1].strip()).name == linked.group(1)
    twice = CliRunner().invoke(app, [*arguments, "--compare", "m,m", "--date", "2026-11-23"])
    assert twice.exit_code == 2 and "named twice" in twice.output
