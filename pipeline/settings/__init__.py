"""The one settings object: defaults < lossgram.toml < LOSSGRAM_* env < CLI flags.

A pydantic model; each field has a default and a help (its docstring). A plain
`Settings(...)` reads only its arguments; `load_settings` puts flags, LOSSGRAM_* variables and
the TOML file under them (itself: pydantic-settings took ~40 ms of each start to import).
Each kind of setting reads text in lossgram's formats (`a,b`, `key=value,...`, `none`;
values.py) and keeps its rules; a bad value is one SettingsError line: the setting, its source.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.types import StrictFloat, StrictInt, StrictStr

from pipeline.analysis import bins as binning
from pipeline.base.errors import LossgramError
from pipeline.base.options import (
    AnalysisOptions,
    LossSpec,
    NotifyOptions,
    ReaderOptions,
    ReportOptions,
    Thresholds,
)
from pipeline.settings.help import attribute_docstrings
from pipeline.settings.values import (
    CHECKS,
    ITEMS,
    TAKES,
    URI_LIKE,
    Folder,
    Names,
    Number,
    Urls,
    Whole,
    _floats,
    _mapping,
    _optional_int,
    _spark_conf,
    _text,
    reports_location,
    warehouse_location,
    within_limits,
)

if TYPE_CHECKING:
    from pydantic import ValidationInfo

# The defaults of the option objects are the product's defaults, written once.
LOSS, THRESHOLDS, ANALYSIS = LossSpec(), Thresholds(), AnalysisOptions()

CONFIG_FILE = "lossgram.toml"
# What `fail_on` may name: verdicts, and a regression since the model's previous night.
GATE_CONDITIONS = ("overfit", "possible_overfit", "underfit", "insufficient_data", "regressed")
# What `notify_on` may name.
NOTIFY_CONDITIONS = ("regressed", "overfit", "possible_overfit", "underfit", "failed", "always")
ENV_PREFIX = "LOSSGRAM_"
FOLDERS = ("inbox", "warehouse", "reports", "catalog")  # in a TOML file: relative to it
ANCHORED = ("inbox", "warehouse", "reports")  # defaults relative to the project's TOML file
FLAGS = {"column_map": "--map"}  # the flags not spelled --<name-with-dashes>


class SettingsError(LossgramError, ValueError):
    """A setting has a value lossgram cannot use."""


class _Layer(NamedTuple):
    """One source of settings (flags, LOSSGRAM_* variables, a TOML file); `where` names it."""

    given: dict[str, Any]
    where: Callable[[str], str]


class Settings(BaseModel):
    """Every knob of lossgram, each with a default and a help string."""

    # validate_default: as pydantic-settings' BaseSettings had it, defaults are validated too.
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    inbox: Folder = Path("data/inbox")
    """Folder the nightly job reads new dumps from."""
    warehouse: Annotated[Path | str, _text(warehouse_location)] = Path("data/warehouse")
    """Warehouse folder (losses Parquet and lossgram.duckdb), or an object-store URI such as
    s3://bucket/prefix (needs the setting catalog and pip install 'lossgram[s3]')."""
    reports: Annotated[Path | str, _text(reports_location)] = Path("reports")
    """Folder the HTML reports are written to, or an object-store URI (s3://bucket/site/)
    they are published to, each page uploaded whole."""
    catalog: Folder | None = None
    """The DuckDB catalog file (default <warehouse>/lossgram.duckdb); put it on the driver's
    local disk when the warehouse is on a network file system or an object store (required
    there)."""
    label_smoothing: Number = LOSS.label_smoothing
    """Label smoothing e in [0, 1): target (1-e)*onehot + e/C, as in PyTorch."""
    class_weights: Annotated[tuple[StrictFloat, ...], _text(_floats)] | None = LOSS.class_weights
    """Per-class weights w0,w1,...: the loss of a row becomes w_y * ce."""
    ignore_index: Annotated[StrictInt | None, _text(_optional_int)] = LOSS.ignore_index
    """Rows whose label equals this are left out of losses and counted (PyTorch: -100)."""
    eps: Number = LOSS.eps
    """Probabilities are clipped to at least eps before the log (cap -log eps)."""
    column_map: Annotated[dict[str, StrictStr], _text(_mapping)] = Field(default_factory=dict)
    """Rename dump columns, canonical=source pairs, e.g. label=target."""
    classes: Names | None = None
    """Class names for string labels when the dump has no lossgram.classes metadata."""
    param_keys: Names = ()
    """key=value folders that name a model's hyperparameters (e.g. wd,depth for wd=0.01/)."""
    split: StrictStr | None = None
    """Split name for dumps with neither a split column nor a split= folder."""
    model: StrictStr | None = None
    """Model name for dumps with neither a model column nor a model= folder."""

    bad_rows: StrictStr = "reject"
    """Bad rows: reject (the whole file) or skip (drop and record each row)."""
    lock_timeout: Number = 600.0
    """Seconds a run waits for another run's warehouse lock before giving up."""
    dump_timeout: Number = 1800.0
    """Seconds one dump (or batch of small dumps) may take to read before it is rejected and
    the night goes on (0: no bound)."""
    bins: StrictStr = "log"
    """Histogram bins: log ([0,1e-4), 20 per decade to 100, [100,inf)) or linear."""
    linear_bin_width: Number = binning.LINEAR_BIN_WIDTH
    """Bin width of the linear bin scheme."""
    linear_bin_max: Number = binning.LINEAR_BIN_MAX
    """Upper edge of the linear scheme; one more bin runs to inf."""
    reference_split: StrictStr = ANALYSIS.reference_split
    """The split the model was fitted on (members, for the verdict)."""
    heldout_splits: Names = ANALYSIS.heldout_splits
    """Held-out splits compared with the reference split."""
    min_samples: Whole = THRESHOLDS.min_samples
    """A split with fewer samples gets the verdict insufficient_data."""
    underfit_ratio: Number = THRESHOLDS.underfit_ratio
    """underfit when mean train loss >= underfit_ratio * prior entropy H."""
    overfit_gap: Number = THRESHOLDS.overfit_gap
    """overfit when (mean test - mean train) / H >= this and the gap CI is above 0."""
    bootstrap_resamples: Whole = ANALYSIS.bootstrap_resamples
    """Bootstrap resamples for the 95% CI of the loss gap."""
    bootstrap_max_samples: Whole = ANALYSIS.bootstrap_max_samples
    """Per split, at most this many losses are resampled (m-out-of-n, rescaled)."""
    seed: Whole = ANALYSIS.seed
    """Seed of the bootstrap and any other sampling."""
    ece_bins: Whole = ANALYSIS.ece_bins
    """Equal-width confidence bins of the ECE."""
    duckdb_memory_limit: StrictStr = "2GB"
    """DuckDB memory limit for aggregation; beyond it DuckDB spills to <warehouse>/.tmp."""
    sql_memory_limit: StrictStr = "2GB"
    """Memory limit of one `lossgram sql` query (it leaves a nightly run beside it room)."""
    engine: StrictStr = "duckdb"
    """Engine of the nightly job: duckdb (embedded, one machine) or spark (losses computed by
    Spark executors; needs pip install 'lossgram[spark]' and Java 17+)."""
    spark_master: StrictStr = "local[*]"
    """Spark master URL for engine spark: local[N], spark://host:port, yarn, k8s://..."""
    spark: Annotated[dict[str, str], _text(_spark_conf, tables=True)] = Field(default_factory=dict)
    """Spark configuration for engine spark: spark.* keys (a [spark] table in TOML;
    key=value,... in the environment)."""
    fail_on: Names = ()
    """Verdicts and changes that make a run exit 3 (a gate for CI or an orchestrator): any of
    overfit, possible_overfit, underfit, insufficient_data, regressed."""
    lakehouse: Annotated[Path | str, _text(reports_location)] | None = None
    """Where Delta Lake tables mirror the warehouse after each commit (a folder or
    s3://bucket/prefix; needs pip install 'lossgram[delta]'). Unset: none."""
    notify: Urls = ()
    """Where to send a note after each run: Apprise URLs (slack://, msteams://, mailto://,
    json:// ...) separated by spaces; ${NAME} in a URL reads a secret from the environment."""
    notify_on: Names = ("regressed", "failed")
    """When to notify: any of regressed, overfit, possible_overfit, underfit, failed, always."""
    report_url: StrictStr | None = None
    """The URL the reports folder is published at, for the links in notifications."""
    notify_timeout: Number = 10.0
    """Seconds each notification target may take per attempt (3 attempts, with backoff)."""
    schedule: StrictStr = "0 2 * * *"
    """Cron line of `lossgram schedule` (5 fields; 6 with seconds first). Weekdays by name."""
    timezone: StrictStr = ""
    """Time zone of the schedule, e.g. Europe/Berlin (empty: the machine's)."""
    misfire_grace: Number = 21600.0
    """Seconds after a scheduled time within which a missed run still runs."""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:  # say it in one line
            raise SettingsError(_one_line(error, ())) from error

    @field_validator(*CHECKS)
    @classmethod
    def _check(cls, value: Any, info: ValidationInfo) -> Any:
        takes, refusal = CHECKS[str(info.field_name)]
        if not takes(value):
            raise ValueError(refusal.format(value))
        return value

    @model_validator(mode="after")
    def _together(self) -> Settings:
        problem = within_limits(self.linear_bin_width, self.linear_bin_max)
        if problem is not None:
            raise ValueError(problem)
        return self

    @field_validator("fail_on", "notify_on")
    @classmethod
    def _conditions(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        names = tuple(name.lower() for name in value)
        known = GATE_CONDITIONS if info.field_name == "fail_on" else NOTIFY_CONDITIONS
        unknown = sorted(set(names) - set(known))
        if unknown:
            use = ", ".join(known)
            raise ValueError(f"{info.field_name}: unknown {', '.join(unknown)} (use {use})")
        return names

    # -- the option objects the core takes, made once at the entry point ------------
    def loss_spec(self) -> LossSpec:
        return LossSpec(self.label_smoothing, self.class_weights, self.ignore_index, self.eps)

    def reader_options(self) -> ReaderOptions:
        return ReaderOptions(
            self.column_map, self.split, self.model, self.classes, self.loss_spec(),
            param_keys=self.param_keys,
        )  # fmt: skip

    def notify_options(self) -> NotifyOptions:
        return NotifyOptions(self.notify, self.notify_on, self.report_url, self.notify_timeout)

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

    def bin_scheme(self) -> binning.BinScheme:
        if self.bins == "linear":
            return binning.linear_bin_scheme(self.linear_bin_width, self.linear_bin_max)
        return binning.log_bin_scheme()


def _one_line(error: ValidationError, sources: Iterable[_Layer]) -> str:
    """Pydantic's first complaint as lossgram says it: the setting, what is wrong with its
    value and, while loading, where that value came from (--flag, LOSSGRAM_*, the file)."""
    first = error.errors(include_url=False)[0]
    name = str(first["loc"][0]) if first["loc"] else "settings"
    if first["type"] == "extra_forbidden":
        problem = f"unknown setting {name!r}"
    elif first["type"] == "value_error":
        problem = str(first["ctx"]["error"])  # ours: it names the setting
    else:  # the type refused it: say what the setting takes
        at = first["loc"][1:2]  # an index in its list, a key in its table, or nothing
        words = (at and ITEMS.get((first["type"], type(at[0])))) or TAKES.get(first["type"])
        problem = f"setting {name}: " + (
            f"expected {words}, got {first['input']!r}" if words else first["msg"]
        )
    layers = [source for source in sources if name in source.given]
    where = layers[0].where(name) if layers else None
    return " ".join(problem.splitlines()) + (f" (from {where})" if where else "")


class SettingField(NamedTuple):
    name: str
    default: Any
    metadata: dict[str, str]  # {"help": ...}, where the dataclass fields of Settings had it


def setting_fields() -> list[SettingField]:
    """The fields of Settings, in declaration order, each with its help on one line."""
    # Read here, from the source: pydantic's use_attribute_docstrings would at every start.
    helps = {name: " ".join(text.split()) for name, text in attribute_docstrings(Settings).items()}
    return [
        SettingField(n, i.get_default(call_default_factory=True), {"help": helps[n]})
        for n, i in Settings.model_fields.items()
    ]


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults, then lossgram.toml, then LOSSGRAM_* env, then flags."""
    env = os.environ if env is None else env
    flags = {name: value for name, value in (overrides or {}).items() if value is not None}
    variables = {
        name: env[ENV_PREFIX + name.upper()]
        for name in Settings.model_fields
        if ENV_PREFIX + name.upper() in env
    }
    path = config_file or Path(env.get(ENV_PREFIX + "CONFIG") or _find_config())
    layers = (
        _Layer(flags, lambda name: FLAGS.get(name, "--" + name.replace("_", "-"))),
        _Layer(variables, lambda name: ENV_PREFIX + name.upper()),
        _Layer(_read_toml(path, required=config_file is not None), lambda _: str(path)),
    )
    # Each layer alone first (the file, env, flags): a bad value hidden by a higher layer
    # is refused too, as the nightly job may run without that layer.
    for layer in reversed(layers):
        _layered((layer,))
    return _layered(layers)


def _layered(layers: tuple[_Layer, ...]) -> Settings:
    """Settings from layers, highest first; a bad value is one line naming its layer."""
    values: dict[str, Any] = {}
    for layer in layers:
        values = _merged(layer.given, values)
    try:
        return Settings(**values)
    except SettingsError as error:  # said again, naming the layer of the value refused
        refused = error.__cause__
        assert isinstance(refused, ValidationError)
        raise SettingsError(_one_line(refused, layers)) from refused


def _merged(below: dict[str, Any], above: dict[str, Any]) -> dict[str, Any]:
    """`below` with `above`'s values over it, tables merged key by key (as pydantic-settings)."""
    merged = below.copy()
    for key, value in above.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _find_config(start: Path | None = None) -> Path:
    """lossgram.toml in the working folder or the nearest folder above it that has one
    (as git finds its repository), so commands work from a project's sub-folders."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder / CONFIG_FILE
    return Path(CONFIG_FILE)


def _read_toml(path: Path, required: bool) -> dict[str, Any]:
    """A config file's settings: its [lossgram] table, or its top level."""
    if not path.is_file():
        if path.exists():  # a folder, a device, a pipe: reading it could hang or fail
            raise SettingsError(f"config file {path} is not a regular file")
        if required:
            raise SettingsError(f"config file {path} does not exist")
        return {}
    import tomllib  # here: a command with no lossgram.toml goes without (~1 ms of a start)

    with path.open("rb") as handle:
        try:
            table = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{path}: not valid TOML: {error}") from error
        except UnicodeDecodeError as error:
            raise SettingsError(f"{path}: not UTF-8 text (save it as UTF-8)") from error
        except RecursionError as error:
            raise SettingsError(f"{path}: tables or arrays nested too deeply") from error
    table = table["lossgram"] if isinstance(table.get("lossgram"), dict) else table
    for name in FOLDERS:  # named in a config file, relative to it, not to where lossgram runs
        if isinstance(folder := table.get(name), str) and not URI_LIKE.match(folder):
            table[name] = path.parent / folder
    for name in ANCHORED:  # and so are the default folders of a project that has one
        table.setdefault(name, path.parent / Settings.model_fields[name].default)
    return table


def commented_toml() -> str:
    """A lossgram.toml listing every setting, commented out, with its default and help."""
    lines = [
        "# lossgram settings. Uncomment to change; LOSSGRAM_<NAME> env vars and flags win.",
        "",
    ]
    for spec in setting_fields():
        default = str(spec.default) if isinstance(spec.default, Path) else spec.default
        # JSON's strings, numbers and arrays are TOML's too (and no default is a full table);
        # a setting unset by default shows an example, so the uncommented line is TOML.
        shown = json.dumps(default) if default is not None else _example(spec.name)
        lines += [f"# {spec.metadata['help']}", f"# {spec.name} = {shown}", ""]
    return "\n".join(lines)


# What `lossgram init` shows for a setting unset by default: an example value.
EXAMPLES = {
    "catalog": "/var/lib/lossgram/lossgram.duckdb",
    "class_weights": [1.0, 2.0, 1.0],
    "classes": ["cat", "dog", "bird"],
    "split": "test",
    "model": "resnet50",
}


def _example(name: str) -> str:
    return f"{json.dumps(EXAMPLES.get(name, ''))}  # unset by default; an example"
