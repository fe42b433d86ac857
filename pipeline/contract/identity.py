"""Contract steps for who a row is: sample_id, split, model, epoch, folder slices, and
the duplicate-id rule."""

from __future__ import annotations

import polars as pl

from pipeline.contract.batching import FILE_INDEX
from pipeline.contract.checks import as_int64
from pipeline.contract.cross_entropy import LOSS_COLUMNS
from pipeline.contract.slices import STEP_DOWN
from pipeline.contract.source import Draft, Source

IDENTITY_KEYS = ("split", "model", "epoch")
DUPLICATE_RULE = "sample_id_duplicate"  # the one rule that looks at every row of the file
# Columns lossgram computes: a dump column (or key=value folder) of the same name would
# be overwritten without a word, so it is refused.
COMPUTED_COLUMNS = frozenset(LOSS_COLUMNS).difference(
    ("sample_id", "model", "split", "epoch", "label", "weight")
) | {"snapshot_date"}


def identity_columns(source: Source, draft: Draft) -> None:
    """sample_id, split, model, epoch: from the file, else hive folders, else settings."""
    sample_id(source, draft)
    text_column(source, draft, "split", source.options.split, required=True)
    text_column(source, draft, "model", source.options.model, required=False, stem=True)
    epoch(source, draft)
    given = {*source.schema.names(), *source.hive}
    for name in sorted(COMPUTED_COLUMNS & given):
        message = "has the name of a column lossgram computes: rename it in the dump"
        draft.schema_problem(name, message)
    # Other hive keys become slice columns unless the file has them already, or they name
    # the model's hyperparameters (param_keys: one value per model, a sweep's, not a slice).
    for key in source.hive:
        named = key in IDENTITY_KEYS or key in source.options.param_keys
        if not named and key not in source.schema:
            draft.canonical[key] = source.path_value(key)


def sample_id(source: Source, draft: Draft) -> None:
    dtype = source.dtype_of("sample_id")
    if dtype is None:
        draft.schema_problem("sample_id", source.missing("sample_id"))
    elif not (dtype.is_integer() or dtype in (pl.String, pl.Categorical)):
        draft.schema_problem("sample_id", f"must be integer or string, not {dtype}")
    else:
        # Integer ids stay integers (cheaper to check and write, sort numerically);
        # mixed warehouses read them as VARCHAR (DuckDB union_by_name). Dictionary-encoded
        # ids (pandas category) are strings.
        draft.canonical["sample_id"] = (
            as_int64(draft, "sample_id", dtype)
            if dtype.is_integer()
            else pl.col("sample_id").cast(pl.String)
        )
        is_null = pl.col("sample_id").is_null()
        draft.check("sample_id_null", "sample_id", "sample_id is null", is_null, raw=True)


def text_column(
    source: Source,
    draft: Draft,
    name: str,
    fallback: str | None,
    *,
    required: bool,
    stem: bool = False,
) -> None:
    """From the file's column, else its name= folder, else the setting (else the file
    name's stem, for the model)."""
    dtype = source.dtype_of(name)
    if dtype is None:
        if name in source.hive:
            draft.canonical[name] = source.path_value(name)
        elif fallback is not None:
            draft.canonical[name] = pl.lit(fallback, dtype=pl.String)
        elif stem:
            draft.canonical[name] = source.path_value("stem")
        elif required:
            hint = f"no {name} column, no {name}= folder and no --{name} given"
            draft.schema_problem(name, f"required column is missing ({hint})")
    elif dtype not in (pl.String, pl.Categorical) and not isinstance(dtype, pl.Enum):
        draft.schema_problem(name, f"must be a string, not {dtype}")
    else:
        text = pl.col(name).cast(pl.String)
        draft.canonical[name] = text
        empty = text.is_null() | (text == "")
        draft.check(f"{name}_empty", name, f"{name} is null or empty", empty, raw=True)


def epoch(source: Source, draft: Draft) -> None:
    dtype = source.dtype_of("epoch")
    if dtype is None:
        folder = source.hive.get("epoch")
        if folder is None:
            draft.canonical["epoch"] = pl.lit(None, dtype=pl.Int64)
        elif not _is_integer(folder):
            draft.schema_problem("epoch", f"folder epoch={folder} is not an integer")
        else:  # every file of a batch has an integer epoch folder (plan_batches)
            draft.canonical["epoch"] = source.path_value("epoch").cast(pl.Int64)
    elif not dtype.is_integer():
        draft.schema_problem("epoch", f"must be an integer, not {dtype}")
    else:
        draft.canonical["epoch"] = as_int64(draft, "epoch", dtype)


def _is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def duplicates(source: Source, draft: Draft) -> None:
    """sample_id must not repeat within (model, split, epoch)."""
    # Only keys that vary within the file take part: folder/flag values are constant.
    keys = [name for name in IDENTITY_KEYS if name in source.schema]
    row_key = pl.struct(*keys, "sample_id") if keys else pl.col("sample_id")
    message = "sample_id repeats within (model, split, epoch)"
    if source.batched:
        # Small files, one query: the same screen as a Polars aggregate per file.
        ids = pl.col("sample_id")
        repeated = row_key.is_duplicated().over(FILE_INDEX)
        screen = (ids <= ids.shift(1)).sum()
        draft.check(DUPLICATE_RULE, "sample_id", message, repeated, raw=True, screen=screen)
        return
    # Ids that only grow down the file are unique within every group: counting the steps
    # that do not grow (the column the sliced decode adds) takes constant memory, where
    # hashing every id grows with the file and Polars does not stream shift()
    # (bench/README.md). Files not sorted by id get the exact count.
    repeated, screen = row_key.is_duplicated(), pl.col(STEP_DOWN).sum()
    draft.check(DUPLICATE_RULE, "sample_id", message, repeated, raw=True, screen=screen)
