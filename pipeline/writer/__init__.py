"""Write prediction dumps from training code: `write_dump`, the writer side of the dump contract.

Inputs may be numpy arrays, Python lists, Polars Series/DataFrames, pandas
objects or framework tensors (pipeline/writer/columns.py turns them into columns).

The file is written to a hidden temporary name in the target folder, checked
with the reader's own rules (`pipeline.contract.open_dump` and its row checks,
with default settings), and only then renamed into place, so a dump that
breaks the contract raises `DumpError` and leaves nothing behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.base.files import atomic_output
from pipeline.base.options import ReaderOptions
from pipeline.contract import Counts, DumpError, open_dump, problem_counts, problems_found
from pipeline.contract.params import PARAMS_METADATA_KEY
from pipeline.contract.scores import CLASSES_METADATA_KEY
from pipeline.writer.columns import (
    ARROW_FLOATS,
    FloatType,
    epoch_column,
    sample_id_column,
    score_columns,
    slice_column,
    text_column,
    weight_column,
)


def write_dump(
    path: str | os.PathLike[str],
    *,
    sample_ids: Any,
    labels: Any = None,
    logits: Any = None,
    probs: Any = None,
    split: Any,
    model: Any,
    epoch: Any = None,
    label_probs: Any = None,
    classes: Any = None,
    weights: Any = None,
    dtype: FloatType = "float32",
    params: Mapping[str, str | int | float | bool] | None = None,
    **extra: Any,
) -> Path:
    """Write one prediction dump that lossgram will accept, atomically; return its path.

    - `sample_ids`: 1-D integers or strings, one per row.
    - exactly one of `logits` / `probs`: shape (n, C) with C >= 2, or 1-D (or
      (n, 1)) for the binary case, written as `logit` / `prob` of class 1.
    - `labels` (class indices, or class names with `classes`) and/or
      `label_probs` (soft targets, shape (n, C); 1-D in the binary case).
    - `split`, `model`: a string, or one string per row; `epoch`: an integer or
      one per row; `weights`: a number or one per row.
    - `classes`: class names in index order, stored as `lossgram.classes`.
    - `dtype`: float type of the prediction and target columns.
    - `params`: the model's hyperparameters ({"weight_decay": 0.01, "depth": 4}),
      stored as `lossgram.params`; models of a night with the same names form a sweep.
    - any other keyword: a slice column, one value per row (a scalar is repeated).

    Raises ValueError or TypeError for arguments that do not fit together, and
    `DumpError` (naming the column and the row count) for data that breaks the
    reader's checks; in either case no file is written or replaced.
    """
    target = _dump_path(path)
    if dtype not in ARROW_FLOATS:
        raise ValueError(f"dtype must be 'float32' or 'float64', not {dtype!r}")
    columns: dict[str, pa.Array] = {"sample_id": sample_id_column(sample_ids)}
    n_rows = len(columns["sample_id"])
    if (logits is None) == (probs is None):
        given = "both" if logits is not None else "neither"
        raise ValueError(f"pass exactly one of logits= or probs= (got {given})")
    if labels is None and label_probs is None:
        raise ValueError("pass labels= and/or label_probs=")
    kind, raw = ("logits", logits) if logits is not None else ("probs", probs)
    scores, class_names = score_columns(kind, raw, labels, label_probs, classes, n_rows, dtype)
    columns.update(scores)
    columns["split"] = text_column(split, "split", n_rows)
    columns["model"] = text_column(model, "model", n_rows)
    if epoch is not None:
        columns["epoch"] = epoch_column(epoch, n_rows)
    if weights is not None:
        columns["weight"] = weight_column(weights, n_rows)
    for name, value in extra.items():
        _not_a_near_miss(name)
        columns[name] = slice_column(value, name, n_rows)

    table = pa.table(columns)
    metadata = {}
    if class_names is not None:
        metadata[CLASSES_METADATA_KEY] = json.dumps(class_names).encode()
    if params is not None:
        metadata[PARAMS_METADATA_KEY] = _params_json(params)
    if metadata:
        table = table.replace_schema_metadata(metadata)
    _write_checked(table, target)
    return target


def _params_json(params: Mapping[str, Any]) -> bytes:
    """params as the lossgram.params metadata: a JSON object of scalars."""
    scalars = (str, int, float, bool)
    if not isinstance(params, Mapping) or not all(
        isinstance(name, str) and name and isinstance(value, scalars)
        for name, value in params.items()
    ):
        raise TypeError(
            "params must map names to numbers, strings or booleans, e.g. "
            '{"weight_decay": 0.01, "depth": 4}'
        )
    return json.dumps(dict(params)).encode()


# The arguments and contract columns a slice column's name must not be a near miss of.
CONTRACT_NAMES = (
    "sample_ids", "labels", "logits", "probs", "split", "model", "epoch", "label_probs",
    "classes", "weights", "dtype", "params", "sample_id", "label", "logit", "prob", "logprob",
    "weight",
)  # fmt: skip


def _not_a_near_miss(name: str) -> None:
    """`epochs=3` would become a slice column named epochs and the epoch would be lost:
    a name one or two letters from an argument or contract column is an error."""
    import difflib

    close = difflib.get_close_matches(name, CONTRACT_NAMES, n=1, cutoff=0.8)
    if close and name not in CONTRACT_NAMES:
        raise ValueError(
            f"{name}= is not an argument of write_dump: did you mean {close[0]}=? (other "
            "keyword arguments become slice columns; rename it if it is one)"
        )


def _dump_path(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    if not target.name.endswith(".parquet") or target.name.startswith((".", "_")):
        raise ValueError(
            f"path: {target.name!r} must end in .parquet and not start with '.' or '_' "
            "(lossgram reads folders for *.parquet and skips hidden files)"
        )
    return target


# -- writing -----------------------------------------------------------------------------


def _write_checked(table: pa.Table, target: Path) -> None:
    """Write to a hidden temp file beside target, check it as the reader would, rename."""
    with atomic_output(target) as temp:
        pq.write_table(table, temp, compression="zstd")
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        _validate(temp, target)


def _validate(temp: Path, target: Path) -> None:
    """The reader's checks: schema ones in open_dump, row ones counted in one pass."""
    try:
        dump = open_dump(temp, ReaderOptions())
    except DumpError as error:
        raise DumpError(target, error.problems) from None
    if not dump.checks:
        return
    counts = dump.frame.select(problem_counts(dump.checks, screened=False)).collect(
        engine="streaming"
    )
    problems = problems_found(dump.checks, Counts(counts.row(0, named=True)))
    if problems:
        raise DumpError(target, problems)
