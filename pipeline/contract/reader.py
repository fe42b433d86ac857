"""Open dumps: read a file's footer, check its schema and build its canonical lazy frame.

`open_dump` reads only the Parquet footer: problems visible in the schema raise
`DumpError` at once; problems in the data are counted later, in the pass that computes
the losses. `open_batch` does the same for a group of small files read as one query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipeline.base.options import ReaderOptions
from pipeline.contract.batching import FILE_INDEX, PATH_VALUE
from pipeline.contract.canonical import build_dump
from pipeline.contract.discovery import hive_keys
from pipeline.contract.problems import DumpError, Problem
from pipeline.contract.slices import sliced_scan
from pipeline.contract.source import Dump, Source


def open_dump(path: Path, options: ReaderOptions) -> Dump:
    """Read a dump's footer, check its schema and build its canonical lazy frame."""
    n_rows, metadata = _footer(path)
    _metadata_is_text(path, metadata)
    try:
        schema = pl.scan_parquet(path).collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DumpError(path, [Problem(None, n_rows, unreadable(error))]) from error
    if n_rows == 0:
        raise DumpError(path, [Problem(None, 0, "the file has no rows")])
    raw_names = frozenset(schema.names())
    renames = _renames(path, schema, options.column_map, n_rows)
    id_column = next((name for name, to in renames.items() if to == "sample_id"), "sample_id")
    # Decoded a slice at a time by pyarrow: memory bounded whatever the row groups.
    frame = sliced_scan(path, schema, id_column)
    frame, schema = _renamed(frame, schema, renames)
    return build_dump(Source(path, frame, schema, n_rows, metadata, raw_names, options))


def open_batch(paths: Sequence[Path], options: ReaderOptions, n_rows: int) -> Dump:
    """Dumps grouped by plan_batches (n_rows in all) as one canonical lazy frame over all
    their files; FILE_INDEX tells each row's file (its position in paths). A schema
    problem is raised for the first file: the caller then opens each file alone."""
    first = paths[0]
    _, metadata = _footer(first)
    names = [str(path) for path in paths]
    source_path = "__path"

    def per_file(values: Sequence[object], dtype: pl.DataType) -> pl.Expr:
        return pl.col(source_path).replace_strict(names, values, return_dtype=dtype)

    hive = [hive_keys(path, options.folders_below) for path in paths]
    frame = pl.scan_parquet(names, include_file_paths=source_path).with_columns(
        per_file(range(len(names)), pl.UInt32()).alias(FILE_INDEX),
        per_file([path.stem for path in paths], pl.String()).alias(PATH_VALUE + "stem"),
        *(
            per_file([values[key] for values in hive], pl.String()).alias(PATH_VALUE + key)
            for key in hive[0]
        ),
    )
    try:
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DumpError(first, [Problem(None, n_rows, unreadable(error))]) from error
    frame = frame.drop(source_path)
    schema = pl.Schema({name: dtype for name, dtype in schema.items() if name != source_path})
    raw_names = frozenset(name for name in schema.names() if name != FILE_INDEX)
    renames = _renames(first, schema, options.column_map, n_rows)
    frame, schema = _renamed(frame, schema, renames)
    source = Source(first, frame, schema, n_rows, metadata, raw_names, options, batched=True)
    return build_dump(source)


def _footer(path: Path) -> tuple[int, dict[bytes, bytes]]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for corrupt files
        looks = _looks_like(path)
        message = unreadable(error)
        if looks:
            message = f"unreadable Parquet: not a Parquet file, it looks like {looks}"
        raise DumpError(path, [Problem(None, 0, message)]) from error
    return parquet.metadata.num_rows, dict(parquet.schema_arrow.metadata or {})


# What Arrow and Polars say of a broken file, said plainly (first match wins).
PLAIN_READ_ERRORS = [
    (re.compile(r"file size is 0 bytes"), "the file is empty (0 bytes)"),
    (
        re.compile(r"smaller than the (minimum file footer|size reported by footer)|magic bytes"),
        "truncated or corrupt: no whole Parquet footer at its end (was it still being "
        "written? write to a temporary name, then rename)",
    ),
    (re.compile(r"deserializ|thrift|invalid footer", re.IGNORECASE), "corrupt Parquet footer"),
    (
        re.compile(r"column with name '(.*)' has more than one occurrence"),
        "column '\\1' appears more than once: give each column its own name",
    ),
]


def unreadable(error: BaseException) -> str:
    """The problem text of a file the reader could not open: a plain phrase for the known
    failures, else the first line of the reader's own words."""
    text = str(error)
    for pattern, plain in PLAIN_READ_ERRORS:
        found = pattern.search(text)
        if found:
            return f"unreadable Parquet: {found.expand(plain)}"
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"unreadable Parquet: {first_line[:300]}"


def _metadata_is_text(path: Path, metadata: dict[bytes, bytes]) -> None:
    """Parquet key-value metadata that is not UTF-8 breaks the reader before any column:
    name the key instead."""
    for key, value in metadata.items():
        try:
            key.decode()
            value.decode()
        except UnicodeDecodeError:
            shown = key.decode(errors="replace")
            message = f"metadata key {shown!r} holds bytes that are not UTF-8 text"
            raise DumpError(path, [Problem(None, 0, message)]) from None


def _looks_like(path: Path) -> str | None:
    """What a file that does not start like Parquet seems to be, from its first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    if head.startswith(b"PAR1") or not head:
        return None
    text = head.lstrip()
    if text[:1] in (b"{", b"["):
        return "JSON (write the dump as Parquet: see README, Writing dumps)"
    try:
        decoded = head.decode()
    except UnicodeDecodeError:
        return "some other binary format"
    if "," in decoded or "\t" in decoded:
        return "CSV text (write the dump as Parquet: see README, Writing dumps)"
    return "text"


def _renames(
    path: Path, schema: pl.Schema, column_map: dict[str, str], n_rows: int
) -> dict[str, str]:
    """The canonical=source column mappings that this file needs (source -> canonical)."""
    renames = {
        source: canonical
        for canonical, source in column_map.items()
        if source in schema and source != canonical
    }
    clashes = [canonical for canonical in renames.values() if canonical in schema]
    if clashes:
        problems = [
            Problem(name, n_rows, "the file has this column and a column mapped onto it")
            for name in clashes
        ]
        raise DumpError(path, problems)
    return renames


def _renamed(
    frame: pl.LazyFrame, schema: pl.Schema, renames: dict[str, str]
) -> tuple[pl.LazyFrame, pl.Schema]:
    """The frame with its columns renamed (source -> canonical)."""
    if not renames:
        return frame, schema
    frame = frame.rename(renames)
    return frame, pl.Schema({renames.get(name, name): dtype for name, dtype in schema.items()})
