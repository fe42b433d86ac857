"""The loss stage's one pass: a dump's (or a batch's) per-sample losses sunk to Parquet,
with the rows breaking each rule counted in the same pass; bad rows kept out and named
under bad_rows = skip; one model kept for a rerun of it; each batch row naming its dump."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.special import log_softmax

from pipeline.base.options import LossSpec, ReaderOptions
from pipeline.contract import open_batch, open_dump, problems_found
from pipeline.ingest.loss_pass import (
    BAD_ROW_SCHEMA,
    bad_row_records,
    batch_losses_to_parquet,
    dump_losses_to_parquet,
)
from pipeline.warehouse.layout import DUMP_COLUMN
from tests.helpers.dumps import write_dump

SPEC = LossSpec()
READER = ReaderOptions(split="test")


def logits_dump(path: Path, labels: list[int], seed: int = 0, **columns: object) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(len(labels), 3))
    write_dump(path, {"sample_id": np.arange(len(labels)), "label": labels, "logits": logits,
                      **columns})  # fmt: skip
    return logits


def test_one_pass_sinks_the_losses_and_counts_rows(tmp_path):
    labels = [0, 1, 2, -100, 1]  # -100: ignore_index, left out and counted
    logits = logits_dump(tmp_path / "d.parquet", labels, model=["m"] * 5)
    dump = open_dump(tmp_path / "d.parquet", READER)
    target = tmp_path / "out.parquet"
    counts, bad = dump_losses_to_parquet(dump, SPEC, target, snapshot_date=dt.date(2026, 11, 20))
    assert (counts["rows"], counts["ignored"]) == (5, 1)
    assert problems_found(dump.checks, counts) == [] and bad.is_empty()
    written = pl.read_parquet(target)
    expected = -log_softmax(logits, axis=1)[[0, 1, 2, 4], [0, 1, 2, 1]]
    np.testing.assert_allclose(written["ce"].to_numpy(), expected, rtol=1e-12)
    assert written["snapshot_date"].unique().to_list() == [dt.date(2026, 11, 20)]


def test_bad_rows_are_counted_or_left_out_and_named(tmp_path):
    logits_dump(tmp_path / "d.parquet", [0, 7, 1, 9])  # two labels outside [0, 3)
    dump = open_dump(tmp_path / "d.parquet", READER)
    counts, bad = dump_losses_to_parquet(dump, SPEC, tmp_path / "all.parquet")
    (problem,) = problems_found(dump.checks, counts)
    assert (problem.column, problem.rows) == ("label", 2) and bad.is_empty()
    counts, bad = dump_losses_to_parquet(dump, SPEC, tmp_path / "kept.parquet", skip_bad_rows=True)
    assert pl.read_parquet(tmp_path / "kept.parquet")["sample_id"].to_list() == [0, 2]
    assert bad.schema == BAD_ROW_SCHEMA
    assert bad.rows() == [("1", "label", "is outside [0, 3)"), ("3", "label", "is outside [0, 3)")]


def test_a_rerun_of_one_model_keeps_its_rows(tmp_path):
    logits_dump(tmp_path / "d.parquet", [0, 1, 2], model=["a", "b", "a"])
    dump = open_dump(tmp_path / "d.parquet", READER)
    counts, _ = dump_losses_to_parquet(dump, SPEC, tmp_path / "out.parquet", model="a")
    assert counts["rows"] == 3  # the counts are the whole dump's
    assert pl.read_parquet(tmp_path / "out.parquet")["model"].to_list() == ["a", "a"]


def test_a_batch_is_one_file_whose_rows_name_their_dump(tmp_path):
    paths = [tmp_path / f"{name}.parquet" for name in ("a", "b", "c")]
    labels = ([0, 1], [2, 5, 1], [1])  # b's 5 is outside [0, 3)
    logits = [
        logits_dump(path, rows, seed=index, model=[path.stem] * len(rows))
        for index, (path, rows) in enumerate(zip(paths, labels, strict=True))
    ]
    batch = open_batch(paths, READER, n_rows=6)
    names = [f"/inbox/{path.name}" for path in paths]
    target = tmp_path / "batch.parquet"
    results = batch_losses_to_parquet(batch, names, target, SPEC)
    assert [counts["rows"] for counts, _ in results] == [2, 3, 1]
    assert [len(problems_found(batch.checks, counts)) for counts, _ in results] == [0, 1, 0]
    written = pl.read_parquet(target)
    assert written[DUMP_COLUMN].value_counts(sort=True).rows() == [
        (names[1], 3),
        (names[0], 2),
        (names[2], 1),
    ]
    ce_a = written.filter(pl.col(DUMP_COLUMN) == names[0]).sort("sample_id")["ce"].to_numpy()
    np.testing.assert_allclose(ce_a, -log_softmax(logits[0], axis=1)[[0, 1], [0, 1]], rtol=1e-12)


def test_a_batch_with_skip_names_each_dumps_bad_rows(tmp_path):
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    logits_dump(paths[0], [0, 1])
    logits_dump(paths[1], [4, 1])
    batch = open_batch(paths, READER, n_rows=4)
    results = batch_losses_to_parquet(batch, ["a", "b"], tmp_path / "o.parquet", SPEC,
                                      skip_bad_rows=True)  # fmt: skip
    assert [bad.rows() for _, bad in results] == [[], [("0", "label", "is outside [0, 3)")]]
    assert pl.read_parquet(tmp_path / "o.parquet")[DUMP_COLUMN].to_list() == ["a", "a", "b"]


def test_no_bad_rows_is_an_empty_frame_of_the_schema(tmp_path):
    logits_dump(tmp_path / "d.parquet", [0])
    records = bad_row_records(open_dump(tmp_path / "d.parquet", READER), pl.DataFrame())
    assert records.is_empty() and records.schema == BAD_ROW_SCHEMA


@pytest.mark.parametrize("skip", [False, True])
def test_the_counts_are_the_same_with_or_without_skip(tmp_path, skip):
    logits_dump(tmp_path / "d.parquet", [0, 3, 1])
    dump = open_dump(tmp_path / "d.parquet", READER)
    counts, _ = dump_losses_to_parquet(dump, SPEC, tmp_path / "o.parquet", skip_bad_rows=skip)
    assert [(p.column, p.rows) for p in problems_found(dump.checks, counts)] == [("label", 1)]


PEAK_OF_A_PASS = """
import sys
from pathlib import Path
from pipeline.base.options import LossSpec, ReaderOptions
from pipeline.contract import open_dump
from pipeline.ingest.loss_pass import dump_losses_to_parquet

dump = open_dump(Path(sys.argv[1]), ReaderOptions(split="test"))
skip = sys.argv[3] == "skip"
counts, _ = dump_losses_to_parquet(dump, LossSpec(), Path(sys.argv[2]), skip_bad_rows=skip)
status = Path("/proc/self/status").read_text()
peak_kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
print(counts["rows"], int(peak_kib) * 1024)
"""


@pytest.mark.parametrize(
    "bad_rows",
    [
        "reject",
        # Ids out of order and one repeated: the rows to leave out are found by position.
        pytest.param("skip", marks=pytest.mark.slow),
    ],
)
def test_a_row_group_bigger_than_the_memory_budget_is_read_in_slices(tmp_path, bad_rows):
    """One row group of 2,000 rows x 50,000 float32 scores: 0.4 GB decoded, 0.8 GB as
    float64, a few MB on disk (runs of equal scores). A pass in its own process peaks
    under 1 GiB; decoding the row group whole and casting it would not fit."""
    rows, classes, repeats = 2_000, 50_000, 20
    block = rows // repeats
    scores = np.zeros((block, classes), np.float32)
    scores[:, 0] = 2.0
    flat = pa.FixedSizeListArray.from_arrays(pa.array(scores.ravel()), classes)
    ids = np.arange(rows) if bad_rows == "reject" else np.r_[rows - 2, np.arange(rows - 1)]
    table = pa.table(
        {
            "sample_id": pa.array(ids),
            "label": pa.array(np.zeros(rows, np.int64)),
            "logits": pa.chunked_array([flat] * repeats),  # one block, referenced 20 times
        }
    )
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path, row_group_size=rows, compression="zstd")
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    assert path.stat().st_size < 20 * 2**20

    done = subprocess.run(
        [sys.executable, "-c", PEAK_OF_A_PASS, str(path), str(tmp_path / "out.parquet"), bad_rows],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    counted, peak = map(int, done.stdout.split())
    assert counted == rows
    assert peak < 2**30, f"peak {peak / 2**20:.0f} MiB"
    ce = pl.read_parquet(tmp_path / "out.parquet")["ce"]
    assert len(ce) == (rows if bad_rows == "reject" else rows - 2)
    expected = -log_softmax(np.r_[2.0, np.zeros(classes - 1)])[0]
    np.testing.assert_allclose(ce.to_numpy(), expected, rtol=1e-12)
