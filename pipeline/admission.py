"""Rules across a night's dumps, checked after they are computed and before their files
are placed: a sample is counted once per (model, split, epoch), whichever dumps it comes
from, and a slice column keeps one type across the warehouse. A dump that breaks one is
rejected alone, naming the other dump or the column; the rest of the night lands."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.contract import DumpError, Problem
from pipeline.layout import PlacedFile
from pipeline.ledger import ComputedDump
from pipeline.losses import LOSS_COLUMNS
from pipeline.queries import execute, registered

GROUP = ("model", "split", "epoch")
NOT_SLICES = {*LOSS_COLUMNS, "snapshot_date"}
NESTED_PREFIXES = ("struct<", "list<", "large_list<", "fixed_size_list<", "map<")


@dataclass(frozen=True)
class SliceType:
    arrow_type: str
    nested: bool
    first_dump: str


def admit(
    computed: list[ComputedDump],
    committed: Sequence[PlacedFile],
    root: Path,
    slice_types: dict[str, SliceType],
) -> list[ComputedDump]:
    """The night's computed dumps, with those breaking a cross-dump rule rejected.
    `committed` are the night's live files that stay; slice_types grows with new columns."""
    # Ids first, so a dump rejected for them registers no slice column.
    counted_once = _ids_counted_once(computed, committed, root)
    return [_slices_fit(result, slice_types) for result in counted_once]


def _slices_fit(result: ComputedDump, slice_types: dict[str, SliceType]) -> ComputedDump:
    if result.staged is None:
        return result
    schema = pq.read_schema(result.staged)
    seen: dict[str, SliceType] = {}
    for field in schema:
        if field.name in NOT_SLICES:
            continue
        nested = pa.types.is_nested(field.type)
        mine = SliceType(str(field.type), nested, str(result.outcome.path))
        known = slice_types.get(field.name)
        # DuckDB unifies differing plain types (as text or a wider number); a nested
        # type must match exactly.
        if known is not None and (known.nested or nested) and known.arrow_type != mine.arrow_type:
            message = (
                f"is {mine.arrow_type} here but {known.arrow_type} in the warehouse (first "
                f"from {known.first_dump}): rename or cast the column"
            )
            return _rejected(result, field.name, message)
        seen.setdefault(field.name, mine)
    for name, kind in seen.items():
        slice_types.setdefault(name, kind)
    return result


def _ids_counted_once(
    computed: list[ComputedDump], committed: Sequence[PlacedFile], root: Path
) -> list[ComputedDump]:
    """Reject a dump whose sample_ids another dump of the night already brings for the
    same (model, split, epoch): committed dumps first, then in the order planned (path
    order; a rerun puts the dumps ingested before first, so the same ones win)."""
    new = [c for c in computed if c.staged is not None]
    files = {str(root / placed.path): placed.dump_path for placed in committed}
    files.update({str(c.staged): str(c.outcome.path) for c in new})
    if len({dump for dump in files.values()}) < 2:
        return computed
    groups = (
        pl.scan_parquet(
            list(files), include_file_paths="file", missing_columns="insert", extra_columns="ignore"
        )
        .select("file", *GROUP)
        .unique()
        .collect()
        .with_columns(dump=pl.col("file").replace_strict(files))
    )
    shared = groups.group_by(GROUP).agg(pl.col("dump").n_unique().alias("dumps"))
    shared = shared.filter(pl.col("dumps") > 1).sort(GROUP, nulls_last=True)
    if shared.is_empty():
        return computed
    order = [placed.dump_path for placed in committed] + [str(c.outcome.path) for c in new]
    rejected: dict[str, str] = {}
    for key in shared.select(GROUP).iter_rows():
        rejected.update(_overlaps(groups, key, order, rejected))
    return [
        _rejected(c, "sample_id", rejected[str(c.outcome.path)])
        if str(c.outcome.path) in rejected
        else c
        for c in computed
    ]


def _overlaps(
    groups: pl.DataFrame, key: tuple[object, ...], order: list[str], rejected: dict[str, str]
) -> dict[str, str]:
    """Within one (model, split, epoch): the later dumps whose ids an earlier one has."""
    where = [pl.col(name).eq_missing(value) for name, value in zip(GROUP, key, strict=True)]
    by_dump = groups.filter(*where).group_by("dump").agg("file").rows()
    taken = pl.DataFrame(schema={"sample_id": pl.String, "counted_by": pl.String})
    found = {}
    dump: str
    dump_files: list[str]
    for dump, dump_files in sorted(by_dump, key=lambda row: order.index(row[0])):
        if dump in rejected:
            continue
        query = _scan(dump_files).filter(*where).select(pl.col("sample_id").cast(pl.String))
        ids = query.collect()
        clashes = ids.join(taken, on="sample_id")
        if clashes.height:
            named = ", ".join(f"{n}={v}" for n, v in zip(GROUP, key, strict=True))
            found[dump] = (
                f"{clashes.height} sample_ids of ({named}) are already counted from "
                f"{clashes['counted_by'][0]}: a sample counts once per night"
            )
        else:
            taken = pl.concat([taken, ids.with_columns(counted_by=pl.lit(dump))])
    return found


def _scan(files: list[str]) -> pl.LazyFrame:
    """Loss files of differing slice columns as one frame (only shared columns are read)."""
    return pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore")


def _rejected(result: ComputedDump, column: str, message: str) -> ComputedDump:
    """The dump rejected for a cross-dump rule; its staged losses dropped."""
    if result.staged is not None:
        result.staged.unlink(missing_ok=True)
    outcome = dataclasses.replace(
        result.outcome,
        status="rejected",
        rows=0,
        rows_ignored=0,
        rows_rejected=0,
        error=str(DumpError(result.outcome.path, [Problem(column, result.outcome.rows, message)])),
    )
    return dataclasses.replace(result, outcome=outcome, staged=None, dropped=pl.DataFrame())


def slice_column_types(connection: duckdb.DuckDBPyConnection) -> dict[str, SliceType]:
    """The slice columns the warehouse holds, as first landed."""
    return {
        name: SliceType(arrow_type, arrow_type.startswith(NESTED_PREFIXES), first_dump)
        for name, arrow_type, first_dump in execute(connection, "slice_column_types")
    }


def record_slice_columns(
    connection: duckdb.DuckDBPyConnection, slice_types: dict[str, SliceType]
) -> None:
    """Keep the slice columns seen for the first time (inside the night's commit)."""
    new = pl.DataFrame(
        [(name, kind.arrow_type, kind.first_dump) for name, kind in slice_types.items()],
        schema={"name": pl.String, "arrow_type": pl.String, "first_dump": pl.String},
        orient="row",
    )
    with registered(connection, new_slices=new):
        execute(connection, "record_slice_columns")
