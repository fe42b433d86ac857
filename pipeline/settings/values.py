"""What a setting's value may be: the text formats settings arrive in (env variables,
flags, TOML strings: `a,b`, `key=value,...`, `none`), and the rules a value must keep
(checked when settings load, one line naming the setting, before anything runs)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator
from pydantic.types import StrictFloat, StrictInt, StrictStr

from pipeline.warehouse.store import parse_location

if TYPE_CHECKING:
    from pydantic import ValidationInfo

URI_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")
# The most bins a linear scheme may have (a tiny width once hung a run), the most
# bootstrap resamples (1e8 once hung one), the most ECE bins.
MAX_LINEAR_BINS, MAX_RESAMPLES, MAX_ECE_BINS = 10_000, 100_000, 1_000
MIN_DUCKDB_MEMORY = 128 * 2**20  # a writer under this cannot aggregate a night
MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.I)
UNITS = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def _strings(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _urls(text: str) -> tuple[str, ...]:
    """Notification URLs: separated by whitespace (an Apprise URL may hold commas)."""
    return tuple(text.split())


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in _strings(text))


def _optional_int(text: str) -> int | None:
    return None if text.strip().lower() in ("", "none") else int(text)


def _mapping(text: str, form: str = "canonical=source") -> dict[str, str]:
    """`label=target,logits=scores` (canonical=source) pairs."""
    pairs = [part.partition("=") for part in _strings(text)]
    for key, sep, value in pairs:
        if not (sep and key.strip() and value.strip()):
            raise ValueError(f"entry {key + sep + value!r} is not of the form {form}")
    return {key.strip(): value.strip() for key, _, value in pairs}


def _spark_conf(table: Mapping[str, Any] | str, prefix: str = "spark") -> dict[str, str]:
    """A TOML [spark] table (or key=value text) as flat spark.* keys: `executor.memory =
    "4g"` and `"spark.executor.memory" = "4g"` both give spark.executor.memory."""
    if isinstance(table, str):
        table = _mapping(table, "spark.key=value")
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = key if key.startswith("spark.") else f"{prefix}.{key}"
        if isinstance(value, Mapping):
            flat.update(_spark_conf(value, name))
        else:
            flat[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return flat


def warehouse_location(text: str | os.PathLike[str]) -> Path | str:
    """A folder (a Path), or an object store's URI kept as text (s3://bucket/prefix). A
    URI cut short (s3://, s3:/bucket: an unset $BUCKET, a lost slash) is refused rather
    than taken for a local folder named "s3:"."""
    value = str(text)
    cut_short = URI_LIKE.match(value) and not value.partition("://")[2].strip("/")
    if cut_short and not value.startswith("file:"):
        raise ValueError(f"{value!r} is not a URI like s3://bucket/prefix")
    return parse_location(value)


def reports_location(text: str | os.PathLike[str]) -> Path | str:
    """A reports folder (a Path, which may not exist yet), or an object store's URI the
    pages are published to (the stores a warehouse may use)."""
    value = str(text)
    if URI_LIKE.match(value) and not value.startswith("file:"):
        return warehouse_location(value)
    return Path(value.removeprefix("file://"))


def memory_bytes(text: str) -> float:
    """A DuckDB memory limit such as 2GB or 512MiB, in bytes (NaN when it is none)."""
    match = MEMORY.match(text)
    return float(match.group(1)) * UNITS[match.group(2).upper()] if match else math.nan


def _finite(low: float, high: float = math.inf) -> Callable[[Any], bool]:
    return lambda value: math.isfinite(value) and low <= value <= high


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


# What each checked setting takes, and what it says of a value it refuses.
CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "label_smoothing": (lambda e: 0.0 <= e < 1.0, "label_smoothing must be in [0, 1), got {}"),
    "eps": (lambda eps: 0.0 < eps < 1.0, "eps must be in (0, 1), got {}"),
    "class_weights": (
        lambda w: w is None or all(_finite(0)(x) for x in w),
        "class_weights must be >= 0 and finite, got {}",
    ),
    "dump_timeout": (lambda seconds: seconds >= 0, "dump_timeout must be >= 0 seconds, got {}"),
    "lock_timeout": (_finite(0), "lock_timeout must be a finite number of seconds >= 0, got {}"),
    "misfire_grace": (_finite(0), "misfire_grace must be a finite number of seconds >= 0, got {}"),
    "notify_timeout": (_positive, "notify_timeout must be a finite number of seconds > 0, got {}"),
    "linear_bin_width": (_positive, "linear_bin_width must be a finite number > 0, got {}"),
    "linear_bin_max": (_positive, "linear_bin_max must be a finite number > 0, got {}"),
    "min_samples": (lambda n: n >= 1, "min_samples must be >= 1, got {}"),
    "underfit_ratio": (_positive, "underfit_ratio must be a finite number > 0, got {}"),
    "overfit_gap": (_finite(0), "overfit_gap must be a finite number >= 0, got {}"),
    "bootstrap_resamples": (
        lambda n: 1 <= n <= MAX_RESAMPLES,
        f"bootstrap_resamples must be in [1, {MAX_RESAMPLES}], got {{}}",
    ),
    "bootstrap_max_samples": (lambda n: n >= 1, "bootstrap_max_samples must be >= 1, got {}"),
    "seed": (lambda n: n >= 0, "seed must be >= 0, got {}"),
    "ece_bins": (
        lambda n: 1 <= n <= MAX_ECE_BINS,
        f"ece_bins must be in [1, {MAX_ECE_BINS}], got {{}}",
    ),
    "duckdb_memory_limit": (
        lambda text: memory_bytes(text) >= MIN_DUCKDB_MEMORY,
        "duckdb_memory_limit must be a size such as 2GB, at least 128MiB, got {!r}",
    ),
    "sql_memory_limit": (
        lambda text: memory_bytes(text) >= MIN_DUCKDB_MEMORY,
        "sql_memory_limit must be a size such as 2GB, at least 128MiB, got {!r}",
    ),
    "bad_rows": (lambda v: v in ("reject", "skip"), "bad_rows must be reject or skip, got {!r}"),
    "engine": (lambda v: v in ("duckdb", "spark"), "engine must be duckdb or spark, got {!r}"),
    "bins": (lambda v: v in ("log", "linear"), "bins must be log or linear, got {!r}"),
}


def within_limits(linear_bin_width: float, linear_bin_max: float) -> str | None:
    """What is wrong with settings that are fine alone but not together, or None."""
    if linear_bin_max / linear_bin_width > MAX_LINEAR_BINS:
        return (
            f"linear_bin_max / linear_bin_width gives {linear_bin_max / linear_bin_width:.0f} "
            f"bins, more than {MAX_LINEAR_BINS}: widen the bins"
        )
    return None


# -- the kinds of setting: text in lossgram's formats, other values of the right type --
def _text(parse: Callable[[Any], Any], tables: bool = False) -> BeforeValidator:
    """Text (env, a flag, a TOML string) read in the setting's format, and TOML tables too
    if `tables`; any other value goes to the field's (strict) type, which refuses a wrong
    kind (a TOML `fail_on = 3`) before anything runs."""

    def read(value: Any, info: ValidationInfo) -> Any:
        if tables and isinstance(value, Mapping):
            return parse(value)
        if not isinstance(value, str):
            return value
        try:
            return parse(value)
        except (TypeError, ValueError) as error:
            name = info.field_name
            raise ValueError(f"setting {name}: cannot read {value!r}: {error}") from error

    return BeforeValidator(read)


Number = Annotated[StrictFloat, _text(float)]
Whole = Annotated[StrictInt, _text(int)]
Folder = Annotated[Path, _text(Path)]
Names = Annotated[tuple[StrictStr, ...], _text(_strings)]
Urls = Annotated[tuple[StrictStr, ...], _text(_urls)]
# What a kind of setting takes, in an error's words, by pydantic's complaint: about the
# whole value (a TOML `fail_on = 3`), or an item of its list or table (`fail_on = [3]`).
TAKES = {"float_type": "a number", "int_type": "a whole number", "string_type": "text"}
TAKES |= {"path_type": "text", "tuple_type": "a list or text", "dict_type": "a table or text"}
ITEMS: dict[tuple[str, type], str] = {("string_type", str): "text values"}
ITEMS |= {("float_type", int): "a list of numbers", ("string_type", int): "a list of strings"}
