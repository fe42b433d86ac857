"""A dump's columns decoded by pyarrow a slice of rows at a time, as one Polars lazy frame.

Polars' Parquet reader decodes a row group whole: a 0.4M x 1000 dump written as one row
group held 3 GB before any loss was computed, and its losses pass 6.4 GB. pyarrow's
`iter_batches`, without pre-buffering, reads a row group page by page, so a slice of
about SLICE_BYTES is all a pass holds of the file, whatever its row groups or class
count. Each slice goes to Polars zero-copy (`pl.from_arrow`), into a streaming plan
whose outputs (the losses sink, the counts) share this one scan: one decode of each
column feeds both (bench/README.md, "Decode once").

The scan also gives each row whether its id steps down from the previous row's
(STEP_DOWN): the duplicate-id screen, counted in the same pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from polars.io.plugins import register_io_source

# The file's columns decoded, per slice: a pass peaks near 270 MiB + 13 slices (bench/README.md).
SLICE_BYTES = 8 * 2**20
MAX_SLICE_ROWS = 1 << 20
READ_BUFFER = 4 * 2**20  # pyarrow's read buffer per column (no pre-buffering)
# True where a row's id is not greater than the previous row's (null where either is).
STEP_DOWN = "_lossgram_id_steps_down"


def slice_rows(metadata: pq.FileMetaData) -> int:
    """Rows per slice: about SLICE_BYTES of the file's columns decoded (at least one row)."""
    rows = metadata.num_rows
    decoded = sum(
        _decoded_bytes(metadata.row_group(group).column(index))
        for group in range(metadata.num_row_groups)
        for index in range(metadata.num_columns)
    )
    if rows == 0 or decoded == 0:
        return MAX_SLICE_ROWS
    return int(max(1, min(MAX_SLICE_ROWS, SLICE_BYTES * rows // decoded)))


# Bytes a value takes once decoded, by Parquet physical type (strings: a guess).
VALUE_BYTES = {"BOOLEAN": 1, "INT32": 4, "FLOAT": 4, "INT64": 8, "DOUBLE": 8, "INT96": 12}


def _decoded_bytes(chunk: pq.ColumnChunkMetaData) -> int:
    """A column chunk's size decoded: its values at their width, or its pages' size when
    bigger. Not the pages' size alone: runs of equal values take almost nothing there."""
    width = VALUE_BYTES.get(chunk.physical_type, 16)
    return int(max(chunk.num_values * width, chunk.total_uncompressed_size))


def sliced_scan(path: Path, schema: pl.Schema, id_column: str | None) -> pl.LazyFrame:
    """The file's columns (of the given Polars schema) as a lazy frame decoded a slice at a
    time, plus STEP_DOWN computed on id_column (when the file has it)."""
    with_steps = id_column is not None and id_column in schema
    full = pl.Schema([*schema.items(), (STEP_DOWN, pl.Boolean())]) if with_steps else schema

    def slices(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, _: int | None
    ) -> Iterator[pl.DataFrame]:
        wanted = list(full) if with_columns is None else with_columns
        needed = set(wanted) | set(predicate.meta.root_names() if predicate is not None else ())
        steps = with_steps and STEP_DOWN in needed
        columns = [name for name in schema if name in needed or (steps and name == id_column)]
        try:
            yield from _decoded(path, schema, columns, id_column if steps else None, n_rows,
                                wanted, predicate)  # fmt: skip
        except pa.ArrowException as error:  # Polars' own errors say "unreadable" here
            raise pl.exceptions.ComputeError(str(error)) from error

    return register_io_source(
        slices, schema=full, is_pure=True, explain_name="lossgram sliced Parquet"
    )


def _decoded(
    path: Path,
    schema: pl.Schema,
    columns: list[str],
    id_column: str | None,
    n_rows: int | None,
    wanted: list[str],
    predicate: pl.Expr | None,
) -> Iterator[pl.DataFrame]:
    parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER)
    rows = slice_rows(parquet.metadata)
    left = parquet.metadata.num_rows if n_rows is None else n_rows
    previous: pa.Array | None = None
    if not columns:  # only a row count is wanted: read the first column
        columns = [next(iter(schema))]
    for batch in parquet.iter_batches(batch_size=rows, columns=columns):
        batch = batch.slice(0, left)
        left -= batch.num_rows
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        got = frame.schema
        differ = pl.Schema([(n, schema[n]) for n in frame.columns if got[n] != schema[n]])
        if differ:
            frame = frame.cast(differ)
        if id_column is not None:
            ids = batch.column(id_column)
            steps, previous = _steps_down(ids, previous)
            frame = frame.with_columns(pl.Series(STEP_DOWN, steps, dtype=pl.Boolean))
        if predicate is not None:
            frame = frame.filter(predicate)
        yield frame.select(wanted)
        if left <= 0:
            return


def _steps_down(ids: pa.Array, previous: pa.Array | None) -> tuple[pa.Array, pa.Array | None]:
    """Per row: its id <= the previous row's (the first row compared with `previous`, the
    last id of the slice before); and this slice's last id."""
    if pa.types.is_dictionary(ids.type):  # pandas category ids: compared as their values
        ids = ids.dictionary_decode()
    if not len(ids):
        return pa.array([], pa.bool_()), previous
    joined = pa.concat_arrays([previous, ids]) if previous is not None else ids
    steps = pc.less_equal(joined[1:], joined[:-1])
    if previous is None:
        steps = pa.concat_arrays([pa.nulls(1, pa.bool_()), steps])
    return steps, ids[-1:]
