"""Dumps the tests and bench/kill_soak.py write: one (model, split) of a night in the
inbox's hive layout, logits with the true class's raised by `signal`; or any columns,
2-D numpy arrays as fixed-size lists (write_dump)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


def fixed_size(values: np.ndarray) -> pa.Array:
    """A 2-D numpy array as a pyarrow fixed_size_list column (dtype kept)."""
    flat = pa.array(np.ascontiguousarray(values).ravel())
    return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])


def write_dump(path: Path, columns: dict[str, Any], classes: list[str] | None = None) -> Path:
    """Write a Parquet dump; 2-D numpy arrays become fixed-size lists."""
    arrays = {
        name: fixed_size(value) if isinstance(value, np.ndarray) and value.ndim == 2 else value
        for name, value in columns.items()
    }
    table = pa.table(arrays)
    if classes is not None:
        table = table.replace_schema_metadata({"lossgram.classes": json.dumps(classes)})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_hive_split(
    inbox: Path,
    night: str,
    model: str,
    split: str,
    *,
    n: int = 200,
    classes: int = 4,
    signal: float = 2.0,
    seed: int = 0,
    dtype: type[pl.DataType] = pl.Float32,
) -> Path:
    """inbox/night/model=M/split=S/part-0.parquet with n samples; returns its path."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes))
    logits[np.arange(n), labels] += signal
    path = inbox / night / f"model={model}" / f"split={split}" / "part-0.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "sample_id": np.arange(n),
            "label": labels,
            "logits": pl.Series(logits, dtype=pl.Array(dtype, classes)),
        }
    ).write_parquet(path)
    return path


def write_mixed_slice_night(inbox: Path, night: str, n: int = 60) -> None:
    """Two models x train/test x n rows, one file each; only model "sliced" carries a
    slice column (`region`): a night whose pages once failed on the other's slices."""
    rng = np.random.default_rng(3)
    for model in ("sliced", "plain"):
        for split in ("train", "test"):
            labels = rng.integers(0, 3, n)
            logits = rng.normal(size=(n, 3))
            logits[np.arange(n), labels] += 2.0 if split == "train" else 0.5
            columns: dict[str, Any] = {
                "sample_id": np.arange(n),
                "label": labels,
                "logits": logits,
                "split": [split] * n,
                "model": [model] * n,
            }
            if model == "sliced":
                columns["region"] = rng.choice(["north", "south"], n)
            write_dump(inbox / night / f"{model}-{split}.parquet", columns)
