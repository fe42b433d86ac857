"""The one settings object: defaults < lossgram.toml < LOSSGRAM_* env < CLI flags."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.analysis.bins import (
    LINEAR_BIN_MAX,
    LINEAR_BIN_WIDTH,
    BinScheme,
    linear_bin_scheme,
    log_bin_scheme,
)
from pipeline.base.errors import LossgramError
from pipeline.base.options import (
    AnalysisOptions,
    LossSpec,
    ReaderOptions,
    ReportOptions,
    Thresholds,
)
from pipeline.warehouse.store import is_object_store, local_path

# The defaults of the option objects are the product's defaults, written once.
LOSS, THRESHOLDS, ANALYSIS = LossSpec(), Thresholds(), AnalysisOptions()

CONFIG_FILE = "lossgram.toml"
# What `fail_on` may name: verdicts, and a regression since the model's previous night.
GATE_CONDITIONS = ("overfit", "underfit", "insufficient_data", "regressed")
ENV_PREFIX = "LOSSGRAM_"


class SettingsError(LossgramError, ValueError):
    """A setting has a value lossgram cannot use."""


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def _strings(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _mapping(text: str, form: str = "canonical=source") -> dict[str, str]:
    """Parse `label=target,logits=scores` (canonical=source) pairs."""
    pairs: dict[str, str] = {}
    for part in _strings(text):
        canonical, sep, source = part.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise SettingsError(f"entry {part!r} is not of the form {form}")
        pairs[canonical.strip()] = source.strip()
    return pairs


def _spark_conf(table: Mapping[str, Any], prefix: str = "spark") -> dict[str, str]:
    """A TOML [spark] table as flat spark.* keys: `executor.memory = "4g"` and
    `"spark.executor.memory" = "4g"` both give spark.executor.memory."""
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
    if URI_LIKE.match(value) and not value.startswith("file:"):
        _, sep, rest = value.partition("://")
        if not sep or not rest.strip("/"):
            raise ValueError(f"{value!r} is not a URI like s3://bucket/prefix")
    return value.rstrip("/") if is_object_store(value) else local_path(value)


URI_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")


def _optional_int(text: str) -> int | None:
    return None if text.strip().lower() in ("", "none") else int(text)


def _setting(default: Any, help: str, parse: Callable[[str], Any] | None = None) -> Any:
    """A settings field: its default, its help (for `lossgram init`, the README), a parser."""
    metadata = {"help": help, "parse": parse}
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """Every knob of lossgram, each with a default and a help string."""

    inbox: Path = _setting(Path("data/inbox"), "Folder the nightly job reads new dumps from.", Path)
    warehouse: Path | str = _setting(
        Path("data/warehouse"),
        "Warehouse folder (losses Parquet and lossgram.duckdb), or an object-store URI "
        "such as s3://bucket/prefix (needs the setting catalog and pip install "
        "'lossgram[s3]').",
        warehouse_location,
    )
    reports: Path = _setting(Path("reports"), "Folder the HTML reports are written to.", Path)
    catalog: Path | None = _setting(
        None,
        "The DuckDB catalog file (default <warehouse>/lossgram.duckdb); put it on the "
        "driver's local disk when the warehouse is on a network file system or an object "
        "store (required there).",
        Path,
    )
    label_smoothing: float = _setting(
        LOSS.label_smoothing,
        "Label smoothing e in [0, 1): target (1-e)*onehot + e/C, as in PyTorch.",
        float,
    )
    class_weights: tuple[float, ...] | None = _setting(
        LOSS.class_weights,
        "Per-class weights w0,w1,...: the loss of a row becomes w_y * ce.",
        _floats,
    )
    ignore_index: int | None = _setting(
        LOSS.ignore_index,
        "Rows whose label equals this are left out of losses and counted (PyTorch: -100).",
        _optional_int,
    )
    eps: float = _setting(
        LOSS.eps, "Probabilities are clipped to at least eps before the log (cap -log eps).", float
    )
    column_map: dict[str, str] = _setting(
        {}, "Rename dump columns, canonical=source pairs, e.g. label=target.", _mapping
    )
    classes: tuple[str, ...] | None = _setting(
        None,
        "Class names for string labels when the dump has no lossgram.classes metadata.",
        _strings,
    )
    split: str | None = _setting(
        None, "Split name for dumps with neither a split column nor a split= folder.", str
    )
    model: str | None = _setting(
        None, "Model name for dumps with neither a model column nor a model= folder.", str
    )

    bad_rows: str = _setting(
        "reject", "Bad rows: reject (the whole file) or skip (drop and record each row).", str
    )
    lock_timeout: float = _setting(
        600.0, "Seconds a run waits for another run's warehouse lock before giving up.", float
    )
    dump_timeout: float = _setting(
        1800.0,
        "Seconds one dump (or batch of small dumps) may take to read before it is rejected "
        "and the night goes on (0: no bound).",
        float,
    )
    bins: str = _setting(
        "log", "Histogram bins: log ([0,1e-4), 20 per decade to 100, [100,inf)) or linear.", str
    )
    linear_bin_width: float = _setting(
        LINEAR_BIN_WIDTH, "Bin width of the linear bin scheme.", float
    )
    linear_bin_max: float = _setting(
        LINEAR_BIN_MAX, "Upper edge of the linear scheme; one more bin runs to inf.", float
    )
    reference_split: str = _setting(
        ANALYSIS.reference_split,
        "The split the model was fitted on (members, for the verdict).",
        str,
    )
    heldout_splits: tuple[str, ...] = _setting(
        ANALYSIS.heldout_splits, "Held-out splits compared with the reference split.", _strings
    )
    min_samples: int = _setting(
        THRESHOLDS.min_samples,
        "A split with fewer samples gets the verdict insufficient_data.",
        int,
    )
    underfit_ratio: float = _setting(
        THRESHOLDS.underfit_ratio,
        "underfit when mean train loss >= underfit_ratio * prior entropy H.",
        float,
    )
    overfit_gap: float = _setting(
        THRESHOLDS.overfit_gap,
        "overfit when (mean test - mean train) / H >= this and the gap CI is above 0.",
        float,
    )
    bootstrap_resamples: int = _setting(
        ANALYSIS.bootstrap_resamples, "Bootstrap resamples for the 95% CI of the loss gap.", int
    )
    bootstrap_max_samples: int = _setting(
        ANALYSIS.bootstrap_max_samples,
        "Per split, at most this many losses are resampled (m-out-of-n, rescaled).",
        int,
    )
    seed: int = _setting(ANALYSIS.seed, "Seed of the bootstrap and any other sampling.", int)
    ece_bins: int = _setting(ANALYSIS.ece_bins, "Equal-width confidence bins of the ECE.", int)
    duckdb_memory_limit: str = _setting(
        "2GB",
        "DuckDB memory limit for aggregation; beyond it DuckDB spills to <warehouse>/.tmp.",
        str,
    )
    engine: str = _setting(
        "duckdb",
        "Engine of the nightly job: duckdb (embedded, one machine) or spark (losses computed "
        "by Spark executors; needs pip install 'lossgram[spark]' and Java 17+).",
        str,
    )
    spark_master: str = _setting(
        "local[*]",
        "Spark master URL for engine spark: local[N], spark://host:port, yarn, k8s://...",
        str,
    )
    spark: dict[str, str] = _setting(
        {},
        "Spark configuration for engine spark: spark.* keys (a [spark] table in TOML; "
        "key=value,... in the environment).",
        lambda text: _spark_conf(_mapping(text, "spark.key=value")),
    )
    fail_on: tuple[str, ...] = _setting(
        (),
        "Verdicts and changes that make a run exit 3 (a gate for CI or an orchestrator): "
        "any of overfit, underfit, insufficient_data, regressed.",
        _strings,
    )
    schedule: str = _setting(
        "0 2 * * *",
        "Cron line of `lossgram schedule` (5 fields; 6 with seconds first). Weekdays by name.",
        str,
    )
    timezone: str = _setting(
        "", "Time zone of the schedule, e.g. Europe/Berlin (empty: the machine's).", str
    )
    misfire_grace: float = _setting(
        21600.0, "Seconds after a scheduled time within which a missed run still runs.", float
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 1.0:
            raise SettingsError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 < self.eps < 1.0:
            raise SettingsError(f"eps must be in (0, 1), got {self.eps}")
        if self.class_weights is not None and any(w < 0 for w in self.class_weights):
            raise SettingsError("class_weights must be >= 0")
        if self.dump_timeout < 0:
            raise SettingsError(f"dump_timeout must be >= 0 seconds, got {self.dump_timeout}")
        if self.bad_rows not in ("reject", "skip"):
            raise SettingsError(f"bad_rows must be reject or skip, got {self.bad_rows!r}")
        object.__setattr__(self, "fail_on", tuple(name.lower() for name in self.fail_on))
        unknown = sorted(set(self.fail_on) - set(GATE_CONDITIONS))
        if unknown:
            raise SettingsError(
                f"fail_on: unknown {', '.join(unknown)} (use {', '.join(GATE_CONDITIONS)})"
            )
        if self.engine not in ("duckdb", "spark"):
            raise SettingsError(f"engine must be duckdb or spark, got {self.engine!r}")
        if self.bins not in ("log", "linear"):
            raise SettingsError(f"bins must be log or linear, got {self.bins!r}")

    # -- the option objects the core takes, made once at the entry point ------------
    def loss_spec(self) -> LossSpec:
        return LossSpec(self.label_smoothing, self.class_weights, self.ignore_index, self.eps)

    def reader_options(self) -> ReaderOptions:
        return ReaderOptions(
            self.column_map, self.split, self.model, self.classes, self.loss_spec()
        )

    def thresholds(self) -> Thresholds:
        return Thresholds(self.min_samples, self.underfit_ratio, self.overfit_gap)

    def analysis_options(self) -> AnalysisOptions:
        return AnalysisOptions(
            reference_split=self.reference_split,
            heldout_splits=self.heldout_splits,
            thresholds=self.thresholds(),
            ece_bins=self.ece_bins,
            bootstrap_resamples=self.bootstrap_resamples,
            bootstrap_max_samples=self.bootstrap_max_samples,
            seed=self.seed,
        )

    def report_options(self) -> ReportOptions:
        return ReportOptions(self.reference_split, self.eps, self.ece_bins, self.heldout_splits)

    def bin_scheme(self) -> BinScheme:
        if self.bins == "linear":
            return linear_bin_scheme(self.linear_bin_width, self.linear_bin_max)
        return log_bin_scheme()


def setting_fields() -> list[dataclasses.Field[Any]]:
    """The fields of Settings, in declaration order."""
    return list(dataclasses.fields(Settings))


def _coerce(spec: dataclasses.Field[Any], value: Any) -> Any:
    """Turn a TOML, env or CLI value into the field's type."""
    if value is None:
        return None
    parse = spec.metadata["parse"]
    if isinstance(value, str):
        try:
            return parse(value)
        except (TypeError, ValueError) as error:
            raise SettingsError(f"setting {spec.name}: cannot read {value!r}: {error}") from error
    kinds = _kinds(spec)
    if isinstance(value, list):
        if "tuple" in kinds:
            return _items(spec, value)
    elif spec.name == "spark" and isinstance(value, dict):
        return _spark_conf(value)
    elif isinstance(value, dict):
        if "dict" in kinds:
            return {str(key): _text(spec, item) for key, item in value.items()}
    elif isinstance(value, bool):
        if "bool" in kinds:
            return value
    elif isinstance(value, int | float):
        if "float" in kinds:
            return float(value)
        if "int" in kinds and isinstance(value, int):
            return value
    elif isinstance(value, Path) and parse in (Path, warehouse_location):
        return parse(value)
    # A TOML value of the wrong kind (fail_on = 3, column_map = 3) is refused here,
    # before anything runs, instead of failing later as a bad dump or a Python error.
    words = sorted({KIND_WORDS[kind] for kind in kinds if kind != "Path"} or {"text"})
    raise SettingsError(f"setting {spec.name}: expected {' or '.join(words)}, got {value!r}")


KIND_WORDS = {
    "tuple": "a list",
    "dict": "a table",
    "bool": "true or false",
    "float": "a number",
    "int": "a whole number",
    "str": "text",
}


def _kinds(spec: dataclasses.Field[Any]) -> set[str]:
    """The kinds of value a setting takes, from its annotation."""
    annotation = str(spec.type)
    names = ("tuple", "dict", "bool", "float", "int", "Path", "str")
    kinds = {name for name in names if name in annotation}
    return kinds | ({"str"} if "Path" in kinds else set())


def _items(spec: dataclasses.Field[Any], value: list[Any]) -> tuple[Any, ...]:
    """A TOML array for a tuple setting: numbers for class_weights, text for the rest."""
    numbers = "float" in str(spec.type)
    for item in value:
        wrong = (
            isinstance(item, bool) or not isinstance(item, int | float)
            if numbers
            else not isinstance(item, str)
        )
        if wrong:
            kind = "numbers" if numbers else "strings"
            raise SettingsError(f"setting {spec.name}: expected a list of {kind}, got {value!r}")
    return tuple(float(item) for item in value) if numbers else tuple(value)


def _text(spec: dataclasses.Field[Any], value: Any) -> str:
    if not isinstance(value, str):
        raise SettingsError(f"setting {spec.name}: expected text values, got {value!r}")
    return value


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults, then lossgram.toml, then LOSSGRAM_* env, then flags."""
    env = os.environ if env is None else env
    fields = {spec.name: spec for spec in setting_fields()}
    values: dict[str, Any] = {}

    path = config_file or Path(env.get(ENV_PREFIX + "CONFIG", CONFIG_FILE))
    if path.is_file():
        with path.open("rb") as handle:
            try:
                table = tomllib.load(handle)
            except tomllib.TOMLDecodeError as error:
                raise SettingsError(f"{path}: not valid TOML: {error}") from error
        table = table.get("lossgram", table)
        for name, value in table.items():
            if name not in fields:
                raise SettingsError(f"{path}: unknown setting {name!r}")
            values[name] = _coerce(fields[name], value)
            if isinstance(values[name], Path) and not values[name].is_absolute():
                # A folder named in a config file is relative to that file, not to
                # wherever lossgram happens to be started.
                values[name] = path.parent / values[name]
    elif config_file is not None:
        raise SettingsError(f"config file {config_file} does not exist")

    for name, spec in fields.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(spec, raw)

    for name, value in (overrides or {}).items():
        if name not in fields:
            raise SettingsError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = _coerce(fields[name], value)

    return Settings(**values)


def commented_toml() -> str:
    """A lossgram.toml listing every setting, commented out, with its default and help."""
    lines = [
        "# lossgram settings. Uncomment to change; LOSSGRAM_<NAME> env vars and flags win.",
        "",
    ]
    for spec in setting_fields():
        if spec.default is not dataclasses.MISSING:
            default = spec.default
        else:
            default = spec.default_factory()  # type: ignore[operator]
        lines.append(f"# {spec.metadata['help']}")
        if default is None:
            lines.append(f"# {spec.name} =   (unset by default)")
        else:
            lines.append(f"# {spec.name} = {_toml_value(default)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Path):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'{k} = "{v}"' for k, v in value.items()) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
