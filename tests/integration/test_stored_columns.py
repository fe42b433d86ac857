"""The warehouse stores what cannot be derived: a per-sample file leaves `correct` NULL
(pred = label) and, without class weights, label smoothing or soft labels, `p_true` too
(exp(-ce)); the `losses` view gives both back, bit for bit what the loss stage computes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipeline.contract import open_dump
from pipeline.contract.cross_entropy import per_sample_losses
from pipeline.nightly.driver import run_job
from pipeline.settings import Settings
from tests.helpers.dumps import write_hive_split

DAY = "2026-11-20"


def night(tmp_path: Path, **loss: object) -> Settings:
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh", **loss)
    for split, seed in (("train", 0), ("test", 1)):
        write_hive_split(settings.inbox, DAY, "mlp", split, n=400, seed=seed)
    assert run_job(settings).status == "succeeded"
    return settings


def view(settings: Settings) -> pl.DataFrame:
    database = settings.warehouse / "lossgram.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:  # the stock CLI's view
        frame = con.sql("select * from losses order by split, sample_id").pl()
    return frame


def computed(settings: Settings) -> pl.DataFrame:
    """What the loss stage computes of the same dumps, every column filled in."""
    frames = []
    for path in sorted(settings.inbox.rglob("*.parquet")):
        dump = open_dump(path, settings.reader_options())
        frames.append(per_sample_losses(dump.frame, settings.loss_spec()).collect())
    return pl.concat(frames).sort("split", "sample_id")


def stored_files(settings: Settings) -> list[Path]:
    return sorted((settings.warehouse / "losses").rglob("*.parquet"))


@pytest.mark.parametrize(
    ("loss", "p_true_stored"),
    [
        ({}, False),
        ({"class_weights": (1.0, 3.0, 0.5, 2.0)}, True),
        ({"label_smoothing": 0.1}, True),
    ],
)
def test_derivable_columns_are_left_null_and_the_view_gives_them_back(
    tmp_path, loss, p_true_stored
):
    settings = night(tmp_path, **loss)
    for file in stored_files(settings):
        table = pq.read_table(file, columns=["p_true", "correct"])
        assert table.column("correct").null_count == table.num_rows
        assert (table.column("p_true").null_count == 0) is p_true_stored
    seen, expected = view(settings), computed(settings)
    for column in ("ce", "p_true", "correct", "pred", "confidence", "brier"):
        left, right = seen[column].to_numpy(), expected[column].to_numpy()
        assert np.array_equal(left, right), column  # equal bit for bit, not approximately
    assert seen.columns[: len(expected.columns)] == expected.columns  # same order
    assert seen["correct"].dtype == pl.Boolean and seen["p_true"].dtype == pl.Float64
