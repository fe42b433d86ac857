"""The sliced decode: a dump read a slice of rows at a time gives the frame Polars' own
reader gives (projections, filters, a head), and each row's id step across slices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline.base.options import LossSpec, ReaderOptions
from pipeline.contract import open_dump, slices
from pipeline.contract.slices import STEP_DOWN, sliced_scan
from pipeline.ingest.loss_pass import dump_losses_to_parquet


def write(path: Path, table: pa.Table, row_group_size: int | None = None) -> Path:
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def some_rows(n: int, ids: list[object] | None = None) -> pa.Table:
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(n, 3)).astype(np.float32)
    return pa.table(
        {
            "sample_id": pa.array(ids if ids is not None else list(range(n))),
            "label": pa.array(rng.integers(0, 3, n)),
            "logits": pa.FixedSizeListArray.from_arrays(pa.array(logits.ravel()), 3),
            "split": pa.array(["a", "b"] * (n // 2) + ["a"] * (n % 2)).dictionary_encode(),
        }
    )


@pytest.fixture
def tiny_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """About 7 rows a slice: every test file is read in many slices."""
    monkeypatch.setattr(slices, "SLICE_BYTES", 128)


def scan(path: Path) -> pl.LazyFrame:
    return sliced_scan(path, pl.scan_parquet(path).collect_schema(), "sample_id")


@pytest.mark.usefixtures("tiny_slices")
def test_slices_give_polars_own_frame(tmp_path):
    path = write(tmp_path / "d.parquet", some_rows(50), row_group_size=20)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    own = pl.scan_parquet(path)
    assert scan(path).drop(STEP_DOWN).collect().equals(own.collect())
    label = pl.col("label")
    for query in (
        lambda f: f.select("logits", "split"),
        lambda f: f.filter(label == 1).select("sample_id"),
        lambda f: f.head(9),
        lambda f: f.select(pl.len()),
        lambda f: f.filter(pl.col("split") == "b").select(label.sum()),
    ):
        sliced = query(scan(path).drop(STEP_DOWN))
        assert sliced.collect(engine="streaming").equals(query(own).collect())


@pytest.mark.usefixtures("tiny_slices")
@pytest.mark.parametrize(
    "ids",
    [
        list(range(40)),
        [*range(20), *range(20)],  # steps down once, far from a slice edge
        [i // 2 for i in range(40)],  # equal neighbours, some across slice edges
        [None, *range(1, 40)],
        [f"id{i:03d}" for i in range(40)],
    ],
)
def test_id_steps_down_across_slices_as_pyarrow_counts_them(tmp_path, ids):
    path = write(tmp_path / "d.parquet", some_rows(40, ids), row_group_size=15)
    column = pa.array(ids)
    expected = pc.sum(pc.less_equal(column[1:], column[:-1])).as_py() or 0
    steps = scan(path).select(pl.col(STEP_DOWN).sum()).collect(engine="streaming")
    assert steps.item() == expected


def test_many_slices_write_the_same_losses_as_one(tmp_path, monkeypatch):
    path = write(tmp_path / "d.parquet", some_rows(300), row_group_size=128)
    reader = ReaderOptions()
    one, many = tmp_path / "one.parquet", tmp_path / "many.parquet"
    one_counts, _ = dump_losses_to_parquet(open_dump(path, reader), LossSpec(), one)
    monkeypatch.setattr(slices, "SLICE_BYTES", 100)
    many_counts, _ = dump_losses_to_parquet(open_dump(path, reader), LossSpec(), many)
    assert pl.read_parquet(one).equals(pl.read_parquet(many))
    assert one_counts == many_counts
