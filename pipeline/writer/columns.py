"""Training code's arrays as the Arrow columns of a dump (the writer's inputs).

Inputs may be numpy arrays, Python lists, Polars Series/DataFrames, pandas objects or
framework tensors. Neither pandas nor torch is imported: anything with `.detach` is read
as `x.detach().cpu().numpy()`, anything with `.to_numpy` as `x.to_numpy()`, anything
else through `numpy.asarray`.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow as pa

FloatType = Literal["float32", "float64"]
ARROW_FLOATS: dict[str, pa.DataType] = {"float32": pa.float32(), "float64": pa.float64()}


def score_columns(
    kind: str,
    raw: Any,
    labels: Any,
    label_probs: Any,
    classes: Any,
    n_rows: int,
    dtype: FloatType,
) -> tuple[dict[str, pa.Array], list[str] | None]:
    """The prediction, label and soft-target columns, and the class names to store."""
    float_type = ARROW_FLOATS[dtype]
    prediction = _predictions(raw, kind, n_rows)
    binary = prediction.ndim == 1
    n_classes = 2 if binary else prediction.shape[1]
    class_names = _class_names(classes, n_classes, kind)
    columns: dict[str, pa.Array] = {}
    if labels is not None:
        columns["label"] = _labels(labels, n_rows, class_names)
    if binary:
        columns["logit" if kind == "logits" else "prob"] = pa.array(prediction, type=float_type)
    else:
        columns[kind] = _fixed_size(prediction, float_type)
    if label_probs is not None:
        soft = _soft_targets(label_probs, kind, n_rows, n_classes if not binary else None)
        columns["label_probs"] = _fixed_size(soft, float_type)
    return columns, class_names


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


def sample_id_column(value: Any) -> pa.Array:
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


def text_column(value: Any, name: str, n_rows: int) -> pa.Array:
    array, value = _per_row(value, name, n_rows)
    if array is None:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, not {type(value).__name__}")
        return pa.repeat(pa.scalar(value, type=pa.string()), n_rows)
    if not _is_text(array):
        raise ValueError(f"{name} must hold strings, not {array.dtype}")
    return pa.array(array.astype(str) if array.dtype.kind == "S" else array, type=pa.string())


def epoch_column(value: Any, n_rows: int) -> pa.Array:
    array, value = _per_row(value, "epoch", n_rows)
    if array is None:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise ValueError(f"epoch must be an integer, not {type(value).__name__}")
        return pa.repeat(pa.scalar(int(value), type=pa.int64()), n_rows)
    if array.dtype.kind not in "iu":
        raise ValueError(f"epoch must hold integers, not {array.dtype}")
    return pa.array(array.astype(np.int64))


def weight_column(value: Any, n_rows: int) -> pa.Array:
    array, value = _per_row(value, "weights", n_rows)
    if array is None:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ValueError(f"weights must be a number, not {type(value).__name__}")
        return pa.repeat(pa.scalar(float(value), type=pa.float64()), n_rows)
    return pa.array(_numeric(array, "weights"), type=pa.float64())


def slice_column(value: Any, name: str, n_rows: int) -> pa.Array:
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
