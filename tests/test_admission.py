"""Which loss files may share sample ids, from their footers: the night's id aggregation
runs only over those (part files of one split hold disjoint ranges: none at all)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.admission import _may_share_ids, shared_ids_in_duckdb
from pipeline.layout import Layout


def losses_file(path: Path, ids: list[object], model: str = "m", epoch: int | None = None) -> str:
    pl.DataFrame(
        {"sample_id": ids, "model": model, "split": "test", "epoch": [epoch] * len(ids)},
        schema_overrides={"epoch": pl.Int64},
    ).write_parquet(path)
    return str(path)


def test_disjoint_ranges_need_no_aggregation(tmp_path):
    files = {losses_file(tmp_path / f"{k}.parquet", list(range(k * 10, k * 10 + 10))): k
             for k in range(5)}  # fmt: skip
    assert _may_share_ids(files, Layout(tmp_path)) == {}


def test_overlapping_ranges_mixed_kinds_and_long_text_are_candidates(tmp_path):
    a = losses_file(tmp_path / "a.parquet", [1, 50])  # range 1..50 overlaps b's
    b = losses_file(tmp_path / "b.parquet", [20, 30])
    c = losses_file(tmp_path / "c.parquet", [100, 200])  # alone
    other_model = losses_file(tmp_path / "d.parquet", [1, 50], model="n")  # another group
    files = {a: 0, b: 1, c: 2, other_model: 3}
    assert _may_share_ids(files, Layout(tmp_path)) == {a: 0, b: 1}
    text = losses_file(tmp_path / "e.parquet", ["300", "400"])  # 300 as text vs ints
    assert set(_may_share_ids({c: 0, text: 1}, Layout(tmp_path))) == {c, text}
    long = losses_file(tmp_path / "f.parquet", ["x" * 80, "y" * 80])  # statistics cut short
    other = losses_file(tmp_path / "g.parquet", ["a"])
    assert long in _may_share_ids({long: 0, other: 1}, Layout(tmp_path))


def test_the_aggregation_counts_shared_ids_per_pair(tmp_path):
    a = losses_file(tmp_path / "a.parquet", [1, 2, 3])
    b = losses_file(tmp_path / "b.parquet", ["2", "3", "9"])
    c = losses_file(tmp_path / "c.parquet", [3, 9])
    pairs = shared_ids_in_duckdb({a: 0, b: 1, c: 2}, spill=tmp_path)
    assert pairs == [("m", "test", None, 0, 1, 2), ("m", "test", None, 0, 2, 1),
                     ("m", "test", None, 1, 2, 2)]  # fmt: skip
