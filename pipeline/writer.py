"""Write prediction dumps from training code: `write_dump`, the writer side of the dump contract.

Inputs may be numpy arrays, Python lists, Polars Series/DataFrames, pandas
objects or framework tensors. Neither pandas nor torch is imported: anything
with `.detach` is read as `x.detach().cpu().numpy()`, anything with
`.to_numpy` as `x.to_numpy()`, anything else through `numpy.asarray`.

The file is written to a hidden temporary name in the target folder, checked
with the reader's own rules (`pipeline.contract.open_dump` and its row checks,
with default settings), and only then renamed into place, so a dump that
breaks the contract raises `DumpError` and leaves nothing behind.
"""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.contract import DumpError, open_dump, problem_counts, problems_found
from pipeline.contract.scores import CLASSES_METADATA_KEY
from pipeline.files import atomic_output
from pipeline.options import ReaderOptions

FloatType = Literal["float32", "float64"]
ARROW_FLOATS: dict[str, pa.DataType] = {"float32": pa.float32(), "float64": pa.float64()}


def write_dump(
    path: str | os.PathLike[str],
    *,
    sample_ids: Any,
    labels: Any = None,
    logits: Any = None,
    probs: Any = None,
    split: Any,
    model: Any,
    epoch: Any = None,
    label_probs: Any = None,
    classes: Any = None,
    weights: Any = None,
    dtype: FloatType = "float32",
    **extra: Any,
) -> Path:
    """Write one prediction dump that lossgram will accept, atomically; return its path.

    - `sample_ids`: 1-D integers or strings, one per row.
    - exactly one of `logits` / `probs`: shape (n, C) with C >= 2, or 1-D (or
      (n, 1)) for the binary case, written as `logit` / `prob` of class 1.
    - `labels` (class indices, or class names with `classes`) and/or
      `label_probs` (soft targets, shape (n, C); 1-D in the binary case).
    - `split`, `model`: a string, or one string per row; `epoch`: an integer or
      one per row; `weights`: a number or one per row.
    - `classes`: class names in index order, stored as `lossgram.classes`.
    - `dtype`: float type of the prediction and target columns.
    - any other keyword: a slice column, one value per row (a scalar is repeated).

    Raises ValueError or TypeError for arguments that do not fit together, and
    `DumpError` (naming the column and the row count) for data that breaks the
    reader's checks; in either case no file is written or replaced.
    """
    target = _dump_path(path)
    if dtype not in ARROW_FLOATS:
        raise ValueError(f"dtype must be 'float32' or 'float64', not {dtype!r}")
    float_type = ARROW_FLOATS[dtype]
    columns: dict[str, pa.Array] = {"sample_id": _sample_ids(sample_ids)}
    n_rows = len(columns["sample_id"])
    if (logits is None) == (probs is None):
        given = "both" if logits is not None else "neither"
        raise ValueError(f"pass exactly one of logits= or probs= (got {given})")
    if labels is None and label_probs is None:
        raise ValueError("pass labels= and/or label_probs=")
    kind, raw = ("logits", logits) if logits is not None else ("probs", probs)
    prediction = _predictions(raw, kind, n_rows)
    binary = prediction.ndim == 1
    n_classes = 2 if binary else prediction.shape[1]
    class_names = _class_names(classes, n_classes, kind)
    if labels is not None:
        columns["label"] = _labels(labels, n_rows, class_names)
    if binary:
        columns["logit" if kind == "logits" else "prob"] = pa.array(prediction, type=float_type)
    else:
        columns[kind] = _fixed_size(prediction, float_type)
    if label_probs is not None:
        soft = _soft_targets(label_probs, kind, n_rows, n_classes if not binary else None)
        columns["label_probs"] = _fixed_size(soft, float_type)
    columns["split"] = _text(split, "split", n_rows)
    columns["model"] = _text(model, "model", n_rows)
    if epoch is not None:
        columns["epoch"] = _epochs(epoch, n_rows)
    if weights is not None:
        columns["weight"] = _weights(weights, n_rows)
    for name, value in extra.items():
        columns[name] = _extra(value, name, n_rows)

    table = pa.table(columns)
    if class_names is not None:
        table = table.replace_schema_metadata({CLASSES_METADATA_KEY: json.dumps(class_names)})
    _write_checked(table, target)
    return target


def _dump_path(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    if not target.name.endswith(".parquet") or target.name.startswith((".", "_")):
        raise ValueError(
            f"path: {target.name!r} must end in .parquet and not start with '.' or '_' "
            "(lossgram reads folders for *.parquet and skips hidden files)"
        )
    return target


def _soft_targets(
    value: Any, kind: str, n_rows: int, n_classes: int | None
) -> np.ndarray[Any, Any]:
    """label_probs as shape (n, C); n_classes None is the binary case, where a 1-D
    label_probs is the target of class 1."""
    soft = _predictions(value, "label_probs", n_rows, squeeze=False)
    if soft.ndim == 1:
        if n_classes is not None:
            raise ValueError(
                f"label_probs is 1-D but {kind} has {n_classes} classes: "
                f"give label_probs as shape ({n_rows}, {n_classes})"
            )
        soft = np.stack([1.0 - soft, soft], axis=1)
    expected = 2 if n_classes is None else n_classes
    if soft.shape[1] != expected:
        raise ValueError(f"label_probs has {soft.shape[1]} classes but {kind} has {expected}")
    return soft


# -- conversion --------------------------------------------------------------------------


def _as_array(value: Any, name: str) -> np.ndarray[Any, Any]:
    """Any supported array-like as a numpy array, without importing torch or pandas."""
    if hasattr(value, "predictions") and hasattr(value, "label_ids"):
        raise TypeError(
            f"{name}: got a Trainer.predict output; pass output.predictions as logits= "
            "and output.label_ids as labels="
        )
    if isinstance(value, pl.DataFrame) and value.width == 1:
        value = value.to_series()  # one Array/List column holding the whole row
    if hasattr(value, "detach"):  # torch.Tensor (also on a GPU, or requiring grad)
        try:
            value = value.detach().cpu().numpy()
        except TypeError as error:  # e.g. bfloat16, which numpy lacks
            raise TypeError(
                f"{name}: cannot convert the tensor to numpy ({error}); try .float() first"
            ) from error
    elif hasattr(value, "to_numpy"):  # polars, pandas
        value = value.to_numpy()
    try:
        return np.asarray(value)
    except ValueError as error:
        raise ValueError(f"{name}: cannot be read as an array: {error}") from error


def _check_rows(array: np.ndarray[Any, Any], name: str, n_rows: int) -> None:
    if array.ndim == 0 or len(array) != n_rows:
        got = "a scalar" if array.ndim == 0 else f"{len(array)} rows"
        raise ValueError(f"{name} has {got} but sample_ids has {n_rows}")


def _numeric(array: np.ndarray[Any, Any], name: str) -> np.ndarray[Any, Any]:
    """A numeric array as float64; object arrays of equal-length rows are stacked."""
    if array.dtype == object:
        try:
            array = np.array(array.tolist(), dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{name}: rows must be numbers of one length (null or ragged rows?): {error}"
            ) from error
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold numbers, not {array.dtype}")
    return array.astype(np.float64, copy=False)


def _predictions(
    value: Any, name: str, n_rows: int, *, squeeze: bool = True
) -> np.ndarray[Any, Any]:
    """Shape (n, C) with C >= 2, or (n,) for one binary score per row."""
    array = _as_array(value, name)
    _check_rows(array, name, n_rows)
    array = _numeric(array, name)
    if squeeze and array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]  # a single-output binary head, shape (n, 1)
    if array.ndim > 2:
        raise ValueError(
            f"{name} must be 1-D or 2-D, got shape {array.shape}: "
            "make one row per sample first (e.g. reshape(-1, C) for token logits)"
        )
    if array.ndim == 2 and array.shape[1] < 2:
        raise ValueError(f"{name} needs at least 2 classes, has {array.shape[1]}")
    return array


def _fixed_size(array: np.ndarray[Any, Any], float_type: pa.DataType) -> pa.Array:
    flat = pa.array(np.ascontiguousarray(array).ravel(), type=float_type)
    return pa.FixedSizeListArray.from_arrays(flat, array.shape[1])


def _is_text(array: np.ndarray[Any, Any]) -> bool:
    if array.dtype.kind in "US":
        return True
    return array.dtype == object and all(isinstance(v, str) or v is None for v in array)


def _sample_ids(value: Any) -> pa.Array:
    array = _as_array(value, "sample_ids")
    if array.ndim != 1:
        raise ValueError(f"sample_ids must be 1-D, got shape {array.shape}")
    if len(array) == 0:
        raise ValueError("sample_ids is empty: a dump needs at least one row")
    if array.dtype.kind in "iu":
        try:
            return pa.array(array).cast(pa.int64())
        except pa.ArrowInvalid as error:
            raise ValueError(f"sample_ids do not fit in int64: {error}") from error
    if _is_text(array):
        return pa.array(array.astype(str) if array.dtype.kind == "S" else array, type=pa.string())
    raise ValueError(f"sample_ids must be integers or strings, not {array.dtype}")


def _class_names(classes: Any, n_classes: int, kind: str) -> list[str] | None:
    if classes is None:
        return None
    names = _as_array(classes, "classes").tolist()
    if not isinstance(names, list) or not all(
        isinstance(name, str | int) and not isinstance(name, bool) for name in names
    ):
        raise ValueError("classes must be a list of class names (strings)")
    names = [str(name) for name in names]
    if len(names) != n_classes:
        raise ValueError(f"classes has {len(names)} names but {kind} has {n_classes} classes")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"classes repeats {', '.join(map(repr, repeated))}")
    return names


def _labels(value: Any, n_rows: int, classes: list[str] | None) -> pa.Array:
    """Class indices as int64, or class names (strings) when classes are given."""
    array = _as_array(value, "labels")
    _check_rows(array, "labels", n_rows)
    if array.ndim != 1:
        hint = " (soft targets go in label_probs=)" if array.ndim == 2 else ""
        raise ValueError(f"labels must be 1-D, got shape {array.shape}{hint}")
    if _is_text(array):
        if classes is None:
            raise ValueError("labels are class names: pass classes= (the names in index order)")
        return pa.array(array.astype(str) if array.dtype.kind == "S" else array, type=pa.string())
    if array.dtype.kind in "iub":
        return pa.array(array.astype(np.int64))
    if array.dtype.kind == "f":
        # Float 0./1. targets (as BCEWithLogitsLoss wants them) are class indices too.
        whole = np.isfinite(array) & (array == np.round(array))
        if not whole.all():
            raise ValueError(
                f"labels: {int((~whole).sum())} float values are not whole class indices "
                "(soft targets go in label_probs=)"
            )
        return pa.array(array.astype(np.int64))
    raise ValueError(f"labels must be class indices or class names, not {array.dtype}")


def _per_row(value: Any, name: str, n_rows: int) -> tuple[np.ndarray[Any, Any] | None, Any]:
    """(None, the scalar) for one value, else (the value as a 1-D array of n_rows, None)."""
    if isinstance(value, str | bytes | numbers.Number):
        return None, value
    array = _as_array(value, name)
    if array.ndim == 0:
        return None, array.item()
    _check_rows(array, name, n_rows)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one value or 1-D, got shape {array.shape}")
    return array, None


def _text(value: Any, name: str, n_rows: int) -> pa.Array:
    array, value = _per_row(value, name, n_rows)
    if array is None:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, not {type(value).__name__}")
        return pa.repeat(pa.scalar(value, type=pa.string()), n_rows)
    if not _is_text(array):
        raise ValueError(f"{name} must hold strings, not {array.dtype}")
    return pa.array(array.astype(str) if array.dtype.kind == "S" else array, type=pa.string())


def _epochs(value: Any, n_rows: int) -> pa.Array:
    array, value = _per_row(value, "epoch", n_rows)
    if array is None:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise ValueError(f"epoch must be an integer, not {type(value).__name__}")
        return pa.repeat(pa.scalar(int(value), type=pa.int64()), n_rows)
    if array.dtype.kind not in "iu":
        raise ValueError(f"epoch must hold integers, not {array.dtype}")
    return pa.array(array.astype(np.int64))


def _weights(value: Any, n_rows: int) -> pa.Array:
    array, value = _per_row(value, "weights", n_rows)
    if array is None:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ValueError(f"weights must be a number, not {type(value).__name__}")
        return pa.repeat(pa.scalar(float(value), type=pa.float64()), n_rows)
    return pa.array(_numeric(array, "weights"), type=pa.float64())


def _extra(value: Any, name: str, n_rows: int) -> pa.Array:
    """A slice column as it is: Polars Series keep their Arrow type, scalars are repeated."""
    if isinstance(value, pl.Series):
        if value.len() != n_rows:
            raise ValueError(f"{name} has {value.len()} rows but sample_ids has {n_rows}")
        return value.to_arrow()
    array, scalar = _per_row(value, name, n_rows)
    if array is None:
        return pa.repeat(pa.scalar(scalar), n_rows)
    try:
        return pa.array(array)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise ValueError(f"{name}: cannot be written as a Parquet column: {error}") from error


# -- writing -----------------------------------------------------------------------------


def _write_checked(table: pa.Table, target: Path) -> None:
    """Write to a hidden temp file beside target, check it as the reader would, rename."""
    with atomic_output(target) as temp:
        pq.write_table(table, temp, compression="zstd")
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        _validate(temp, target)


def _validate(temp: Path, target: Path) -> None:
    """The reader's checks: schema ones in open_dump, row ones counted in one pass."""
    try:
        dump = open_dump(temp, ReaderOptions())
    except DumpError as error:
        raise DumpError(target, error.problems) from None
    if not dump.checks:
        return
    counts = dump.frame.select(problem_counts(dump.checks, screened=False)).collect(
        engine="streaming"
    )
    problems = problems_found(dump.checks, counts.row(0, named=True))
    if problems:
        raise DumpError(target, problems)
