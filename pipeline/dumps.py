"""Find prediction dumps, read them lazily and check them against the dump contract.

`open_dump` reads only the Parquet footer: problems visible in the schema
(missing or doubled columns, wrong dtypes, empty or unreadable files) raise
`DumpError` at once. Problems in the data (NaN logits, labels out of range,
rows not summing to 1, duplicate ids, ...) become boolean `_bad_*` columns on
the canonical frame, so the same single pass that computes the losses counts
them; `problems_found` turns those counts into a `DumpError`.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.settings import Settings

BINARY_COLUMNS = ("logit", "prob")
VECTOR_COLUMNS = ("logits", "probs")
RAW_PREDICTION_COLUMNS = (*VECTOR_COLUMNS, *BINARY_COLUMNS, "logprob")
FLAG_PREFIX = "_bad_"
SUM_TOLERANCE = 1e-3  # rows of probabilities must sum to 1 within this
CLASSES_METADATA_KEY = b"lossgram.classes"

# Many small dumps: each Polars query costs milliseconds whatever its size, so dumps of at
# most SMALL_DUMP_ROWS rows that share a schema are read as one query over their files,
# BATCH_ROWS rows at most (bench/README.md, many-files target).
SMALL_DUMP_ROWS = 250_000
BATCH_ROWS = 500_000
FILE_INDEX = "lossgram_batch_file"  # a row's file in its batch: kept through the losses
PATH_VALUE = "__path_"  # a batch's per-file values from the paths (hive keys, stem)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dump: which column, how many rows, what."""

    column: str | None
    rows: int
    message: str

    def __str__(self) -> str:
        where = f"column '{self.column}'" if self.column else "file"
        noun = "row" if self.rows == 1 else "rows"
        return f"{where}: {self.rows} {noun}: {self.message}"


class DumpError(Exception):
    """A dump breaks the contract; names the file, the columns and the row counts."""

    def __init__(self, path: Path, problems: Sequence[Problem]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: " + "; ".join(str(problem) for problem in self.problems)


@dataclass(frozen=True)
class Check:
    """A row-level rule: the flag column is True on every row that breaks it.

    `screen`, when set, is a cheaper count that is 0 whenever no row breaks the rule:
    an aggregate in the same pass, or a function run on the file beside it. The exact
    count (the sum of the flag) is then needed only when the screen is not 0.
    """

    flag: str
    column: str
    message: str
    screen: pl.Expr | Callable[[], int] | None = None


@dataclass(frozen=True)
class Dump:
    """One dump file, as a canonical lazy frame plus its row-level checks."""

    path: Path
    frame: pl.LazyFrame
    checks: tuple[Check, ...]
    n_rows: int


def find_dumps(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files, folders (recursively, hive layout allowed) and globs to Parquet files."""
    found: dict[Path, None] = {}  # insertion-ordered set: a file named twice is read once
    for given in paths:
        path = Path(given)
        if path.is_dir():
            matches = sorted(p for p in path.rglob("*.parquet") if _visible(p, path))
        elif path.is_file():
            matches = [path]
        else:
            matches = sorted(Path(p) for p in glob.glob(str(given), recursive=True))
            matches = [p for p in matches if p.is_file()]
        if not matches:
            raise DumpError(path, [Problem(None, 0, "no such file, folder or matching glob")])
        found.update(dict.fromkeys(matches))
    return list(found)


def _visible(path: Path, root: Path) -> bool:
    # Spark/Hadoop write _SUCCESS and .crc side files; temp files start with a dot.
    return not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def hive_values(path: Path) -> dict[str, str]:
    """key=value folder names above a file, e.g. model=resnet/split=test/part-0.parquet."""
    values: dict[str, str] = {}
    for part in path.parent.parts:
        key, sep, value = part.partition("=")
        if sep and key and value:
            values[key] = value
    return values


def open_dump(path: Path, settings: Settings) -> Dump:
    """Read a dump's footer, check its schema and build its canonical lazy frame."""
    n_rows, metadata = _footer(path)
    try:
        frame = pl.scan_parquet(path)
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DumpError(path, [Problem(None, n_rows, f"unreadable Parquet: {error}")]) from error
    if n_rows == 0:
        raise DumpError(path, [Problem(None, 0, "the file has no rows")])

    raw_names = frozenset(schema.names())
    frame, schema = _renamed(path, frame, schema, settings.column_map, n_rows)
    builder = _CanonicalBuilder(path, frame, schema, n_rows, settings, metadata, raw_names)
    return builder.build()


class BatchPlan(NamedTuple):
    """Small dumps one query can read: their positions in the planned paths, their rows."""

    positions: list[int]
    rows: int


def plan_batches(paths: Sequence[Path]) -> list[BatchPlan]:
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
        hive = hive_values(path)
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


def open_batch(paths: Sequence[Path], settings: Settings, n_rows: int) -> Dump:
    """Dumps grouped by plan_batches (n_rows in all) as one canonical lazy frame over all
    their files; FILE_INDEX tells each row's file (its position in paths). A schema
    problem is raised for the first file: the caller then opens each file alone."""
    first = paths[0]
    _, metadata = _footer(first)
    names = [str(path) for path in paths]
    source = "__path"

    def per_file(values: Sequence[object], dtype: pl.DataType) -> pl.Expr:
        return pl.col(source).replace_strict(names, values, return_dtype=dtype)

    hive = [hive_values(path) for path in paths]
    frame = pl.scan_parquet(names, include_file_paths=source).with_columns(
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
        raise DumpError(first, [Problem(None, n_rows, f"unreadable Parquet: {error}")]) from error
    frame = frame.drop(source)
    schema = pl.Schema({name: dtype for name, dtype in schema.items() if name != source})
    raw_names = frozenset(name for name in schema.names() if name != FILE_INDEX)
    frame, schema = _renamed(first, frame, schema, settings.column_map, n_rows)
    builder = _CanonicalBuilder(
        first, frame, schema, n_rows, settings, metadata, raw_names, batched=True
    )
    return builder.build()


def _footer(path: Path) -> tuple[int, dict[bytes, bytes]]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for corrupt files
        raise DumpError(path, [Problem(None, 0, f"unreadable Parquet: {error}")]) from error
    return parquet.metadata.num_rows, dict(parquet.schema_arrow.metadata or {})


def _renamed(
    path: Path, frame: pl.LazyFrame, schema: pl.Schema, column_map: dict[str, str], n_rows: int
) -> tuple[pl.LazyFrame, pl.Schema]:
    """Apply canonical=source column mappings that this file needs."""
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
    if not renames:
        return frame, schema
    frame = frame.rename(renames)
    return frame, frame.collect_schema()


def _flag(name: str) -> str:
    return FLAG_PREFIX + name


class _CanonicalBuilder:
    """Schema-level checks and the expressions of the canonical frame for one file."""

    def __init__(
        self,
        path: Path,
        frame: pl.LazyFrame,
        schema: pl.Schema,
        n_rows: int,
        settings: Settings,
        metadata: dict[bytes, bytes],
        raw_names: frozenset[str],
        *,
        batched: bool = False,
    ) -> None:
        self.path = path
        self.batched = batched  # a frame over many files (open_batch)
        self.raw_names = raw_names
        self.frame = frame
        self.schema = schema
        self.n_rows = n_rows
        self.settings = settings
        self.metadata = metadata
        self.hive = hive_values(path)
        self.problems: list[Problem] = []
        self.checks: list[Check] = []
        self.raw_flags: dict[str, pl.Expr] = {}
        self.canonical: dict[str, pl.Expr] = {}
        self.later_flags: dict[str, pl.Expr] = {}

    # -- helpers -----------------------------------------------------------
    def schema_problem(self, column: str | None, message: str) -> None:
        self.problems.append(Problem(column, self.n_rows, message))

    def check(
        self,
        name: str,
        column: str,
        message: str,
        expr: pl.Expr,
        *,
        raw: bool,
        screen: pl.Expr | Callable[[], int] | None = None,
    ) -> None:
        """Register a row-level rule; raw rules see the file's columns, others canonical ones."""
        flag = _flag(name)
        self.checks.append(Check(flag, column, message, screen))
        (self.raw_flags if raw else self.later_flags)[flag] = expr.fill_null(False)

    def dtype_of(self, column: str) -> pl.DataType | None:
        return self.schema.get(column)

    def path_value(self, key: str) -> pl.Expr:
        """A value from the file's path (a hive folder key, or "stem"): in a batch, the
        column open_batch derived from each row's file."""
        if self.batched:
            return pl.col(PATH_VALUE + key)
        return pl.lit(self.path.stem if key == "stem" else self.hive[key], dtype=pl.String)

    # -- the build ---------------------------------------------------------
    def build(self) -> Dump:
        self.identity_columns()
        kind = self.prediction_kind()
        n_classes = self.class_count(kind)
        classes = self.class_names(n_classes)
        if kind is not None:
            self.prediction(kind, n_classes)
            self.target(kind, n_classes, classes)
        self.weight()
        if self.problems:
            raise DumpError(self.path, self.problems)
        self.duplicates()

        frame = self.frame.with_columns(**self.raw_flags).with_columns(**self.canonical)
        if self.later_flags:
            frame = frame.with_columns(**self.later_flags)
        replaced = [name for name in BINARY_COLUMNS if name in self.schema]
        frame = frame.drop(replaced)
        return Dump(
            path=self.path,
            frame=frame,
            checks=tuple(self.checks),
            n_rows=self.n_rows,
        )

    def identity_columns(self) -> None:
        """sample_id, split, model, epoch: from the file, else hive folders, else settings."""
        sample_dtype = self.dtype_of("sample_id")
        if sample_dtype is None:
            self.schema_problem("sample_id", "required column is missing")
        elif not (sample_dtype.is_integer() or sample_dtype == pl.String):
            self.schema_problem("sample_id", f"must be integer or string, not {sample_dtype}")
        else:
            # Integer ids stay integers (cheaper to check and write, sort numerically);
            # mixed warehouses read them as VARCHAR (DuckDB union_by_name).
            self.canonical["sample_id"] = pl.col("sample_id").cast(
                pl.Int64 if sample_dtype.is_integer() else pl.String
            )
            self.check(
                "sample_id_null",
                "sample_id",
                "sample_id is null",
                pl.col("sample_id").is_null(),
                raw=True,
            )

        self.text_column("split", self.settings.split, required=True)
        self.text_column("model", self.settings.model, required=False, stem_fallback=True)

        epoch_dtype = self.dtype_of("epoch")
        if epoch_dtype is None:
            epoch = self.hive.get("epoch")
            try:
                if epoch is not None:
                    int(epoch)  # every file of a batch has an integer epoch folder
                self.canonical["epoch"] = (
                    pl.lit(None, dtype=pl.Int64)
                    if epoch is None
                    else self.path_value("epoch").cast(pl.Int64)
                )
            except ValueError:
                self.schema_problem("epoch", f"folder epoch={epoch} is not an integer")
        elif not epoch_dtype.is_integer():
            self.schema_problem("epoch", f"must be an integer, not {epoch_dtype}")
        else:
            self.canonical["epoch"] = pl.col("epoch").cast(pl.Int64)

        # Other hive keys become slice columns unless the file has them already.
        for key in self.hive:
            if key not in ("split", "model", "epoch") and key not in self.schema:
                self.canonical[key] = self.path_value(key)

    def text_column(
        self, name: str, fallback: str | None, *, required: bool, stem_fallback: bool = False
    ) -> None:
        """From the file's column, else its name= folder, else the setting (else the file
        name's stem, for the model)."""
        dtype = self.dtype_of(name)
        if dtype is None:
            if name in self.hive:
                self.canonical[name] = self.path_value(name)
            elif fallback is not None:
                self.canonical[name] = pl.lit(fallback, dtype=pl.String)
            elif stem_fallback:
                self.canonical[name] = self.path_value("stem")
            else:
                hint = f"no {name} column, no {name}= folder and no --{name} given"
                self.schema_problem(name, f"required column is missing ({hint})")
        elif dtype not in (pl.String, pl.Categorical) and not isinstance(dtype, pl.Enum):
            self.schema_problem(name, f"must be a string, not {dtype}")
        else:
            self.canonical[name] = pl.col(name).cast(pl.String)
            empty = pl.col(name).cast(pl.String).is_null() | (pl.col(name).cast(pl.String) == "")
            self.check(f"{name}_empty", name, f"{name} is null or empty", empty, raw=True)

    def prediction_kind(self) -> str | None:
        present = [name for name in RAW_PREDICTION_COLUMNS if name in self.schema]
        if not present:
            expected = ", ".join(RAW_PREDICTION_COLUMNS)
            self.schema_problem(None, f"no prediction column: expected one of {expected}")
            return None
        if len(present) > 1:
            for name in present:
                self.schema_problem(
                    name, f"several prediction columns ({', '.join(present)}): keep exactly one"
                )
            return None
        return present[0]

    def class_count(self, kind: str | None) -> int | None:
        """C from a fixed-size array, else from the first row of a list column."""
        if kind in BINARY_COLUMNS:
            return 2
        for name in (kind, "label_probs"):
            if name is None or name == "logprob":
                continue
            dtype = self.dtype_of(name)
            if isinstance(dtype, pl.Array):
                return int(dtype.size)
            if isinstance(dtype, pl.List):
                lengths = self.frame.select(pl.col(name).list.len()).drop_nulls().head(1).collect()
                if lengths.height:
                    return int(lengths.item())
        if kind == "logprob" and self.settings.classes:
            return len(self.settings.classes)
        return None

    def class_names(self, n_classes: int | None) -> tuple[str, ...] | None:
        raw = self.metadata.get(CLASSES_METADATA_KEY)
        if raw is None:
            return self.settings.classes
        try:
            names = json.loads(raw)
        except json.JSONDecodeError:
            names = None
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            self.schema_problem(None, "metadata lossgram.classes is not a JSON array of strings")
            return None
        if n_classes is not None and len(names) != n_classes:
            self.schema_problem(
                None,
                f"metadata lossgram.classes names {len(names)} classes, "
                f"the predictions have {n_classes}",
            )
        return tuple(names)

    def vector(self, name: str, n_classes: int | None) -> pl.Expr | None:
        """A list/array column as Array[f64, C]; ragged rows become null and are flagged."""
        dtype = self.dtype_of(name)
        if not isinstance(dtype, pl.List | pl.Array) or not dtype.inner.is_numeric():
            self.schema_problem(name, f"must be a list or array of numbers, not {dtype}")
            return None
        if n_classes is None:
            self.schema_problem(name, "every row is null: cannot tell the number of classes")
            return None
        if n_classes < 2:
            self.schema_problem(name, f"needs at least 2 classes, has {n_classes}")
            return None
        target = pl.Array(pl.Float64, n_classes)
        column = pl.col(name)
        self.check(f"{name}_null", name, "value is null", column.is_null(), raw=True)
        if isinstance(dtype, pl.Array):
            if dtype.size != n_classes:
                self.schema_problem(name, f"has {dtype.size} classes, expected {n_classes}")
            return column.cast(target)
        ragged = column.list.len() != n_classes
        self.check(
            f"{name}_ragged", name, f"has a class count other than {n_classes}", ragged, raw=True
        )
        return pl.when(~ragged).then(column).cast(target)

    def prediction(self, kind: str, n_classes: int | None) -> None:
        if kind in VECTOR_COLUMNS:
            expr = self.vector(kind, n_classes)
            if expr is None:
                return
            self.canonical[kind] = expr
            values = pl.col(kind)
            self.check(
                f"{kind}_nonfinite", kind, "contains NaN or inf", _not_all_finite(values), raw=False
            )
            if kind == "probs":
                self.probability_rows("probs", values)
            return

        dtype = self.dtype_of(kind)
        if dtype is None or not dtype.is_numeric():
            self.schema_problem(kind, f"must be a number, not {dtype}")
            return
        value = pl.col(kind).cast(pl.Float64)
        self.check(
            f"{kind}_nonfinite",
            kind,
            "is null, NaN or inf",
            ~value.is_finite().fill_null(False),
            raw=True,
        )
        if kind == "logit":
            self.canonical["logits"] = pl.concat_arr(pl.lit(0.0, dtype=pl.Float64), value)
        elif kind == "prob":
            self.check("prob_range", kind, "is outside [0, 1]", (value < 0) | (value > 1), raw=True)
            self.canonical["probs"] = pl.concat_arr(1.0 - value, value)
        else:
            self.check(
                "logprob_positive", kind, "is > 0 (a log-probability is <= 0)", value > 0, raw=True
            )
            self.canonical["logprob"] = value

    def probability_rows(self, name: str, values: pl.Expr) -> None:
        self.check(
            f"{name}_negative", name, "has a negative probability", values.arr.min() < 0, raw=False
        )
        self.check(
            f"{name}_sum",
            name,
            f"row does not sum to 1 (+-{SUM_TOLERANCE})",
            (values.arr.sum() - 1.0).abs() > SUM_TOLERANCE,
            raw=False,
        )

    def target(self, kind: str, n_classes: int | None, classes: tuple[str, ...] | None) -> None:
        has_label = "label" in self.schema
        has_soft = "label_probs" in self.schema
        if not has_label and not has_soft:
            self.schema_problem("label", "required column is missing (or give label_probs)")
            return
        if has_soft:
            if kind == "logprob":
                self.schema_problem("label_probs", "soft labels need logits or probs, not logprob")
                return
            expr = self.vector("label_probs", n_classes)
            if expr is not None:
                self.canonical["label_probs"] = expr
                soft = pl.col("label_probs")
                self.check(
                    "label_probs_nonfinite",
                    "label_probs",
                    "contains NaN or inf",
                    _not_all_finite(soft),
                    raw=False,
                )
                self.probability_rows("label_probs", soft)
        if has_label:
            self.hard_label(kind, n_classes, classes, required=not has_soft)
        else:
            # Accuracy of a soft target is measured against its most likely class.
            self.canonical["label"] = pl.col("label_probs").arr.arg_max().cast(pl.Int64)

    def hard_label(
        self, kind: str, n_classes: int | None, classes: tuple[str, ...] | None, *, required: bool
    ) -> None:
        dtype = self.dtype_of("label")
        label = pl.col("label")
        if dtype == pl.String or dtype == pl.Categorical or isinstance(dtype, pl.Enum):
            if classes is None:
                self.schema_problem(
                    "label",
                    "string labels need the class list: Parquet metadata "
                    "lossgram.classes or the classes setting",
                )
                return
            names = label.cast(pl.String)
            self.check(
                "label_unknown",
                "label",
                f"is not one of the {len(classes)} classes",
                names.is_not_null() & ~names.is_in(list(classes)),
                raw=True,
            )
            index = names.replace_strict(
                list(classes), list(range(len(classes))), default=None, return_dtype=pl.Int64
            )
        elif dtype is not None and dtype.is_integer():
            index = label.cast(pl.Int64)
        else:
            self.schema_problem("label", f"must be an integer class index or a string, not {dtype}")
            return

        if required:
            self.check("label_null", "label", "label is null", index.is_null(), raw=True)
        ignore = self.settings.ignore_index
        if n_classes is not None:
            in_range = (index >= 0) & (index < n_classes)
            ignored = index == ignore if ignore is not None else pl.lit(False)
            self.check(
                "label_range",
                "label",
                f"is outside [0, {n_classes})",
                ~in_range & ~ignored,
                raw=True,
            )
            index = pl.when(in_range | ignored).then(index)
        elif kind == "logprob" and self.settings.class_weights is not None:
            self.schema_problem(
                "label", "class_weights with a logprob dump need the classes setting to know C"
            )
        self.canonical["label"] = index

    def weight(self) -> None:
        dtype = self.dtype_of("weight")
        if dtype is None:
            self.canonical["weight"] = pl.lit(1.0, dtype=pl.Float64)
            return
        if not dtype.is_numeric():
            self.schema_problem("weight", f"must be a number, not {dtype}")
            return
        value = pl.col("weight").cast(pl.Float64)
        self.check(
            "weight_invalid",
            "weight",
            "is null, negative, NaN or inf",
            ~(value.is_finite() & (value >= 0)).fill_null(True),
            raw=True,
        )
        self.canonical["weight"] = value

    def duplicates(self) -> None:
        # Only keys that vary within the file take part: folder/flag values are constant.
        keys = [name for name in ("model", "split", "epoch") if name in self.schema]
        row_key = pl.struct(*keys, "sample_id") if keys else pl.col("sample_id")
        where = "(model, split, epoch)"
        if self.batched:
            # Small files, one query: the same screen as a Polars aggregate per file.
            ids = pl.col("sample_id")
            self.check(
                "sample_id_duplicate",
                "sample_id",
                f"sample_id repeats within {where}",
                row_key.is_duplicated().over(FILE_INDEX),
                raw=True,
                screen=(ids <= ids.shift(1)).sum(),
            )
            return
        self.check(
            "sample_id_duplicate",
            "sample_id",
            f"sample_id repeats within {where}",
            row_key.is_duplicated(),
            raw=True,
            # Ids that only grow down the file are unique within every group: counting
            # the steps that do not grow, a row group at a time, takes constant memory,
            # where hashing every id costs ~60 bytes a row and Polars does not stream
            # shift() (bench/README.md). Files not sorted by id get the exact count.
            screen=partial(ids_out_of_order, self.path, self.source_of("sample_id")),
        )

    def source_of(self, canonical: str) -> str:
        """The file's own name of a (possibly renamed) column."""
        source = self.settings.column_map.get(canonical)
        return source if source is not None and source in self.raw_names else canonical


def ids_out_of_order(path: Path, column: str) -> int:
    """Rows whose id is not greater than the previous row's, read a row group at a time."""
    parquet = pq.ParquetFile(path)
    previous: pa.Array | None = None
    count = 0
    for index in range(parquet.num_row_groups):
        ids = parquet.read_row_group(index, columns=[column]).column(0).combine_chunks()
        if previous is not None and len(ids):
            ids = pa.concat_arrays([previous, ids])
        if len(ids) > 1:
            count += pc.sum(pc.less_equal(ids[1:], ids[:-1])).as_py() or 0
        if len(ids):
            previous = ids[-1:]
    return int(count)


def _not_all_finite(values: pl.Expr) -> pl.Expr:
    """Some class score is NaN or +-inf: three cheap reductions instead of an
    element-wise pass (min and max catch the infinities, the sum catches NaN; the sum of
    finite scores can only overflow near 1e308, which is no score either)."""
    return ~(
        values.arr.min().is_finite() & values.arr.max().is_finite() & values.arr.sum().is_finite()
    )


def flag_columns(dump: Dump) -> list[str]:
    return [check.flag for check in dump.checks]


def problem_counts(checks: Sequence[Check], *, screened: bool = True) -> list[pl.Expr]:
    """Aggregates named after each check's flag: the rows breaking it (screened: maybe a
    cheaper number that is 0 exactly when no row breaks it; checks screened by a
    function are left to `run_screens`)."""
    counts = []
    for check in checks:
        if screened and check.screen is not None and not isinstance(check.screen, pl.Expr):
            continue  # a function on the file: run_screens
        count = check.screen if screened and isinstance(check.screen, pl.Expr) else None
        counts.append(
            (pl.col(check.flag).sum() if count is None else count).cast(pl.Int64).alias(check.flag)
        )
    return counts


def run_screens(checks: Sequence[Check]) -> dict[str, int]:
    """The counts of the checks screened by a function on the file."""
    return {
        check.flag: check.screen()
        for check in checks
        if check.screen is not None and not isinstance(check.screen, pl.Expr)
    }


def problems_found(dump: Dump, counts: dict[str, int]) -> list[Problem]:
    """The checks that some rows broke, with their row counts."""
    return [
        Problem(check.column, counts[check.flag], check.message)
        for check in dump.checks
        if counts.get(check.flag, 0) > 0
    ]
