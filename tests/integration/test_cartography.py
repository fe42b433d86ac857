"""Training dynamics per sample (Dataset Cartography): confidence, variability,
correctness, forgetting events and regions against numpy on the same losses."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from pipeline.base.options import ReportOptions
from pipeline.nightly.driver import run_job
from pipeline.report.cartography import AMBIGUOUS, EASY, cartography
from pipeline.report.data import model_report
from pipeline.report.pages import render_model_page
from pipeline.settings import Settings
from pipeline.warehouse.catalog import reading
from tests.helpers.dumps import write_dump

NIGHT = "2026-11-23"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Model m: train dumped at epochs 1-5 with three kinds of samples (learned early,
    learned late and wavering, never learned); test at epoch 5. Model once: one epoch."""
    root = tmp_path_factory.mktemp("cartography")
    rng = np.random.default_rng(2)
    n, classes = 300, 3
    labels = rng.integers(0, classes, n)
    kind = np.arange(n) % 3  # 0 easy, 1 wavering, 2 hard
    for epoch in range(1, 6):
        logits = rng.normal(scale=0.3, size=(n, classes))
        rows = np.arange(n)
        logits[rows[kind == 0], labels[kind == 0]] += 4.0
        logits[rows[kind == 1], labels[kind == 1]] += np.where(epoch % 2, 3.0, -3.0)
        logits[rows[kind == 2], (labels[kind == 2] + 1) % classes] += 3.0  # another class
        for split in ("train",) + (("test",) if epoch == 5 else ()):
            path = root / "inbox" / NIGHT / "model=m" / f"split={split}" / f"e{epoch}.parquet"
            write_dump(path, {"sample_id": rows, "label": labels, "logits": logits,
                              "epoch": np.full(n, epoch)})  # fmt: skip
    for split in ("train", "test"):
        path = root / "inbox" / NIGHT / "model=once" / f"split={split}" / "part-0.parquet"
        write_dump(path, {"sample_id": np.arange(n), "label": labels,
                          "logits": rng.normal(size=(n, classes))})  # fmt: skip
    settings = Settings(inbox=root / "inbox", warehouse=root / "wh")
    assert run_job(settings).status == "succeeded"
    return settings


def oracle(losses: pl.DataFrame) -> pl.DataFrame:
    """Per sample, computed in numpy from the stored p_true and correct per epoch."""
    rows = []
    for (sample_id,), part in losses.sort("epoch").group_by("sample_id"):
        p_true = part["p_true"].to_numpy()
        correct = part["correct"].to_numpy()
        forgotten = int(np.sum(correct[:-1] & ~correct[1:]))
        rows.append((sample_id, p_true.mean(), p_true.std(), correct.mean(), forgotten))
    return pl.DataFrame(
        rows,
        schema=["sample_id", "confidence", "variability", "correctness", "forgetting"],
        orient="row",
    ).sort("sample_id")


def test_sample_dynamics_match_numpy(settings):
    with reading(settings.warehouse) as connection:
        found = cartography(connection, dt.date.fromisoformat(NIGHT), "m", "train", 5)
        losses = connection.sql(
            "SELECT sample_id, epoch, p_true, correct FROM losses"
            " WHERE model = 'm' AND split = 'train'"
        ).pl()
        mine = connection.sql("SELECT * FROM sample_dynamics ORDER BY sample_id").pl()
    expected = oracle(losses)
    np.testing.assert_allclose(mine["confidence"], expected["confidence"], rtol=1e-12)
    np.testing.assert_allclose(mine["variability"], expected["variability"], atol=1e-12)
    np.testing.assert_allclose(mine["correctness"], expected["correctness"], rtol=1e-12)
    assert mine["forgetting_events"].to_list() == expected["forgetting"].to_list()
    region = np.where(
        expected["variability"] >= AMBIGUOUS,
        "ambiguous",
        np.where(expected["confidence"] >= EASY, "easy-to-learn", "hard-to-learn"),
    )
    counts = dict(zip(*np.unique(region, return_counts=True), strict=True))
    assert dict(zip(found.regions["region"], found.regions["samples"], strict=True)) == counts
    assert set(counts) == {"ambiguous", "easy-to-learn", "hard-to-learn"}  # all three kinds
    assert found.grid["n"].sum() == 300
    assert found.regions["forgetting_events"].sum() == expected["forgetting"].sum() > 0
    hard = found.hard["sample_id"].cast(pl.Int64).to_list()
    assert hard and all(int(sample) % 3 == 2 for sample in hard)  # the never-learned kind


def test_the_model_page_shows_it_only_with_three_epochs(settings):
    options = ReportOptions()
    with reading(settings.warehouse) as connection:
        night = dt.date.fromisoformat(NIGHT)
        with_epochs = model_report(connection, night, "m", options)
        without = model_report(connection, night, "once", options)
    assert with_epochs.cartography is not None and without.cartography is None
    page = render_model_page(with_epochs)
    assert 'id="cartography"' in page and 'id="hard-to-learn"' in page
    assert 'id="cartography"' not in render_model_page(without)
