"""Rules across a night's dumps, checked after they are computed and before their files
are placed: a sample is counted once per (model, split, epoch), whichever dumps it comes
from, and a slice column keeps one type across the warehouse. A dump that breaks one is
rejected alone, naming the other dump or the column; the rest of the night lands."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.base.results import ComputedDump
from pipeline.contract import DumpError, Problem
from pipeline.contract.cross_entropy import LOSS_COLUMNS
from pipeline.warehouse.layout import DUMP_COLUMN, STATISTICS_EXACT_BYTES, Layout, PlacedFile
from pipeline.warehouse.queries import execute, registered
from pipeline.warehouse.store import Store

GROUP = ("model", "split", "epoch")
NOT_SLICES = {*LOSS_COLUMNS, "snapshot_date", DUMP_COLUMN}
NESTED_PREFIXES = ("struct<", "list<", "large_list<", "fixed_size_list<", "map<")


@dataclass(frozen=True)
class SliceType:
    arrow_type: str
    nested: bool
    first_dump: str


def admit(
    computed: list[ComputedDump],
    committed: Sequence[PlacedFile],
    layout: Layout,
    slice_types: dict[str, SliceType],
    shared_ids: SharedIds,
) -> list[ComputedDump]:
    """The night's computed dumps, with those breaking a cross-dump rule rejected.
    `committed` are the night's live files that stay; slice_types grows with new columns."""
    # Ids first, so a dump rejected for them registers no slice column.
    counted_once = _ids_counted_once(computed, committed, layout, shared_ids)
    schemas: dict[Path, pa.Schema] = {}  # a batch file's, read once for its dumps
    return [_slices_fit(result, slice_types, schemas) for result in counted_once]


def _slices_fit(
    result: ComputedDump, slice_types: dict[str, SliceType], schemas: dict[Path, pa.Schema]
) -> ComputedDump:
    if result.staged is None:
        return result
    if result.staged not in schemas:
        schemas[result.staged] = pq.read_schema(result.staged)
    schema = schemas[result.staged]
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


# Pairs of a night's dumps sharing sample ids: (model, split, epoch, earlier, later, ids),
# earlier/later being places in the night's order. An engine finds them its own way, from
# the night's parts: (file, the dump's name in its DUMP_COLUMN or None, the dump's place).
SharedPair = tuple[str, str, int | None, int, int, int]
NightPart = tuple[str, str | None, int]
SharedIds = Callable[[list[NightPart]], list[SharedPair]]


def shared_ids_in_duckdb(parts: list[NightPart], *, store: Store, spill: Path) -> list[SharedPair]:
    """The pairs of dumps sharing ids, from their loss files in the store, by one DuckDB
    aggregation that spills to disk instead of growing past its limit."""
    connection = duckdb.connect(config={"memory_limit": SHARED_IDS_MEMORY})
    try:
        store.register(connection)
        connection.execute("SET temp_directory = $dir", {"dir": str(spill)})
        night = pl.DataFrame(
            parts,
            schema={"file": pl.String, "dump_path": pl.String, "dump": pl.Int64},
            orient="row",
        )
        files = sorted({file for file, _, _ in parts})
        with registered(connection, night_files=night):
            rows = execute(connection, "shared_sample_ids", {"files": files})
    finally:
        connection.close()
    return [(str(m), str(s), e, int(a), int(b), int(n)) for m, s, e, a, b, n in rows]


SHARED_IDS_MEMORY = "1GB"


def _ids_counted_once(
    computed: list[ComputedDump],
    committed: Sequence[PlacedFile],
    layout: Layout,
    shared_ids: SharedIds,
) -> list[ComputedDump]:
    """Reject a dump whose sample_ids another dump of the night already brings for the
    same (model, split, epoch): committed dumps first, then in the order planned (path
    order; a rerun puts the dumps ingested before first, so the same ones win). The
    message names the earliest dump counted before it."""
    new = [c for c in computed if c.staged is not None]
    order = list(
        dict.fromkeys([p.dump_path for p in committed] + [str(c.outcome.path) for c in new])
    )
    if len(order) < 2:
        return computed
    place = {dump: index for index, dump in enumerate(order)}
    files: dict[str, dict[str, int]] = {}  # file -> the dumps of the night it holds
    for placed in committed:
        files.setdefault(layout.location(placed.path), {})[placed.dump_path] = place[
            placed.dump_path
        ]
    for result in new:
        dump = str(result.outcome.path)
        files.setdefault(str(result.staged), {})[dump] = place[dump]
    candidates = _may_share_ids(files, layout)
    if len({dump for _, _, dump in candidates}) < 2:
        return computed
    rejected = _replay(shared_ids(candidates), order)
    return [
        _rejected(c, "sample_id", rejected[str(c.outcome.path)])
        if str(c.outcome.path) in rejected
        else c
        for c in computed
    ]


# What a file's statistics tell of one dump's rows: ((model, split, epoch), lowest id,
# highest id), or None when they cannot tell.
IdRange = tuple[tuple[Any, ...], Any, Any]


def _may_share_ids(files: dict[str, dict[str, int]], layout: Layout) -> list[NightPart]:
    """The night's parts that may share a sample id with another dump's, from statistics
    alone: dumps of one (model, split, epoch) whose id ranges (min..max) overlap, and every
    dump whose statistics cannot tell. Part files of one split hold disjoint ranges, so
    the usual night needs no id aggregation at all."""
    known: dict[tuple[Any, ...], list[tuple[Any, Any, NightPart]]] = {}
    maybe: list[NightPart] = []
    for file, dumps in files.items():
        for part, summary in _id_ranges(file, dumps, layout):
            if summary is None:
                maybe.append(part)
            else:
                group, low, high = summary
                known.setdefault(group, []).append((low, high, part))
    for ranges in known.values():
        if len({type(low) for low, _, _ in ranges}) > 1:  # 5 and "5": compared as text
            maybe += [part for _, _, part in ranges]
            continue
        ranges.sort(key=lambda entry: entry[0])
        reach: Any = None
        cluster: list[NightPart] = []
        for low, high, part in ranges:
            if cluster and reach is not None and low <= reach:
                cluster.append(part)
                reach = max(reach, high)
                continue
            if len(cluster) > 1:
                maybe += cluster
            cluster, reach = [part], high
        if len(cluster) > 1:
            maybe += cluster
    return maybe


def _id_ranges(
    file: str, dumps: dict[str, int], layout: Layout
) -> list[tuple[NightPart, IdRange | None]]:
    """Each dump's id range in a file: from the footer of a one-dump file; from one small
    query over a batch file (its dictionary-coded key columns)."""
    metadata = layout.footer(file)
    if DUMP_COLUMN not in metadata.schema.names:
        ((dump, place),) = dumps.items()
        return [((file, None, place), _footer_summary(metadata))]
    with layout.store.open(file) as handle:
        groups = (
            pl.scan_parquet(handle)
            .filter(pl.col(DUMP_COLUMN).is_in(list(dumps)))
            .group_by(DUMP_COLUMN, *GROUP)
            .agg(
                low=pl.col("sample_id").min(),
                high=pl.col("sample_id").max(),
                nulls=pl.col("sample_id").null_count(),
            )
            .collect()
        )
    by_dump: dict[str, list[dict[str, Any]]] = {}
    for row in groups.iter_rows(named=True):
        by_dump.setdefault(row[DUMP_COLUMN], []).append(row)
    ranges: list[tuple[NightPart, IdRange | None]] = []
    for dump, place in dumps.items():
        rows = by_dump.get(dump, [])
        one = rows[0] if len(rows) == 1 and not rows[0]["nulls"] else None
        summary = None if one is None else (tuple(one[g] for g in GROUP), one["low"], one["high"])
        ranges.append(((file, dump, place), summary))
    return ranges


def _footer_summary(metadata: pq.FileMetaData) -> tuple[tuple[Any, ...], Any, Any] | None:
    """((model, split, epoch), lowest id, highest id) when every row group's
    statistics say the file holds one group and give exact id bounds; else None."""
    names = metadata.schema.to_arrow_schema().names
    if not all(name in names for name in (*GROUP, "sample_id")):
        return None
    key: list[Any] | None = None
    low: Any = None
    high: Any = None
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        values: list[Any] = []
        for name in GROUP:
            statistics = group.column(names.index(name)).statistics
            if statistics is not None and statistics.null_count == group.num_rows:
                values.append(None)
            elif _exact(statistics) and statistics.min == statistics.max:
                values.append(statistics.min)
            else:
                return None
        ids = group.column(names.index("sample_id")).statistics
        if not _exact(ids):
            return None
        if key not in (None, values):
            return None
        key = values
        low = ids.min if low is None else min(low, ids.min)
        high = ids.max if high is None else max(high, ids.max)
    return (tuple(key), low, high) if key is not None else None


def _exact(statistics: pq.Statistics | None) -> bool:
    """Min and max present, and not cut short (writers truncate long text values)."""
    if statistics is None or not statistics.has_min_max or statistics.null_count:
        return False
    longest = max(len(str(statistics.min).encode()), len(str(statistics.max).encode()))
    return longest < STATISTICS_EXACT_BYTES


def _replay(pairs: list[SharedPair], order: list[str]) -> dict[str, str]:
    """The rule, dump by dump in order within each (model, split, epoch): a dump sharing
    ids with one counted before it is rejected, and its ids count for no later dump."""
    by_group: dict[tuple[str, str, int | None], dict[tuple[int, int], int]] = {}
    for model, split, epoch, earlier, later, ids in pairs:
        by_group.setdefault((model, split, epoch), {})[(earlier, later)] = ids
    rejected: dict[str, str] = {}

    def sort_key(key: tuple[str, str, int | None]) -> tuple[str, str, bool, int]:
        return key[0], key[1], key[2] is None, key[2] or 0

    for key in sorted(by_group, key=sort_key):
        shared = by_group[key]
        counted: list[int] = []
        for dump in sorted({place for pair in shared for place in pair}):
            if order[dump] in rejected:
                continue
            before = [earlier for earlier in counted if (earlier, dump) in shared]
            if not before:
                counted.append(dump)
                continue
            named = ", ".join(f"{n}={v}" for n, v in zip(GROUP, key, strict=True))
            clashes = sum(shared[(earlier, dump)] for earlier in before)
            rejected[order[dump]] = (
                f"{clashes} sample_ids of ({named}) are already counted from "
                f"{order[before[0]]}: a sample counts once per night"
            )
    return rejected


def _rejected(result: ComputedDump, column: str, message: str) -> ComputedDump:
    """The dump rejected for a cross-dump rule; its staged losses dropped (a batch file
    stays for its other dumps: placing it keeps only theirs)."""
    if result.staged is not None and DUMP_COLUMN not in pq.read_schema(result.staged).names:
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
