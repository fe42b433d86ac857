"""Shared helpers: write small dumps and run them through the real CE stage."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

# Helpers shared by tests and bench/ (probes: dumps, accounting, a polling reader).
sys.path.insert(0, str(Path(__file__).parent / "probes"))

from pipeline.contract import DumpError, open_dump, problems_found
from pipeline.ingest.loss_pass import dump_losses_to_parquet
from pipeline.settings import Settings


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


@pytest.fixture
def dump_file(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def make(
        columns: dict[str, Any], classes: list[str] | None = None, name: str | None = None
    ) -> Path:
        return write_dump(tmp_path / (name or f"dump{next(counter)}.parquet"), columns, classes)

    return make


@pytest.fixture
def compute(tmp_path: Path) -> Callable[..., pl.DataFrame]:
    """Run one dump through open_dump + the real CE stage; raise DumpError on bad rows."""

    def run(path: Path, **settings: Any) -> pl.DataFrame:
        config = Settings(**settings)
        dump = open_dump(path, config.reader_options())
        target = tmp_path / f"out-{path.stem}.parquet"
        counts, _ = dump_losses_to_parquet(dump, config.loss_spec(), target)
        problems = problems_found(dump.checks, counts)
        if problems:
            raise DumpError(path, problems)
        return pl.read_parquet(target)

    return run
