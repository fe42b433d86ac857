"""Training dynamics per sample (Dataset Cartography): confidence, variability,
correctness, forgetting events and regions against numpy on the same losses, and
against the authors' selection code (allenai/cartography, train_dy_filtering.py:
compute_forgetfulness and the sort-and-head selection) re-implemented here."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from pipeline.base.options import ReportOptions
from pipeline.nightly.driver import run_job
from pipeline.report.cartography import cartography
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


def forgetfulness(correctness_trend: list[bool]) -> int:
    """The authors' compute_forgetfulness: 1000 for a sample never predicted right."""
    if not any(correctness_trend):
        return 1000
    learnt, forgotten = False, 0
    for is_correct in correctness_trend:
        if learnt and not is_correct:
            learnt, forgotten = False, forgotten + 1
        elif not learnt and is_correct:
            learnt = True
    return forgotten


def oracle(losses: pl.DataFrame) -> pd.DataFrame:
    """Per sample, computed in numpy from the stored p_true and correct per epoch."""
    rows = []
    for (sample_id,), part in losses.sort("epoch").group_by("sample_id"):
        p_true = part["p_true"].to_numpy()
        correct = part["correct"].to_list()
        rows.append((sample_id, p_true.mean(), p_true.std(), np.mean(correct),
                     forgetfulness(correct)))  # fmt: skip
    columns = ["guid", "confidence", "variability", "correctness", "forgetfulness"]
    return pd.DataFrame(rows, columns=columns).sort_values("guid").reset_index(drop=True)


def selected(frame: pd.DataFrame, metric: str, ascending: bool, taken: int) -> set[int]:
    """The authors' selection: sort by the metric, take the head (the ties by guid)."""
    ordered = frame.sort_values(by=[metric, "guid"], ascending=[ascending, True])
    return set(ordered.head(taken)["guid"])


def test_sample_dynamics_match_numpy_and_the_authors_selection(settings):
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
    never = expected["forgetfulness"] == 1000
    assert mine["never_learnt"].to_list() == never.tolist() and never.sum() > 0
    assert mine["forgetting_events"].to_list() == [
        None if value == 1000 else value for value in expected["forgetfulness"]
    ]
    # Regions: the authors take head(int(0.33 n) + 1) of each ordering; a sample in two
    # selections is counted once, ambiguous first, then easy-to-learn.
    taken = int(0.33 * len(expected)) + 1
    ambiguous = selected(expected, "variability", ascending=False, taken=taken)
    rest = expected[~expected["guid"].isin(ambiguous)]
    easy = selected(rest, "confidence", ascending=False, taken=taken)
    hard = selected(rest, "confidence", ascending=True, taken=taken) - easy
    regions = dict(zip(mine["sample_id"].cast(pl.Int64), mine["region"], strict=True))
    for name, members in (
        ("ambiguous", ambiguous),
        ("easy-to-learn", easy),
        ("hard-to-learn", hard),
    ):
        assert {s for s, region in regions.items() if region == name} == members, name
        assert members  # never empty while the split has samples
    counts = dict(zip(found.regions["region"], found.regions["samples"], strict=True))
    assert counts == {"ambiguous": taken, "easy-to-learn": taken, "hard-to-learn": len(hard)}
    cuts = found.cuts
    assert cuts["ambiguous"] == pytest.approx(
        expected[expected["guid"].isin(ambiguous)]["variability"].min()
    )
    assert cuts["hard-to-learn"] == pytest.approx(
        expected[expected["guid"].isin(hard)]["confidence"].max()
    )
    assert found.grid["n"].sum() == 300
    listed = found.hard["sample_id"].cast(pl.Int64).to_list()
    assert listed and set(listed) <= hard


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


def test_label_issue_candidates_only_when_the_model_is_not_underfit(settings):
    """Model m never learns a third of its samples: it underfits, so its hard-to-learn
    samples are not called label-issue candidates (an underfit model once listed 25)."""
    with reading(settings.warehouse) as connection:
        report = model_report(connection, dt.date.fromisoformat(NIGHT), "m", ReportOptions())
    assert [v["verdict"] for v in report.verdicts] == ["underfit"]
    page = render_model_page(report)
    assert 'id="hard-underfit"' in page and 'id="hard-candidates"' not in page
    assert "never learnt" in page  # the never-learnt kind, named
    fitting = [{**v, "verdict": "good_fit"} for v in report.verdicts]
    assert 'id="hard-candidates"' in render_model_page(
        dataclasses.replace(report, verdicts=fitting)
    )
