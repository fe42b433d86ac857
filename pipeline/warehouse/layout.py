"""The warehouse's file layout: where per-sample losses live, how a run stages and places
them, and how what a dead run left is cleaned up.

<warehouse>/lossgram.duckdb                                  the committed catalog
<warehouse>/losses/snapshot_date=D/model=M/<run>-<n>.parquet  per-sample losses
<warehouse>/losses/_manifest.json                            the committed file list
<warehouse>/.staging/<run>/<D>/   .catalog/                  a run's work in progress
<warehouse>/.lock   .tmp/                                    writer lock, DuckDB spill
<warehouse>/.runs/<run>.json                                 each run's note (journal.py)
<warehouse>/tables/<table>/snapshot_date=D/data.parquet      aggregate tables (exports.py)

On an object store (pipeline/warehouse/store.py) the losses, the manifest, the tables and
catalog.location are objects under the warehouse URI; the catalog, the lock, staging and
the spill stay in the catalog's folder on the driver's disk.

Data files are immutable and named after the run that wrote them; which of them make up
the warehouse is decided by the catalog alone (its `live_files`), so a file on disk is
visible only once a commit lists it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from pipeline.base.errors import WarehouseError
from pipeline.base.files import atomic_write_text
from pipeline.warehouse.store import Store, fetch

if TYPE_CHECKING:  # imported where used: `lossgram sql` starts without Polars or pyarrow
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

DATABASE_FILE = "lossgram.duckdb"
# Names the catalog file when it lives outside the warehouse folder (setting `catalog`).
CATALOG_POINTER = "catalog.location"
# Beside a catalog kept apart from its warehouse: which warehouse it belongs to.
OWNER_SUFFIX = ".warehouse"
LOSSES_FOLDER = "losses"
# Each night's histograms, one file a night (pipeline/warehouse/histogram_files.py).
HISTOGRAMS_FOLDER = "histograms"
MANIFEST_FILE = "_manifest.json"
# The dump each row came from, in a file holding several dumps' rows (a batch of small
# dumps is one file). The `losses` view leaves it out; live_files maps files to dumps.
DUMP_COLUMN = "lossgram_dump"
# A model name too long for one folder name (file systems allow 255 bytes) gets a
# shortened, hashed folder; the real name is in the files and the catalog.
MAX_FOLDER_VALUE = 200
# Writers truncate long Parquet statistics (Polars at 64 bytes): only shorter values are
# taken as exact.
STATISTICS_EXACT_BYTES = 64


def model_folder_value(name: str) -> str:
    """A model name for its model= folder: percent-encoded, as DuckDB, Polars and pyarrow
    decode it (no separators, no traversal); a long name is cut and given a hash."""
    encoded = quote(name, safe="")
    if len(encoded.encode()) <= MAX_FOLDER_VALUE:
        return encoded
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    head = quote(name[:40], safe="")[:120].rstrip("%0123456789ABCDEF") or "model"
    return f"{head}~{digest}"


@dataclass(frozen=True)
class Layout:
    """The places of one warehouse: its data files in a store, and the driver's own folder
    (root) for the lock, staging and the spill, and the catalog file."""

    root: Path
    store: Store
    catalog: Path

    @property
    def name(self) -> str:
        """The warehouse as its user named it: a folder or a URI."""
        return self.store.name

    def location(self, relative: str) -> str:
        """A warehouse-relative path as readers open it: an absolute path or a URI."""
        return self.store.location(relative)

    def footer(self, location: str) -> pq.FileMetaData:
        """The Parquet footer of a file at a location() or a staged local path."""
        import pyarrow.parquet as pq

        with self.store.open(location) as handle:
            return pq.ParquetFile(handle).metadata

    @property
    def staging(self) -> Path:
        return self.root / ".staging"

    @property
    def catalogs(self) -> Path:
        """Where a run builds the next catalog before it is swapped in (beside it: the
        swap is a rename)."""
        return self.catalog.parent / ".catalog"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def spill(self) -> Path:
        return self.root / ".tmp"

    def partition(self, snapshot_date: dt.date, model: str | None = None) -> str:
        """The relative folder of a night's losses, or of one model's on that night."""
        folder = f"{LOSSES_FOLDER}/snapshot_date={snapshot_date.isoformat()}"
        return folder if model is None else f"{folder}/model={model_folder_value(model)}"

    def night_folders(self, snapshot_date: dt.date) -> list[str]:
        """The folders a run writes a night's data files into: its losses and its
        histograms (pipeline/warehouse/histogram_files.py)."""
        night = f"snapshot_date={snapshot_date.isoformat()}"
        return [self.partition(snapshot_date), f"{HISTOGRAMS_FOLDER}/{night}"]

    def data_files(self) -> list[str]:
        """Every per-sample Parquet file in the store (relative), committed or not."""
        return [
            key
            for key in self.store.list(LOSSES_FOLDER)
            if key.endswith(".parquet") and "/snapshot_date=" in f"/{key}"
        ]


def locate_catalog(store: Store, root: Path, setting: Path | None) -> Path:
    """The catalog file of a warehouse: the one its catalog.location names, else the
    setting `catalog`, else <warehouse>/lossgram.duckdb when the store is a folder.
    A warehouse's catalog never silently changes: a setting naming another file than the
    one in use is an error, and a new one is recorded in catalog.location."""
    recorded = store.read_text(CATALOG_POINTER)
    known = Path(recorded.strip()) if recorded else None
    wanted = setting.resolve() if setting is not None else None
    default = root / DATABASE_FILE if store.mounted else None
    in_use = known or (default if default is not None and default.exists() else None)
    if wanted is None:
        if known or default:
            return known or default  # type: ignore[return-value]
        raise WarehouseError(
            f"no catalog for {store.name}: a warehouse on an object store needs the "
            "setting catalog (LOSSGRAM_CATALOG), a file on this machine's disk; once a "
            "run has used it, readers find it from the URI"
        )
    if in_use is not None and in_use != wanted:
        raise WarehouseError(
            f"the warehouse's catalog is {in_use}, the setting catalog names {wanted}: "
            "move the file there (with lossgram stopped) or fix the setting"
        )
    if wanted != default:
        _claim(wanted, store.name)
    if known is None and wanted != default:
        store.write_text(CATALOG_POINTER, f"{wanted}\n")
    return wanted


def _claim(catalog: Path, warehouse: str) -> None:
    """A catalog kept apart from its warehouse belongs to that warehouse alone: a second
    one naming it would share its ledger and ingest nothing (<catalog>.warehouse says
    whose it is)."""
    owner_file = catalog.with_name(catalog.name + OWNER_SUFFIX)
    owner = owner_file.read_text().strip() if owner_file.is_file() else None
    if owner is None:
        atomic_write_text(owner_file, f"{warehouse}\n")
    elif owner != warehouse:
        raise WarehouseError(
            f"the catalog {catalog} belongs to the warehouse {owner}, not {warehouse}: give "
            f"each warehouse its own catalog (if that warehouse moved here, delete {owner_file})"
        )


@dataclass(frozen=True)
class PlacedFile:
    """A losses file in its partition, not yet committed: what live_files will hold."""

    path: str  # relative to the warehouse
    snapshot_date: dt.date
    model: str
    dump_path: str
    rows: int
    # Bytes when placed (None: not known, as for adopted files); evidence, not identity.
    size: int | None = field(default=None, compare=False)
    # Its schema's signature (column_set), so the losses view groups it without its footer.
    column_set: str | None = field(default=None, compare=False)


def placed_frame(files: Iterable[PlacedFile]) -> pl.DataFrame:
    """Placed files as rows (path, snapshot_date, model, dump_path, rows, size,
    column_set), for the catalog."""
    import polars as pl

    return pl.DataFrame(
        [
            (f.path, f.snapshot_date, f.model, f.dump_path, f.rows, f.size, f.column_set)
            for f in files
        ],
        schema={
            "path": pl.String,
            "snapshot_date": pl.Date,
            "model": pl.String,
            "dump_path": pl.String,
            "rows": pl.Int64,
            "size": pl.Int64,
            "column_set": pl.String,
        },
        orient="row",
    )


@contextlib.contextmanager
def staging_folder(layout: Layout, run_id: str, snapshot_date: dt.date) -> Iterator[Path]:
    """A run's staging folder for one snapshot, removed afterwards whatever happens."""
    folder = layout.staging / run_id / snapshot_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def place(
    layout: Layout, snapshot_date: dt.date, staged: Path, dumps: Sequence[str], name: str
) -> list[PlacedFile]:
    """Move staged losses into losses/snapshot_date=D/model=M/<name>-<n>.parquet, one file
    per model they hold, keeping the rows of `dumps` alone (a batch file may hold rows of
    dumps rejected since). Nothing is replaced: the names are the run's own, and the files
    count only once the catalog commits them (after flush_names). Returns one PlacedFile
    per (file, dump)."""
    import polars as pl
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(staged).metadata
    frame = pl.scan_parquet(staged)
    if DUMP_COLUMN in metadata.schema.names:
        frame = frame.filter(pl.col(DUMP_COLUMN).is_in(dumps))
        rows_of = _rows_by_model_and_dump(frame)
    else:  # one dump's rows
        (dump,) = dumps
        models = _single_model(metadata)
        if models is None:
            counted = frame.group_by("model").len().collect()
            rows_of = {model: {dump: rows} for model, rows in counted.iter_rows()}
        else:
            rows_of = {models[0]: {dump: metadata.num_rows}}  # its footer, read once
    kept = sum(rows for by_dump in rows_of.values() for rows in by_dump.values())
    columns = column_set(metadata.schema.to_arrow_schema())  # a model's file keeps them all
    placed = []
    for index, model in enumerate(sorted(rows_of)):
        target = f"{layout.partition(snapshot_date, model)}/{name}-{index}.parquet"
        if len(rows_of) == 1 and kept == metadata.num_rows:
            finished = staged  # every row stays where it is
        else:
            finished = staged.with_name(f"{staged.stem}-{index}.parquet")
            frame.filter(pl.col("model") == model).sink_parquet(finished)
        size = finished.stat().st_size
        layout.store.publish(finished, target)
        placed += [
            PlacedFile(target, snapshot_date, model, dump, rows, size, columns)
            for dump, rows in sorted(rows_of[model].items())
        ]
    return placed


def column_set(schema: pa.Schema) -> str:
    """A signature of a file's column names and types: files with one read together."""
    text = schema.remove_metadata().to_string(show_field_metadata=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _rows_by_model_and_dump(frame: pl.LazyFrame) -> dict[str, dict[str, int]]:
    """A batch file's rows (those kept), by model and dump: its dictionary-coded columns
    alone are read."""
    counted = frame.group_by("model", DUMP_COLUMN).len().collect()
    rows_of: dict[str, dict[str, int]] = {}
    for model, dump, rows in counted.iter_rows():
        rows_of.setdefault(model, {})[dump] = rows
    return rows_of


def carry_over(layout: Layout, file: str, dumps: Sequence[str], staging: Path) -> Path:
    """A committed batch file's rows of `dumps`, copied into staging: what stays of it
    when a run reads some of its other dumps again (the file is retired whole)."""
    import polars as pl

    source = fetch(layout.store, layout.location(file), staging)
    carried = staging / f"carried-{Path(file).stem}-kept.parquet"
    kept = pl.scan_parquet(source).filter(pl.col(DUMP_COLUMN).is_in(dumps))
    kept.sink_parquet(carried)
    return carried


def flush_names(layout: Layout, placed: Iterable[PlacedFile]) -> None:
    """Make the placed files' new names durable before the commit that lists them."""
    layout.store.sync_names(file.path for file in placed)


def _single_model(metadata: pq.FileMetaData) -> list[str] | None:
    """[model] when the footer's min/max statistics say the file holds one model (cheaper
    than scanning the column: bench/README.md), else None."""
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


def clear_work_in_progress(layout: Layout) -> None:
    """Remove what a run that died left besides data files: staging, unfinished catalogs.
    A partition an older lossgram's rerun had moved aside goes back first."""
    for aside in sorted(layout.staging.glob("*/*/trash/*")):
        target = layout.root / LOSSES_FOLDER / aside.name.replace("+", "/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(aside, target)
    shutil.rmtree(layout.staging, ignore_errors=True)
    shutil.rmtree(layout.catalogs, ignore_errors=True)


def remove_unreferenced(
    layout: Layout, keep: Iterable[str], folders: Iterable[str] | None = None
) -> int:
    """Delete the data files not in keep (relative paths) found in `folders` (folders of
    the store: the nights earlier runs wrote into, pipeline/warehouse/journal.py), or in
    losses/ and histograms/ whole when None (~12,000 files after a year): files of a run
    that died before its commit, and writes it left half-way. A file the catalog lists
    is in keep and never touched. Returns how many data files were removed."""
    keep = set(keep)
    folders = (LOSSES_FOLDER, HISTOGRAMS_FOLDER) if folders is None else folders
    unlisted = [
        key
        for folder in folders
        for key in layout.store.list(folder)
        if key not in keep and (key.endswith(".parquet") or _is_partial(key))
    ]
    layout.store.remove(unlisted)
    return sum(key.endswith(".parquet") for key in unlisted)


def _is_partial(key: str) -> bool:
    """A hidden .tmp file: a write that died half-way (files.atomic_output)."""
    name = key.rpartition("/")[2]
    return name.startswith(".") and name.endswith(".tmp")


def write_manifest(layout: Layout, manifest: str) -> None:
    """losses/_manifest.json (ledger.manifest_text): the committed file list, for readers
    outside DuckDB (Polars, Spark) that must not glob the folders (uncommitted files may
    lie there)."""
    layout.store.write_text(f"{LOSSES_FOLDER}/{MANIFEST_FILE}", manifest + "\n")
