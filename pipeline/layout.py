"""The warehouse's file layout: where losses live, how a run stages, places and swaps
them, and how a run that died is undone.

<warehouse>/lossgram.duckdb                                   the catalog (warehouse.py)
<warehouse>/losses/snapshot_date=D/model=M/<key>.parquet      per-sample losses
<warehouse>/.staging/<run>/<D>/                               a run's files before placing
<warehouse>/.lock   .tmp/                                     writer lock, DuckDB spill
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pyarrow.parquet as pq

from pipeline.files import atomic_output

DATABASE_FILE = "lossgram.duckdb"
MAX_FOLDER_VALUE = 240  # bytes; file systems allow 255 per path segment
# Writers truncate long Parquet statistics (Polars at 64 bytes): only shorter values are
# taken as exact.
STATISTICS_EXACT_BYTES = 64


class LayoutError(RuntimeError):
    """A name cannot be laid out as a folder."""


def model_folder_value(name: str) -> str:
    """A model name encoded for its model= folder: percent-encoded, as DuckDB, Polars and
    pyarrow decode it, so the folder holds any name exactly (no separators, no traversal)."""
    encoded = quote(name, safe="")
    if len(encoded.encode()) > MAX_FOLDER_VALUE:
        raise LayoutError(f"model name {name[:60]!r}... is too long for a folder name")
    return encoded


@dataclass(frozen=True)
class Layout:
    """The paths of one warehouse folder."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / DATABASE_FILE

    @property
    def losses(self) -> Path:
        return self.root / "losses"

    @property
    def staging(self) -> Path:
        return self.root / ".staging"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def spill(self) -> Path:
        return self.root / ".tmp"

    def partition(self, snapshot_date: dt.date, model: str | None = None) -> Path:
        folder = self.losses / f"snapshot_date={snapshot_date}"
        return folder if model is None else folder / f"model={model_folder_value(model)}"

    def has_losses(self) -> bool:
        return any(self.losses.glob("snapshot_date=*/model=*/*.parquet"))

    def losses_glob(self) -> str:
        return str(self.losses / "snapshot_date=*" / "model=*" / "*.parquet")


def recover(layout: Layout) -> None:
    """Undo what a run that died mid-way left: staged files, and swapped-out partitions."""
    staging = layout.staging
    for trash in sorted(staging.glob("*/trash/*")) if staging.is_dir() else []:
        # A partition moved aside by a rerun that never committed goes back in place.
        target = layout.losses / trash.name.replace("+", "/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(trash, target)
    shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def staging_folder(layout: Layout, run_id: str, snapshot_date: dt.date) -> Iterator[Path]:
    """A run's staging folder for one snapshot, removed afterwards whatever happens."""
    folder = layout.staging / run_id / snapshot_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def partition_swapped_out(
    layout: Layout, staging: Path, snapshot_date: dt.date, model: str | None
) -> Iterator[None]:
    """A rerun replaces a date (or one model of it): its old partition is moved aside
    into the staging folder, and put back if the block fails."""
    old = layout.partition(snapshot_date, model)
    aside = staging / "trash" / str(old.relative_to(layout.losses)).replace("/", "+")
    moved = old.exists()
    if moved:
        aside.parent.mkdir(exist_ok=True)
        os.replace(old, aside)
    try:
        yield
    except BaseException:
        if moved:
            shutil.rmtree(old, ignore_errors=True)
            os.replace(aside, old)
        raise


def place(
    layout: Layout, snapshot_date: dt.date, dump_path: Path, staged: Path, model: str | None
) -> None:
    """Move a dump's staged losses into losses/snapshot_date=D/model=M/<key>.parquet.

    The key comes from the dump's path, so a changed dump replaces its own earlier
    losses and a crash before the commit is repaired by the next run rewriting them.
    """
    key = hashlib.sha256(str(dump_path).encode()).hexdigest()[:20] + ".parquet"
    scope = layout.partition(snapshot_date, model)
    for old in scope.glob(key if model else f"model=*/{key}"):
        old.unlink()
    models = _single_model(staged)
    frame = pl.scan_parquet(staged)
    if models is None:
        models = frame.select(pl.col("model").unique()).collect()["model"].to_list()
    for name in models:
        target = layout.partition(snapshot_date, name) / key
        target.parent.mkdir(parents=True, exist_ok=True)
        if len(models) == 1:
            os.replace(staged, target)
        else:
            with atomic_output(target) as partial:
                frame.filter(pl.col("model") == name).sink_parquet(partial)


def _single_model(staged: Path) -> list[str] | None:
    """[model] when the footer's min/max statistics say the file holds one model (cheaper
    than scanning the column: bench/README.md), else None."""
    metadata = pq.ParquetFile(staged).metadata
    column = metadata.schema.to_arrow_schema().get_field_index("model")
    values = set()
    for index in range(metadata.num_row_groups):
        statistics = metadata.row_group(index).column(column).statistics
        if statistics is None or not statistics.has_min_max or statistics.min != statistics.max:
            return None
        if len(str(statistics.min).encode()) >= STATISTICS_EXACT_BYTES:
            return None
        values.add(statistics.min)
    return [str(value) for value in values] if len(values) == 1 else None
