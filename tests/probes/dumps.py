"""Dumps the tests and bench/kill_soak.py write: one (model, split) of a night in the
inbox's hive layout, logits with the true class's raised by `signal`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl


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
