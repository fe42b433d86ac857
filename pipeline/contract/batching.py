"""Many small dumps, one query: which dumps can be read together.

Each Polars query costs milliseconds whatever its size, so dumps of at most
SMALL_DUMP_ROWS rows that share a schema are read as one query over their files, at most
BATCH_ROWS rows a query (bench/README.md, many-files target).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.contract.discovery import hive_keys

SMALL_DUMP_ROWS = 250_000
BATCH_ROWS = 500_000
FILE_INDEX = "lossgram_batch_file"  # a row's file in its batch: kept through the losses
PATH_VALUE = "__path_"  # a batch's per-file values from the paths (hive keys, stem)


class BatchPlan(NamedTuple):
    """Small dumps one query can read: their positions in the planned paths, their rows."""

    positions: list[int]
    rows: int


def plan_batches(paths: Sequence[Path], folders_below: Path | None = None) -> list[BatchPlan]:
    """Groups (2 or more dumps each) of small dumps that one query can read.

    A group shares the Arrow schema with its metadata and the hive keys, so one canonical
    frame fits every file. Lists of class scores are left out (C comes from a row), and
    so is anything unreadable: those take the one-file path, which reports their errors.
    """
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[int, int]]] = {}
    for position, path in enumerate(paths):
        try:
            parquet = pq.ParquetFile(path)
        except Exception:  # pyarrow raises several types; open_dump reports it
            continue
        rows, schema = parquet.metadata.num_rows, parquet.schema_arrow
        hive = hive_keys(path, folders_below)
        if not 0 < rows <= SMALL_DUMP_ROWS or not hive.get("epoch", "0").isdigit():
            continue
        if any(pa.types.is_list(f.type) or pa.types.is_large_list(f.type) for f in schema):
            continue
        key = (schema.to_string(show_schema_metadata=True), tuple(sorted(hive)))
        groups.setdefault(key, []).append((position, rows))
    batches = []
    for members in groups.values():
        batch = BatchPlan([], 0)
        for position, rows in members:
            if batch.positions and batch.rows + rows > BATCH_ROWS:
                batches.append(batch)
                batch = BatchPlan([], 0)
            batch = BatchPlan([*batch.positions, position], batch.rows + rows)
        batches.append(batch)
    return [batch for batch in batches if len(batch.positions) > 1]
