"""A corpus of hostile and unusual dumps, and what a night must make of each.

Each case builds one dump's bytes (three samples, model = the case's name unless the
case is about the model) and names the outcome: "ingested", or the problem the one-line
rejection must state (column and message). tests/system/test_hostile_corpus.py runs them in
one night beside good dumps.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

LOGITS = [[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-3.0, 4.0, 0.0]]
F64 = pa.float64()
INGESTED = "ingested"
Build = Callable[[str], bytes]  # model name -> the dump's bytes


def table(model: str, /, **changes: object) -> pa.Table:
    """A good three-row logits dump, with columns changed (None drops one)."""
    columns: dict[str, object] = {
        "sample_id": [0, 1, 2],
        "label": [0, 1, 2],
        "logits": pa.array(LOGITS, pa.list_(F64, 3)),
        "split": ["test"] * 3,
        "model": [model] * 3,
    }
    for name, value in changes.items():
        if value is None:
            columns.pop(name, None)
        else:
            columns[name] = value
    return pa.table(columns)


def parquet(
    frame: pa.Table, metadata: dict[bytes, bytes] | None = None, **options: object
) -> bytes:
    if metadata:
        frame = frame.replace_schema_metadata({**(frame.schema.metadata or {}), **metadata})
    sink = io.BytesIO()
    pq.write_table(frame, sink, **options)  # type: ignore[arg-type]
    return sink.getvalue()


def columns(**changes: object) -> Build:
    return lambda model: parquet(table(model, **changes))


def written(**options: object) -> Build:
    return lambda model: parquet(table(model), **options)


def content(data: bytes) -> Build:
    return lambda model: data


def classes_metadata(value: bytes) -> Build:
    labels = ["cat", "dog", "cow"]
    return lambda model: parquet(table(model, label=labels), {b"lossgram.classes": value})


def named(make_name: Callable[[str], object]) -> Build:
    """A dump whose model column is made from the case name."""
    return lambda model: parquet(table(model, model=make_name(model)))


def duplicate_names(model: str) -> bytes:
    arrays = [pa.array([0, 1, 2]), pa.array([0, 1, 2]), pa.array([1, 1, 0])]
    arrays += [pa.array(LOGITS, pa.list_(F64, 3)), pa.array(["test"] * 3), pa.array([model] * 3)]
    names = ["sample_id", "label", "label", "logits", "split", "model"]
    return parquet(pa.Table.from_arrays(arrays, names=names))


def _good(model: str) -> bytes:
    return parquet(table(model))


OVERFLOW = "contains NaN or inf (or scores ~1e308 apart: the loss would overflow)"
TRUNCATED = "unreadable Parquet: truncated or corrupt: no whole Parquet footer at its end"
NOT_INT_LABEL = "column 'label': 3 rows: must be an integer class index or a string, not"
NO_CLASSES = "metadata lossgram.classes is not a JSON array of strings (in UTF-8)"
BAD_WEIGHT = "column 'weight': 1 row: is null, negative, NaN or inf"
ZERO_ROWS = {
    "sample_id": pa.array([], pa.int64()),
    "label": pa.array([], pa.int64()),
    "logits": pa.array([], pa.list_(F64, 3)),
    "split": pa.array([], pa.string()),
    "model": pa.array([], pa.string()),
}
ONE_HOT = pa.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], pa.list_(F64, 3))
FLOAT16 = pa.array([np.array(row, np.float16) for row in LOGITS], pa.list_(pa.float16(), 3))
DECIMALS = pa.array(LOGITS, pa.list_(F64)).cast(pa.list_(pa.decimal128(10, 3)))

CASES: dict[str, tuple[Build, str]] = {
    # the file itself
    "empty-file": (content(b""), "unreadable Parquet: the file is empty (0 bytes)"),
    "magic-only": (content(b"PAR1"), TRUNCATED),
    "magic-twice": (content(b"PAR1PAR1"), TRUNCATED),
    "csv-named-parquet": (content(b"sample_id,label\n1,0\n"), "it looks like CSV text"),
    "json-named-parquet": (content(b'[{"sample_id": 1}]'), "it looks like JSON"),
    "gzip-named-parquet": (
        content(b"\x1f\x8b\x08\x00" + bytes(40)),
        "it looks like some other binary format",
    ),
    "truncated": (lambda model: _good(model)[:-40], TRUNCATED),
    "footer-garbage": (lambda model: _good(model)[:-12] + b"\xff" * 8 + b"PAR1", TRUNCATED),
    "zero-rows": (columns(**ZERO_ROWS), "file: 0 rows: the file has no rows"),
    "no-columns": (lambda model: parquet(pa.table({})), "the file has no rows"),
    "duplicate-column-names": (
        duplicate_names,
        "column 'label' appears more than once: give each column its own name",
    ),
    "one-row-groups": (written(row_group_size=1), INGESTED),
    "no-compression": (written(compression="none"), INGESTED),
    "zstd-dictionary-v1": (
        written(compression="zstd", use_dictionary=True, version="1.0"),
        INGESTED,
    ),
    # class scores
    "logits-float32-list": (columns(logits=pa.array(LOGITS, pa.list_(pa.float32()))), INGESTED),
    "logits-float16": (columns(logits=FLOAT16), INGESTED),
    "logits-large-list": (columns(logits=pa.array(LOGITS, pa.large_list(F64))), INGESTED),
    "logits-int": (columns(logits=pa.array([[2, 0, -1], [0, 0, 0], [-3, 4, 0]])), INGESTED),
    "logits-decimal": (columns(logits=DECIMALS), INGESTED),
    "logits-equal": (columns(logits=pa.array([[5.0, 5.0, 5.0]] * 3)), INGESTED),
    "logits-strings": (
        columns(logits=pa.array([["1", "2", "3"]] * 3)),
        "column 'logits': 3 rows: must be a list or array of numbers, not List(String)",
    ),
    "logits-nested": (
        columns(logits=pa.array([[[1.0], [2.0], [3.0]]] * 3)),
        "column 'logits': 3 rows: must be a list or array of numbers",
    ),
    "logits-scalar": (
        columns(logits=pa.array([1.0, 2.0, 3.0])),
        "column 'logits': 3 rows: must be a list or array of numbers, not Float64",
    ),
    "logits-one-class": (
        columns(logits=pa.array([[1.0]] * 3, pa.list_(F64, 1)), label=[0, 0, 0]),
        "column 'logits': 3 rows: needs at least 2 classes, has 1",
    ),
    "logits-empty-lists": (
        columns(logits=pa.array([[], [], []], pa.list_(F64))),
        "column 'logits': 3 rows: needs at least 2 classes, has 0",
    ),
    "logits-ragged": (
        columns(logits=pa.array([[1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 2.0, 3.0]])),
        "column 'logits': 1 row: has a class count other than 3",
    ),
    "logits-null-row": (
        columns(logits=pa.array([[1.0, 2.0, 3.0], None, [1.0, 2.0, 3.0]])),
        "column 'logits': 1 row: value is null",
    ),
    "logits-null-element": (
        columns(logits=pa.array([[1.0, None, 3.0]] * 3)),
        "column 'logits': 3 rows: has a null value inside the list",
    ),
    "logits-nan": (columns(logits=pa.array([[1.0, float("nan"), 3.0]] * 3)), OVERFLOW),
    "logits-inf": (columns(logits=pa.array([[1.0, float("inf"), 3.0]] * 3)), OVERFLOW),
    "logits-minus-inf": (columns(logits=pa.array([[1.0, float("-inf"), 3.0]] * 3)), OVERFLOW),
    "logits-1e308-apart": (columns(logits=pa.array([[1e308, -1e308, 0.0]] * 3)), OVERFLOW),
    "logits-and-probs": (
        columns(probs=pa.array([[0.2, 0.3, 0.5]] * 3)),
        "several prediction columns (logits, probs): keep exactly one",
    ),
    "no-prediction": (
        columns(logits=None),
        "no prediction column: expected one of logits, probs, logit, prob, logprob",
    ),
    "probs-not-summing": (
        columns(logits=None, probs=pa.array([[0.1, 0.1, 0.1]] * 3)),
        "column 'probs': 3 rows: row does not sum to 1 (+-0.001)",
    ),
    "probs-negative": (
        columns(logits=None, probs=pa.array([[-0.5, 1.0, 0.5]] * 3)),
        "column 'probs': 3 rows: has a negative probability",
    ),
    "probs-zero-true-class": (
        columns(logits=None, probs=pa.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])),
        INGESTED,
    ),
    "prob-above-one": (
        columns(logits=None, label=[0, 1, 1], prob=[0.5, 1.5, 0.2]),
        "column 'prob': 1 row: is outside [0, 1]",
    ),
    "prob-null": (
        columns(logits=None, label=[0, 1, 1], prob=[0.5, None, 0.2]),
        "column 'prob': 1 row: is null, NaN or inf",
    ),
    "prob-int": (
        columns(logits=None, label=[0, 1, 1], prob=pa.array([0, 1, 1], pa.int8())),
        INGESTED,
    ),
    "prob-string": (
        columns(logits=None, label=[0, 1, 1], prob=["0.5", "0.1", "0.2"]),
        "column 'prob': 3 rows: must be a number, not String",
    ),
    "logit-inf": (
        columns(logits=None, label=[0, 1, 1], logit=[float("inf"), 0.0, 1.0]),
        "column 'logit': 1 row: is null, NaN or inf",
    ),
    "logit-float32": (
        columns(logits=None, label=[0, 1, 1], logit=pa.array([0.5, -2.0, 3.0], pa.float32())),
        INGESTED,
    ),
    "logprob-positive": (
        columns(logits=None, logprob=[-0.1, 0.5, -2.0]),
        "column 'logprob': 1 row: is > 0 (a log-probability is <= 0)",
    ),
    "logprob-minus-inf": (
        columns(logits=None, logprob=[-0.1, float("-inf"), -2.0]),
        "column 'logprob': 1 row: is null, NaN or inf",
    ),
    # targets
    "label-float-whole": (columns(label=[0.0, 1.0, 2.0]), NOT_INT_LABEL),
    "label-float-fraction": (columns(label=[0.0, 1.5, 2.0]), NOT_INT_LABEL),
    "label-bool": (columns(label=[True, False, True]), NOT_INT_LABEL),
    "label-negative": (columns(label=[0, -1, 2]), "column 'label': 1 row: is outside [0, 3)"),
    "label-out-of-range": (columns(label=[0, 1, 3]), "column 'label': 1 row: is outside [0, 3)"),
    "label-ignored-all": (columns(label=[-100, -100, -100]), INGESTED),
    "label-null": (
        columns(label=pa.array([0, None, 2], pa.int64())),
        "column 'label': 1 row: label is null",
    ),
    "label-uint8": (columns(label=pa.array([0, 1, 2], pa.uint8())), INGESTED),
    "label-strings-no-classes": (
        columns(label=["cat", "dog", "cow"]),
        "column 'label': 3 rows: string labels need the class list",
    ),
    "label-and-label-probs": (columns(label_probs=ONE_HOT), INGESTED),
    "label-probs-bad-sum": (
        columns(label=None, label_probs=pa.array([[0.5, 0.0, 0.0]] * 3, pa.list_(F64, 3))),
        "column 'label_probs': 3 rows: row does not sum to 1 (+-0.001)",
    ),
    "label-probs-wrong-length": (
        columns(label=None, label_probs=pa.array([[0.5, 0.5]] * 3, pa.list_(F64, 2))),
        "column 'label_probs': 3 rows: has 2 classes, expected 3",
    ),
    "label-probs-negative": (
        columns(label=None, label_probs=pa.array([[1.5, -0.5, 0.0]] * 3, pa.list_(F64, 3))),
        "column 'label_probs': 3 rows: has a negative probability",
    ),
    "classes-metadata-object": (classes_metadata(b'{"cat": 0}'), NO_CLASSES),
    "classes-metadata-numbers": (classes_metadata(b"[1, 2, 3]"), NO_CLASSES),
    "classes-metadata-good": (
        classes_metadata(json.dumps(["cat", "dog", "cow"]).encode()),
        INGESTED,
    ),
    # who a row is
    "id-float": (
        columns(sample_id=[0.5, 1.5, 2.5]),
        "column 'sample_id': 3 rows: must be integer or string, not Float64",
    ),
    "id-binary": (
        columns(sample_id=pa.array([b"a", b"b", b"c"])),
        "column 'sample_id': 3 rows: must be integer or string, not Binary",
    ),
    "id-struct": (
        columns(sample_id=[{"a": 1}, {"a": 2}, {"a": 3}]),
        "column 'sample_id': 3 rows: must be integer or string, not Struct",
    ),
    "id-timestamp": (
        columns(sample_id=pa.array([1, 2, 3], pa.timestamp("s"))),
        "column 'sample_id': 3 rows: must be integer or string, not Datetime",
    ),
    "id-null": (
        columns(sample_id=pa.array([0, None, 2], pa.int64())),
        "column 'sample_id': 1 row: sample_id is null",
    ),
    "id-duplicate": (
        columns(sample_id=[1, 1, 2]),
        "column 'sample_id': 2 rows: sample_id repeats within (model, split, epoch)",
    ),
    "id-empty-strings": (
        columns(sample_id=["", "", "x"]),
        "column 'sample_id': 2 rows: sample_id repeats within (model, split, epoch)",
    ),
    "id-long-unicode": (columns(sample_id=["é" * 5000, "日本" * 3000, "\u200b"]), INGESTED),
    "id-large-string": (columns(sample_id=pa.array(["a", "b", "c"], pa.large_string())), INGESTED),
    "split-null": (
        columns(split=pa.array(["test", None, "test"])),
        "column 'split': 1 row: split is null or empty",
    ),
    "split-empty": (columns(split=["", "", ""]), "column 'split': 3 rows: split is null or empty"),
    "split-int": (columns(split=[1, 1, 1]), "column 'split': 3 rows: must be a string, not Int64"),
    "split-slash": (columns(split=["a/b"] * 3), INGESTED),
    "model-null": (
        named(lambda model: pa.array([model, None, model])),
        "column 'model': 1 row: model is null or empty",
    ),
    "model-sql-quote": (named(lambda model: [model + "'; drop table verdicts; --"] * 3), INGESTED),
    "model-path-dots": (named(lambda model: ["../../" + model] * 3), INGESTED),
    "model-2000-chars": (named(lambda model: [model + "x" * 2000] * 3), INGESTED),
    "model-two-in-one": (named(lambda model: [model, model + "-b", model]), INGESTED),
    "epoch-negative": (columns(epoch=[-1, -1, -1]), INGESTED),
    "epoch-null": (columns(epoch=pa.array([1, None, 1], pa.int64())), INGESTED),
    "epoch-float": (
        columns(epoch=[1.0, 1.0, 1.0]),
        "column 'epoch': 3 rows: must be an integer, not Float64",
    ),
    "epoch-string": (
        columns(epoch=["3", "3", "3"]),
        "column 'epoch': 3 rows: must be an integer, not String",
    ),
    "weight-negative": (columns(weight=[1.0, -1.0, 1.0]), BAD_WEIGHT),
    "weight-nan": (columns(weight=[1.0, float("nan"), 1.0]), BAD_WEIGHT),
    "weight-null": (columns(weight=pa.array([1.0, None, 1.0])), BAD_WEIGHT),
    "weight-int": (columns(weight=[1, 2, 3]), INGESTED),
    # slice columns and names
    "slice-named-ce": (
        columns(ce=[1.0, 2.0, 3.0]),
        "column 'ce': 3 rows: has the name of a column lossgram computes: rename it in the dump",
    ),
    "slice-named-run-id": (columns(run_id=["x", "y", "z"]), INGESTED),
    "slice-map": (
        columns(region=pa.array([[("a", 1)]] * 3, pa.map_(pa.string(), pa.int64()))),
        INGESTED,
    ),
    "slice-null-type": (columns(nothing=pa.nulls(3)), INGESTED),
    "slice-struct-nulls": (columns(meta=pa.array([{"a": None}, None, {"a": 1}])), INGESTED),
    "column-spaces": (columns(**{"my slice": ["a", "b", "c"]}), INGESTED),
    "column-upper-case": (
        columns(label=None, Label=[0, 1, 2]),
        "column 'label': 3 rows: required column is missing (columns found: Label, logits, "
        "model, sample_id, split; name one with column_map label=<column>: in lossgram.toml, "
        "LOSSGRAM_COLUMN_MAP, or --map for lossgram losses)",
    ),
}
