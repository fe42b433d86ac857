"""Which loss files may share sample ids, from their footers: the night's id aggregation
runs only over those (part files of one split hold disjoint ranges: none at all)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.ingest.admission import _may_share_ids, shared_ids_in_duckdb
from pipeline.warehouse.layout import DUMP_COLUMN, Layout
from pipeline.warehouse.store import LocalStore


def folder_layout(folder):
    """The layout of a warehouse in a local folder."""
    return Layout(folder, LocalStore(folder), folder / "lossgram.duckdb")


def losses_file(path: Path, ids: list[object], model: str = "m", epoch: int | None = None) -> str:
    pl.DataFrame(
        {"sample_id": ids, "model": model, "split": "test", "epoch": [epoch] * len(ids)},
        schema_overrides={"epoch": pl.Int64},
    ).write_parquet(path)
    return str(path)


def batch_file(path: Path, dumps: dict[str, list[object]]) -> str:
    """A batch of small dumps in one losses file: each row names its dump."""
    pl.concat(
        pl.DataFrame({"sample_id": ids, "model": "m", "split": "test", "epoch": 1}).with_columns(
            pl.lit(dump).alias(DUMP_COLUMN)
        )
        for dump, ids in dumps.items()
    ).write_parquet(path)
    return str(path)


def one_dump(files: dict[str, int]) -> dict[str, dict[str, int]]:
    """One-dump files, each holding the dump named after it."""
    return {file: {file: place} for file, place in files.items()}


def test_disjoint_ranges_need_no_aggregation(tmp_path):
    files = {losses_file(tmp_path / f"{k}.parquet", list(range(k * 10, k * 10 + 10))): k
             for k in range(5)}  # fmt: skip
    assert _may_share_ids(one_dump(files), folder_layout(tmp_path)) == []


def test_a_batch_files_dumps_are_told_apart_by_their_own_ranges(tmp_path):
    batch = batch_file(tmp_path / "batch.parquet", {"x": [1, 2], "y": [3, 4], "z": [4, 9]})
    alone = losses_file(tmp_path / "alone.parquet", [100, 200], epoch=1)
    files = {batch: {"x": 0, "y": 1, "z": 2}, alone: {alone: 3}}
    # y and z overlap (4); x and the one-dump file stand alone.
    assert sorted(_may_share_ids(files, folder_layout(tmp_path))) == [
        (batch, "y", 1),
        (batch, "z", 2),
    ]
    # A dump the night no longer lists (rejected, replaced) is not looked at.
    assert _may_share_ids({batch: {"x": 0, "y": 1}}, folder_layout(tmp_path)) == []


def test_the_aggregation_reads_each_rows_dump_from_a_batch_file(tmp_path):
    batch = batch_file(tmp_path / "batch.parquet", {"x": [1, 2], "y": [2, 3], "gone": [1, 3]})
    alone = losses_file(tmp_path / "alone.parquet", [3, 7], epoch=1)
    parts = [(batch, "x", 0), (batch, "y", 1), (alone, None, 2)]
    pairs = shared_ids_in_duckdb(parts, store=LocalStore(tmp_path), spill=tmp_path)
    # x and y share 2; y and the one-dump file share 3; "gone" is not listed: not counted.
    assert pairs == [("m", "test", 1, 0, 1, 1), ("m", "test", 1, 1, 2, 1)]


def test_overlapping_ranges_mixed_kinds_and_long_text_are_candidates(tmp_path):
    a = losses_file(tmp_path / "a.parquet", [1, 50])  # range 1..50 overlaps b's
    b = losses_file(tmp_path / "b.parquet", [20, 30])
    c = losses_file(tmp_path / "c.parquet", [100, 200])  # alone
    other_model = losses_file(tmp_path / "d.parquet", [1, 50], model="n")  # another group
    files = one_dump({a: 0, b: 1, c: 2, other_model: 3})
    assert _may_share_ids(files, folder_layout(tmp_path)) == [(a, None, 0), (b, None, 1)]
    text = losses_file(tmp_path / "e.parquet", ["300", "400"])  # 300 as text vs ints
    mixed = _may_share_ids(one_dump({c: 0, text: 1}), folder_layout(tmp_path))
    assert {file for file, _, _ in mixed} == {c, text}
    long = losses_file(tmp_path / "f.parquet", ["x" * 80, "y" * 80])  # statistics cut short
    other = losses_file(tmp_path / "g.parquet", ["a"])
    cut = _may_share_ids(one_dump({long: 0, other: 1}), folder_layout(tmp_path))
    assert (long, None, 0) in cut


def test_the_aggregation_counts_shared_ids_per_pair(tmp_path):
    a = losses_file(tmp_path / "a.parquet", [1, 2, 3])
    b = losses_file(tmp_path / "b.parquet", ["2", "3", "9"])
    c = losses_file(tmp_path / "c.parquet", [3, 9])
    pairs = shared_ids_in_duckdb(
        [(a, None, 0), (b, None, 1), (c, None, 2)], store=LocalStore(tmp_path), spill=tmp_path
    )
    assert pairs == [("m", "test", None, 0, 1, 2), ("m", "test", None, 0, 2, 1),
                     ("m", "test", None, 1, 2, 2)]  # fmt: skip
