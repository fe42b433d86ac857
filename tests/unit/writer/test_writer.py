"""write_dump: whatever training code holds in, a dump the reader accepts out (or nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import namedtuple
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.special import log_softmax

from pipeline.cli.losses_command import losses_to_parquet
from pipeline.contract import DumpError
from pipeline.settings import Settings
from pipeline.writer import write_dump

N, C = 40, 4
RNG = np.random.default_rng(7)
LOGITS = RNG.normal(scale=3.0, size=(N, C))
LABELS = RNG.integers(0, C, N)
PROBS = np.exp(log_softmax(LOGITS, axis=1))
IDS = np.arange(N)


def f32(values: np.ndarray) -> np.ndarray:
    """What a float32 dump stores, back in float64: the oracle's input."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def logits_oracle(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return -log_softmax(logits, axis=1)[np.arange(len(labels)), labels]


def probs_oracle(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return -np.log(probs[np.arange(len(labels)), labels])


def losses(path: Path, tmp_path: Path) -> pl.DataFrame:
    """The dump through the real `lossgram losses` stage, in sample order."""
    out = tmp_path / "out" / f"{path.stem}-losses.parquet"
    losses_to_parquet([path], out, Settings().reader_options())
    frame = pl.read_parquet(out)
    return frame.sort(frame["sample_id"].cast(pl.Int64, strict=False), "sample_id")


def assert_ce(path: Path, tmp_path: Path, expected: np.ndarray) -> pl.DataFrame:
    frame = losses(path, tmp_path)
    assert frame.height == len(expected)
    np.testing.assert_allclose(frame["ce"].to_numpy(), expected, rtol=0, atol=1e-6)
    return frame


# -- round trips, one per input kind -----------------------------------------------------


def test_numpy_logits(tmp_path):
    path = write_dump(
        tmp_path / "a" / "b" / "dump.parquet",  # parent folders are created
        sample_ids=IDS,
        labels=LABELS,
        logits=LOGITS,
        split="test",
        model="mlp",
    )
    assert path == tmp_path / "a" / "b" / "dump.parquet"
    frame = assert_ce(path, tmp_path, logits_oracle(f32(LOGITS), LABELS))
    assert frame["model"].unique().to_list() == ["mlp"]
    assert frame["split"].unique().to_list() == ["test"]


def test_numpy_probs(tmp_path):
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        labels=LABELS,
        probs=PROBS,
        split="train",
        model="m",
    )
    assert_ce(path, tmp_path, probs_oracle(f32(PROBS), LABELS))


def test_float64_keeps_full_precision(tmp_path):
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        labels=LABELS,
        logits=LOGITS * 1000,
        split="test",
        model="m",
        dtype="float64",
    )
    assert pq.read_schema(path).field("logits").type == pa.list_(pa.float64(), C)
    assert_ce(path, tmp_path, logits_oracle(LOGITS * 1000, LABELS))


def test_python_lists(tmp_path):
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=[f"img-{i}" for i in range(3)],
        labels=[1, 0, 2],
        probs=[[0.3, 0.6, 0.1], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]],
        split="test",
        model="m",
    )
    frame = losses(path, tmp_path)
    expected = -np.log(f32(np.array([0.6, 0.5, 0.6])))
    np.testing.assert_allclose(frame["ce"].to_numpy(), expected, atol=1e-6)
    assert frame["ce"][0] == pytest.approx(0.510826, abs=1e-6)  # the README's seed example


def test_polars_dataframe_of_class_columns(tmp_path):
    frame = pl.DataFrame({f"class_{c}": LOGITS[:, c] for c in range(C)})
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=pl.Series(IDS),
        labels=pl.Series(LABELS),
        logits=frame,
        split="test",
        model="m",
    )
    assert_ce(path, tmp_path, logits_oracle(f32(LOGITS), LABELS))


@pytest.mark.parametrize("dtype", [pl.Array(pl.Float64, C), pl.List(pl.Float64)])
def test_polars_array_and_list_series(tmp_path, dtype):
    series = pl.Series("logits", LOGITS.tolist(), dtype=dtype)
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        labels=LABELS,
        logits=series,
        split="test",
        model="m",
    )
    assert_ce(path, tmp_path, logits_oracle(f32(LOGITS), LABELS))
    # A one-column DataFrame holding the arrays works the same.
    again = write_dump(
        tmp_path / "again.parquet",
        sample_ids=IDS,
        labels=LABELS,
        logits=series.to_frame(),
        split="test",
        model="m",
    )
    assert_ce(again, tmp_path, logits_oracle(f32(LOGITS), LABELS))


class FakeTensor:
    """Quacks like a torch.Tensor that requires grad: numpy only via detach().cpu().numpy()."""

    def __init__(self, values: Any) -> None:
        self.values = np.asarray(values)
        self.calls: list[str] = []

    def detach(self) -> FakeTensor:
        self.calls.append("detach")
        return self

    def cpu(self) -> FakeTensor:
        self.calls.append("cpu")
        return self

    def numpy(self) -> np.ndarray:
        self.calls.append("numpy")
        return self.values

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad")


def test_tensor_like(tmp_path):
    logits, labels = FakeTensor(LOGITS), FakeTensor(LABELS)
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=FakeTensor(IDS),
        labels=labels,
        logits=logits,
        split="test",
        model="m",
        epoch=3,
    )
    assert logits.calls == ["detach", "cpu", "numpy"]
    frame = assert_ce(path, tmp_path, logits_oracle(f32(LOGITS), LABELS))
    assert frame["epoch"].unique().to_list() == [3]


class ArrayOnly:
    """Only the numpy array protocol (JAX, TensorFlow, CuPy-on-host and friends)."""

    def __init__(self, values: Any) -> None:
        self.values = np.asarray(values)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.values if dtype is None else self.values.astype(dtype)


class PandasLike:
    """Only .to_numpy(), as a pandas Series or DataFrame has (pandas is never imported)."""

    def __init__(self, values: Any) -> None:
        self.values = np.asarray(values)

    def to_numpy(self) -> np.ndarray:
        return self.values


@pytest.mark.parametrize("wrap", [ArrayOnly, PandasLike])
def test_array_protocol_and_to_numpy(tmp_path, wrap):
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=wrap(IDS),
        labels=wrap(LABELS),
        probs=wrap(PROBS),
        split="val",
        model="m",
    )
    assert_ce(path, tmp_path, probs_oracle(f32(PROBS), LABELS))


def test_string_labels_with_classes(tmp_path):
    classes = ["cat", "dog", "bird", "fish"]
    names = np.array(classes)[LABELS]
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        labels=names,
        logits=LOGITS,
        classes=classes,
        split="test",
        model="m",
    )
    schema = pq.read_schema(path)
    assert schema.field("label").type == pa.string()
    assert json.loads(schema.metadata[b"lossgram.classes"]) == classes
    frame = assert_ce(path, tmp_path, logits_oracle(f32(LOGITS), LABELS))
    assert frame["label"].to_list() == LABELS.tolist()  # names map to indices


def test_classes_with_integer_labels_are_kept_as_metadata(tmp_path):
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        labels=LABELS,
        logits=LOGITS,
        classes=np.array(["a", "b", "c", "d"]),
        split="test",
        model="m",
    )
    schema = pq.read_schema(path)
    assert schema.field("label").type == pa.int64()
    assert json.loads(schema.metadata[b"lossgram.classes"]) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("shape", ["1-D", "(n, 1)"])
def test_binary_logits(tmp_path, shape):
    scores = LOGITS[:, 0]
    labels = (LABELS % 2).astype(np.float32)  # BCEWithLogitsLoss wants float targets
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        labels=labels,
        logits=scores if shape == "1-D" else scores[:, None],
        split="test",
        model="m",
    )
    schema = pq.read_schema(path)
    assert schema.names[:3] == ["sample_id", "label", "logit"]
    assert schema.field("logit").type == pa.float32()
    two_class = np.stack([np.zeros(N), f32(scores)], axis=1)
    assert_ce(path, tmp_path, logits_oracle(two_class, (LABELS % 2)))


def test_binary_probs(tmp_path):
    p = PROBS[:, 0]
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        labels=LABELS % 2,
        probs=p,
        split="test",
        model="m",
    )
    assert "prob" in pq.read_schema(path).names
    two_class = np.stack([1 - f32(p), f32(p)], axis=1)
    assert_ce(path, tmp_path, probs_oracle(two_class, LABELS % 2))


def test_soft_labels(tmp_path):
    soft = np.exp(log_softmax(RNG.normal(size=(N, C)), axis=1))
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        label_probs=soft,
        logits=LOGITS,
        split="train",
        model="m",
    )
    expected = -(f32(soft) * log_softmax(f32(LOGITS), axis=1)).sum(axis=1)
    frame = assert_ce(path, tmp_path, expected)
    assert frame["label"].to_list() == soft.argmax(axis=1).tolist()


def test_binary_soft_labels(tmp_path):
    q = RNG.uniform(size=N)  # soft target of class 1, as BCEWithLogitsLoss takes it
    s = LOGITS[:, 0]
    path = write_dump(
        tmp_path / "dump.parquet", sample_ids=IDS, label_probs=q, logits=s, split="t", model="m"
    )
    two_class = np.stack([np.zeros(N), f32(s)], axis=1)
    target = np.stack([1 - f32(q), f32(q)], axis=1)
    assert_ce(path, tmp_path, -(target * log_softmax(two_class, axis=1)).sum(axis=1))


def test_the_written_schema(tmp_path):
    path = write_dump(
        tmp_path / "dump.parquet",
        sample_ids=IDS,
        labels=LABELS.astype(np.int32),
        logits=LOGITS,
        label_probs=np.eye(C)[LABELS],
        split="test",
        model="mlp",
        epoch=np.full(N, 7, dtype=np.int16),
        weights=np.linspace(0.5, 2, N),
        region=np.array(["eu", "us"] * (N // 2)),
        hour=pl.Series(range(N), dtype=pl.UInt8),
        dataset="cifar",
    )
    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    assert schema.names == [
        "sample_id",
        "label",
        "logits",
        "label_probs",
        "split",
        "model",
        "epoch",
        "weight",
        "region",
        "hour",
        "dataset",
    ]
    assert schema.field("sample_id").type == pa.int64()
    assert schema.field("label").type == pa.int64()
    assert schema.field("logits").type == pa.list_(pa.float32(), C)  # fixed size
    assert schema.field("label_probs").type == pa.list_(pa.float32(), C)
    assert schema.field("epoch").type == pa.int64()
    assert schema.field("weight").type == pa.float64()
    assert schema.field("hour").type == pa.uint8()  # extra columns keep their type
    row_group = parquet.metadata.row_group(0)
    assert {row_group.column(i).compression for i in range(row_group.num_columns)} == {"ZSTD"}
    frame = losses(path, tmp_path)
    assert frame["weight"].to_list() == pytest.approx(np.linspace(0.5, 2, N).tolist())
    assert frame["region"].to_list() == ["eu", "us"] * (N // 2)
    assert frame["dataset"].unique().to_list() == ["cifar"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_overwrites_an_existing_dump(tmp_path):
    path = tmp_path / "dump.parquet"
    for model in ("first", "second"):
        write_dump(path, sample_ids=IDS, labels=LABELS, logits=LOGITS, split="t", model=model)
    assert pl.read_parquet(path)["model"].unique().to_list() == ["second"]


# -- errors: a clear message and nothing written ------------------------------------------


def ok_arguments(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = dict(
        sample_ids=IDS, labels=LABELS, logits=LOGITS, split="test", model="m"
    )
    arguments.update(changes)
    return {name: value for name, value in arguments.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": LABELS[:-1]}, "labels has 39 rows but sample_ids has 40"),
        ({"logits": LOGITS[:-2]}, "logits has 38 rows but sample_ids has 40"),
        ({"weights": np.ones(N + 1)}, "weights has 41 rows but sample_ids has 40"),
        ({"epoch": np.ones(3, dtype=int)}, "epoch has 3 rows"),
        ({"region": ["eu"] * 5}, "region has 5 rows"),
        ({"label_probs": np.full((N, C + 1), 0.2)}, "label_probs has 5 classes but logits has 4"),
        ({"probs": PROBS}, "exactly one of logits= or probs= (got both)"),
        ({"logits": None}, "exactly one of logits= or probs= (got neither)"),
        ({"labels": None}, "labels= and/or label_probs="),
        ({"labels": np.array(["a"] * N)}, "pass classes="),
        ({"classes": ["a", "b"]}, "classes has 2 names but logits has 4 classes"),
        ({"classes": ["a", "a", "b", "c"]}, "classes repeats 'a'"),
        ({"labels": LABELS + 0.5}, "labels: 40 float values are not whole class indices"),
        ({"logits": LOGITS[:, :1].reshape(N, 1, 1)}, "logits must be 1-D or 2-D"),
        ({"logits": np.ones((N, 2, 3))}, "logits must be 1-D or 2-D"),
        ({"sample_ids": np.linspace(0, 1, N)}, "sample_ids must be integers or strings"),
        ({"sample_ids": [], "labels": [], "logits": []}, "sample_ids is empty"),
        ({"logits": [[1.0, 2.0]] * (N - 1) + [[1.0]]}, "logits: cannot be read as an array"),
    ],
)
def test_bad_arguments_raise_value_error(tmp_path, changes, message):
    with pytest.raises(ValueError) as raised:
        write_dump(tmp_path / "dump.parquet", **ok_arguments(**changes))
    assert message in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_ragged_polars_list_series_is_a_value_error(tmp_path):
    ragged = pl.Series([[0.1, 0.9]] * (N - 1) + [[0.2, 0.3, 0.5]])
    with pytest.raises(ValueError, match="logits: rows must be numbers of one length"):
        write_dump(tmp_path / "dump.parquet", **ok_arguments(logits=ragged))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["dump.pq", ".hidden.parquet", "_dump.parquet"])
def test_names_the_reader_would_skip_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match=r"must end in \.parquet"):
        write_dump(tmp_path / name, **ok_arguments())


def test_trainer_predict_output_is_refused_with_a_hint(tmp_path):
    PredictionOutput = namedtuple("PredictionOutput", ["predictions", "label_ids", "metrics"])
    output = PredictionOutput(LOGITS, LABELS, {})
    with pytest.raises(TypeError, match=r"pass output\.predictions as logits="):
        write_dump(tmp_path / "dump.parquet", **ok_arguments(logits=output))
    path = write_dump(
        tmp_path / "dump.parquet",
        **ok_arguments(logits=output.predictions, labels=output.label_ids),
    )
    assert_ce(path, tmp_path, logits_oracle(f32(LOGITS), LABELS))


def test_probs_not_summing_to_one_is_a_dump_error(tmp_path):
    bad = PROBS.copy()
    bad[[3, 10, 20]] *= 0.5
    path = tmp_path / "dump.parquet"
    with pytest.raises(DumpError) as raised:
        write_dump(path, **ok_arguments(logits=None, probs=bad))
    error = raised.value
    assert error.path == path
    assert [(p.column, p.rows) for p in error.problems] == [("probs", 3)]
    assert "column 'probs': 3 rows: row does not sum to 1" in str(error)
    assert list(tmp_path.iterdir()) == []  # no temp file, no half-written dump


def test_a_bad_dump_leaves_the_old_file_alone(tmp_path):
    path = write_dump(tmp_path / "dump.parquet", **ok_arguments(model="good"))
    before = path.read_bytes()
    logits = LOGITS.copy()
    logits[0, 1] = np.nan
    labels = LABELS.copy()
    labels[[1, 2]] = C  # out of range
    with pytest.raises(DumpError) as raised:
        write_dump(path, **ok_arguments(logits=logits, labels=labels, model="bad"))
    problems = {(p.column, p.rows) for p in raised.value.problems}
    assert problems == {("logits", 1), ("label", 2)}
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["dump.parquet"]


def test_row_problems_name_the_target(tmp_path):
    # sample ids repeating within (model, split, epoch) and an unknown class name.
    path = tmp_path / "dump.parquet"
    names = np.array(["a", "b", "c", "d"])[LABELS].astype(object)
    names[5] = "zebra"
    with pytest.raises(DumpError) as raised:
        write_dump(
            path,
            **ok_arguments(sample_ids=IDS % 20, labels=names, classes=["a", "b", "c", "d"]),
        )
    assert raised.value.path == path
    assert [(p.column, p.rows, p.message) for p in raised.value.problems] == [
        # named, and said once: not also "label is null"
        ("label", 1, "is not one of the 4 classes (a, b, c, d) (found 'zebra')"),
        ("sample_id", N, "sample_id repeats within (model, split, epoch)"),
    ]
    assert list(tmp_path.iterdir()) == []


def test_schema_problems_name_the_target_not_the_temp_file(tmp_path):
    # An extra column named like a prediction column breaks the reader's schema rules.
    path = tmp_path / "dump.parquet"
    with pytest.raises(DumpError) as raised:
        write_dump(path, **ok_arguments(logprob=np.zeros(N)))
    assert raised.value.path == path
    assert str(raised.value).startswith(f"{path}: column 'logits': {N} rows: several prediction")
    assert list(tmp_path.iterdir()) == []


def test_writer_imports_no_ui():
    ui = ["typer", "altair", "jinja2", "rich", "pandas", "torch"]
    code = f"import sys, pipeline.writer; print(','.join(m for m in {ui!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"importing pipeline.writer pulled in {loaded}"


@pytest.mark.parametrize(("name", "meant"), [("epochs", "epoch"), ("sample_idx", "sample_id")])
def test_a_near_miss_of_an_argument_is_an_error_not_a_slice_column(tmp_path, name, meant):
    """write_dump(epochs=3) once wrote a slice column `epochs` and no epoch."""
    path = tmp_path / "dump.parquet"
    with pytest.raises(ValueError, match=rf"{name}= is not an argument .* did you mean {meant}="):
        write_dump(path, **ok_arguments(**{name: np.arange(N)}))
    assert not path.exists()
    write_dump(path, **ok_arguments(region=["north"] * N))  # a real slice column still is one
