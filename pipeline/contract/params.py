"""A model's hyperparameters as its dump declares them: the Parquet metadata
`lossgram.params` (a JSON object of numbers, strings and booleans) and the key=value
folders the `param_keys` setting names (wd=0.01/). Models of a night that share
parameter names form a sweep (the view `sweeps`)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.base.options import ReaderOptions
from pipeline.contract.discovery import hive_keys
from pipeline.contract.source import Draft, Source

PARAMS_METADATA_KEY = b"lossgram.params"
Params = tuple[tuple[str, str], ...]  # (name, value as text), by name


def as_text(value: object) -> str:
    """A parameter's value as stored: JSON's spelling for numbers and booleans (0.01,
    1e-05, true), strings as they are."""
    return value if isinstance(value, str) else json.dumps(value)


def check_params(source: Source, draft: Draft) -> None:
    """The metadata, when there, is a JSON object of scalars (a schema problem if not)."""
    raw = source.metadata.get(PARAMS_METADATA_KEY)
    if raw is not None and _parsed(raw) is None:
        draft.schema_problem(
            None,
            "metadata lossgram.params is not a JSON object of numbers, strings and "
            'booleans (e.g. {"weight_decay": 0.01, "depth": 4})',
        )


def _parsed(raw: bytes) -> dict[str, str] | None:
    try:
        found = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    scalars = (str, int, float, bool)
    if not isinstance(found, dict) or not all(
        isinstance(value, scalars) and name for name, value in found.items()
    ):
        return None
    return {str(name): as_text(value) for name, value in found.items()}


def declared_params(path: Path, options: ReaderOptions) -> Params | None:
    """An accepted dump's parameters (its footer was checked already): the param_keys
    folders above it, then its metadata (which wins where both name one)."""
    folders = hive_keys(path, options.folders_below)
    found = {key: folders[key] for key in options.param_keys if key in folders}
    raw = (pq.read_schema(path).metadata or {}).get(PARAMS_METADATA_KEY)
    found |= (_parsed(raw) or {}) if raw is not None else {}
    return tuple(sorted(found.items())) or None
