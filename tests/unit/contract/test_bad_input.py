"""Every kind of bad dump gets an error naming the file, the column and the row count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import EXIT_FAILED, app
from pipeline.contract import DumpError

N = 6


def good(**overrides):
    rng = np.random.default_rng(0)
    columns = {
        "sample_id": np.arange(N),
        "split": ["test"] * N,
        "label": np.array([0, 1, 2, 0, 1, 2]),
        "logits": rng.normal(size=(N, 3)),
    }
    columns.update(overrides)
    return {name: value for name, value in columns.items() if value is not None}


def assert_rejected(path: Path, compute, column: str | None, rows: int, words: str, **settings):
    with pytest.raises(DumpError) as caught:
        compute(path, **settings)
    message = str(caught.value)
    assert str(path) in message
    if column is not None:
        assert f"column '{column}'" in message
    assert f"{rows} row" in message, message
    assert words in message, message
    return message


def probs_with(rows: dict[int, list[float]]) -> np.ndarray:
    probs = np.full((N, 3), 1 / 3)
    for row, values in rows.items():
        probs[row] = values
    return probs


def test_unreadable_parquet(tmp_path, compute):
    path = tmp_path / "junk.parquet"
    path.write_bytes(b"this is not parquet at all")
    assert_rejected(path, compute, None, 0, "unreadable Parquet")


def test_truncated_parquet(tmp_path, dump_file, compute):
    path = dump_file(good())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_rejected(path, compute, None, 0, "unreadable Parquet")


def test_zero_byte_file(tmp_path, compute):
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    assert_rejected(path, compute, None, 0, "unreadable Parquet")


def test_file_without_rows(tmp_path, compute):
    path = tmp_path / "norows.parquet"
    schema = pa.schema([("sample_id", pa.int64()), ("label", pa.int64()), ("logit", pa.float64())])
    import pyarrow.parquet as pq

    pq.write_table(schema.empty_table(), path)
    assert_rejected(path, compute, None, 0, "no rows")


@pytest.mark.parametrize("column", ["sample_id", "label", "split"])
def test_missing_required_column(dump_file, compute, column):
    path = dump_file(good(**{column: None}))
    assert_rejected(path, compute, column, N, "required column is missing")


def test_split_can_come_from_folder_or_setting(tmp_path, dump_file, compute):
    columns = good(split=None)
    assert compute(dump_file(columns, name="model=a/split=val/part-0.parquet"))["split"][0] == "val"
    assert compute(dump_file(columns), split="train")["split"][0] == "train"


def test_no_prediction_column(dump_file, compute):
    assert_rejected(dump_file(good(logits=None)), compute, None, N, "no prediction column")


def test_two_prediction_columns(dump_file, compute):
    path = dump_file(good(probs=probs_with({})))
    message = assert_rejected(path, compute, "logits", N, "several prediction columns")
    assert "column 'probs'" in message


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("logits", ["a"] * N, "must be a list or array of numbers"),
        ("label", [0.0, 1.0, 2.0, 0.0, 1.0, 2.0], "must be an integer class index"),
        ("sample_id", [0.5] * N, "must be integer or string"),
        ("split", [1] * N, "must be a string"),
        ("weight", ["x"] * N, "must be a number"),
    ],
)
def test_wrong_dtypes(dump_file, compute, column, value, words):
    assert_rejected(dump_file(good(**{column: value})), compute, column, N, words)


def test_nan_and_inf_in_logits(dump_file, compute):
    logits = np.zeros((N, 3))
    logits[1, 2], logits[4, 0] = np.nan, np.inf
    assert_rejected(dump_file(good(logits=logits)), compute, "logits", 2, "NaN or inf")


def test_nan_in_binary_logit(dump_file, compute):
    path = dump_file(good(logits=None, label=[0, 1] * 3, logit=[0.1, np.nan, 0.3, 1, 2, 3]))
    assert_rejected(path, compute, "logit", 1, "NaN or inf")


def test_negative_probabilities(dump_file, compute):
    probs = probs_with({2: [-0.1, 0.6, 0.5]})
    path = dump_file(good(logits=None, probs=probs))
    assert_rejected(path, compute, "probs", 1, "negative probability")


def test_probability_rows_not_summing_to_one(dump_file, compute):
    probs = probs_with({0: [0.5, 0.5, 0.5], 3: [0.1, 0.1, 0.1], 5: [0.3, 0.3, 0.4005]})
    path = dump_file(good(logits=None, probs=probs))
    # 0.3+0.3+0.4005 is within the 1e-3 tolerance: only two rows are bad.
    assert_rejected(path, compute, "probs", 2, "does not sum to 1")


def test_binary_prob_outside_unit_interval(dump_file, compute):
    path = dump_file(good(logits=None, label=[0, 1] * 3, prob=[0.1, 1.2, 0.3, -0.1, 0.5, 0.5]))
    assert_rejected(path, compute, "prob", 2, "outside [0, 1]")


def test_ragged_class_counts(dump_file, compute):
    ragged = [[0.1, 0.2, 0.3]] * N
    ragged[3] = [0.1, 0.2]
    ragged[4] = [0.1, 0.2, 0.3, 0.4]
    assert_rejected(dump_file(good(logits=ragged)), compute, "logits", 2, "class count")


def test_label_out_of_range(dump_file, compute):
    path = dump_file(good(label=[0, 1, 3, 0, -1, 2]))
    assert_rejected(path, compute, "label", 2, "outside [0, 3)")


def test_unknown_class_name(dump_file, compute):
    labels = ["cat", "dog", "eel", "cow", "cat", "dog"]
    path = dump_file(good(label=labels), classes=["cat", "dog", "eel"])
    assert_rejected(path, compute, "label", 1, "not one of the 3 classes")


def test_string_labels_without_classes(dump_file, compute):
    path = dump_file(good(label=["cat"] * N))
    assert_rejected(path, compute, "label", N, "need the class list")


def test_soft_labels_not_summing_to_one(dump_file, compute):
    soft = probs_with({1: [0.2, 0.2, 0.2]})
    path = dump_file(good(label=None, label_probs=soft))
    assert_rejected(path, compute, "label_probs", 1, "does not sum to 1")


def test_positive_logprob(dump_file, compute):
    path = dump_file(good(logits=None, logprob=[-0.1, 0.2, -1.0, 0.5, -3.0, 0.0]))
    assert_rejected(path, compute, "logprob", 2, "> 0")


def test_duplicate_sample_ids(dump_file, compute):
    path = dump_file(good(sample_id=[1, 2, 2, 3, 4, 4]))
    assert_rejected(path, compute, "sample_id", 4, "repeats within (model, split, epoch)")


def test_same_sample_id_in_other_epochs_is_fine(dump_file, compute):
    out = compute(dump_file(good(sample_id=[1, 2, 3, 1, 2, 3], epoch=[1, 1, 1, 2, 2, 2])))
    assert out.height == N


def test_several_problems_are_all_reported(dump_file, compute):
    logits = np.zeros((N, 3))
    logits[0, 0] = np.nan
    path = dump_file(good(logits=logits, label=[0, 1, 9, 0, 1, 2]))
    message = assert_rejected(path, compute, "logits", 1, "NaN or inf")
    assert "column 'label': 1 row: is outside [0, 3)" in message


def test_cli_exit_code_2_and_nothing_written(tmp_path, dump_file):
    bad = dump_file(good(label=[0, 1, 7, 0, 1, 2]))
    fine = dump_file(good())
    out = tmp_path / "out" / "losses.parquet"
    result = CliRunner().invoke(app, ["losses", str(fine), str(bad), "-o", str(out)])
    assert result.exit_code == EXIT_FAILED
    assert str(bad) in result.output and "column 'label'" in result.output
    assert "nothing written" in result.output
    assert not out.exists()
    assert list(out.parent.iterdir()) == []  # no temp parts left behind


def test_duplicate_screen_reads_row_groups_and_their_boundaries(tmp_path, compute):
    import pyarrow.parquet as pq

    from pipeline.contract.checks import ids_out_of_order

    def write(ids: list[int], name: str) -> Path:
        path = tmp_path / name
        table = pa.table({**good(sample_id=ids), "logits": pa.array(np.zeros((N, 3)).tolist())})
        pq.write_table(table, path, row_group_size=3)
        return path

    increasing = write([0, 1, 2, 3, 4, 5], "sorted.parquet")
    assert pq.ParquetFile(increasing).num_row_groups == 2
    assert ids_out_of_order(increasing, "sample_id") == 0
    assert compute(increasing).height == N

    unsorted = write([3, 4, 5, 0, 1, 2], "unsorted.parquet")
    assert ids_out_of_order(unsorted, "sample_id") == 1  # the step across the boundary
    assert compute(unsorted).height == N  # screened, then counted exactly: no duplicate

    across = write([0, 1, 2, 2, 3, 4], "across.parquet")
    assert_rejected(across, compute, "sample_id", 2, "repeats within")


def test_no_prediction_column_lists_the_columns_found(dump_file, compute):
    path = dump_file(
        {"sample_id": [1, 2], "label": [0, 1], "score": [0.2, 0.9], "split": ["t"] * 2}
    )
    with pytest.raises(DumpError) as raised:
        compute(path)
    assert "no prediction column" in str(raised.value)
    assert "columns found: label, sample_id, score, split" in str(raised.value)
