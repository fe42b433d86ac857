"""Class names stored per model and night and shown wherever a class appears; slice
columns tabulated per value, worst gap first."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.base.options import ReportOptions
from pipeline.cli.app import app
from pipeline.nightly.driver import run_job
from pipeline.report.data import model_report
from pipeline.report.pages import render_model_page
from pipeline.settings import Settings
from pipeline.warehouse.catalog import reading
from tests.helpers.dumps import write_dump, write_mixed_slice_night

NIGHT = "2026-11-23"
CLASSES = ["cat", "dog", "owl"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Model m with named classes and a slice column `region` (3 values, the held-out
    'north' much worse); model plain without names."""
    root = tmp_path_factory.mktemp("names")
    rng = np.random.default_rng(11)
    for model, classes in (("m", CLASSES), ("plain", None)):
        for split, signal in (("train", 4.0), ("test", 1.0)):
            n = 600
            labels = rng.integers(0, 3, n)
            logits = rng.normal(size=(n, 3))
            logits[np.arange(n), labels] += signal
            region = np.array(["north", "south", "east"])[np.arange(n) % 3]
            if split == "test":
                north = region == "north"
                logits[north] = rng.normal(size=(north.sum(), 3))  # no signal: much worse
            path = root / "inbox" / NIGHT / f"model={model}" / f"split={split}" / "part-0.parquet"
            columns = {
                "sample_id": np.arange(n),
                "label": [CLASSES[i] for i in labels] if classes else labels,
                "logits": logits,
                "region": region,
            }
            write_dump(path, columns, classes=classes)
    settings = Settings(inbox=root / "inbox", warehouse=root / "wh", reports=root / "reports")
    assert run_job(settings).status == "succeeded"
    return settings


def test_class_names_are_stored_and_joined_in_sql(settings):
    with reading(settings.warehouse) as connection:
        names = connection.sql("SELECT model, label, name FROM class_names ORDER BY ALL").fetchall()
        assert names == [("m", 0, "cat"), ("m", 1, "dog"), ("m", 2, "owl")]
        rows = connection.sql(
            "SELECT label, label_name, pred, pred_name FROM named_losses WHERE model = 'm'"
        ).fetchall()
        assert rows and all(CLASSES[label] == name for label, name, _, _ in rows)
        assert all(CLASSES[pred] == name for _, _, pred, name in rows)
        plain = connection.sql(
            "SELECT count(*) FROM named_losses WHERE model = 'plain' AND label_name IS NULL"
        ).fetchall()
        assert plain == [(1200,)]


def test_pages_show_class_names(settings):
    with reading(settings.warehouse) as connection:
        report = model_report(connection, dt.date.fromisoformat(NIGHT), "m", ReportOptions())
        plain = model_report(connection, dt.date.fromisoformat(NIGHT), "plain", ReportOptions())
    assert sorted(set(report.per_class["class"].to_list())) == CLASSES
    assert set(report.top_losses["label"].to_list()) <= set(CLASSES)
    assert set(report.top_losses["pred"].to_list()) <= set(CLASSES)
    assert sorted(set(plain.per_class["class"].to_list())) == ["0", "1", "2"]
    page = render_model_page(report)
    assert '"class": "owl"' in page or '"class":"owl"' in page  # the per-class chart's data


def test_slices_are_tabulated_worst_gap_first(settings):
    with reading(settings.warehouse) as connection:
        report = model_report(connection, dt.date.fromisoformat(NIGHT), "m", ReportOptions())
        losses = connection.sql("SELECT split, region, ce FROM losses WHERE model = 'm'").pl()
    slices = report.slices
    assert slices["slice"].unique().to_list() == ["region"]
    assert slices["value"].to_list()[0] == "north"  # the worst gap first
    for row in slices.iter_rows(named=True):
        part = losses.filter(pl.col("region") == row["value"])
        train = part.filter(pl.col("split") == "train")["ce"].to_numpy()
        test = part.filter(pl.col("split") == "test")["ce"].to_numpy()
        assert (row["n_reference"], row["n_heldout"]) == (len(train), len(test))
        assert row["gap"] == pytest.approx(test.mean() - train.mean(), rel=1e-9)
    assert 'id="slices"' in render_model_page(report)


def test_a_night_where_one_model_has_slices_and_another_not_gets_every_page(tmp_path):
    """Each page once asked for the slice columns of the whole warehouse: the model
    without them failed the night's reports (DuckDB: 'an empty set of columns')."""
    write_mixed_slice_night(tmp_path / "inbox", NIGHT)
    where = ["--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "wh")]
    result = CliRunner().invoke(app, ["run", *where, "--reports", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    night = tmp_path / "r" / NIGHT
    assert 'id="slices"' in (night / "sliced.html").read_text()
    assert 'id="slices"' not in (night / "plain.html").read_text()
    again = CliRunner().invoke(app, ["report", *where[2:], "--reports", str(tmp_path / "r")])
    assert again.exit_code == 0, again.output
