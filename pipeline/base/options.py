"""The small frozen option objects the core takes, made once from Settings at the entry
point (`Settings.loss_spec()` and friends). Their defaults are the product's defaults:
Settings reads them from here, so each is written once."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class LossSpec:
    """The cross-entropy options, named as in torch.nn.CrossEntropyLoss."""

    label_smoothing: float = 0.0
    class_weights: tuple[float, ...] | None = None
    ignore_index: int | None = -100
    eps: float = 1e-12


@dataclass(frozen=True)
class ReaderOptions:
    """How a dump's columns are found and filled: renames, fallbacks, class names."""

    column_map: dict[str, str] = field(default_factory=dict)  # canonical -> source name
    split: str | None = None  # for dumps with no split column or split= folder
    model: str | None = None  # for dumps with no model column or model= folder
    classes: tuple[str, ...] | None = None  # for string labels without metadata
    # The loss options the reader's row checks depend on (ignored labels are in range;
    # class weights of a logprob dump need C).
    loss: LossSpec = LossSpec()
    # key=value folders count only below this folder (the inbox); None: every folder.
    folders_below: Path | None = None
    # key=value folders that name a model's hyperparameters (a sweep), not slices.
    param_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestOptions:
    """How a run reads and keeps dumps."""

    reader: ReaderOptions
    skip_bad_rows: bool = False  # bad_rows = skip: drop bad rows (recorded) instead
    only_model: str | None = None  # a rerun of one model keeps only its rows
    timeout_seconds: float | None = None  # a task running longer is given up


@dataclass(frozen=True)
class EngineOptions:
    """Which engine does a run's heavy parts, and how to reach Spark when it is Spark."""

    name: str = "duckdb"  # the embedded engine, or "spark"
    spark_master: str = "local[*]"
    spark_conf: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    """The verdict thresholds in force; stored with every verdict."""

    min_samples: int = 30
    underfit_ratio: float = 0.8
    overfit_gap: float = 0.10

    def to_json(self) -> str:
        return json.dumps(asdict(self))


@dataclass(frozen=True)
class AnalysisOptions:
    """What the statistics and verdicts of a snapshot compare, and how."""

    reference_split: str = "train"
    heldout_splits: tuple[str, ...] = ("test", "val")
    thresholds: Thresholds = Thresholds()
    ece_bins: int = 15
    bootstrap_resamples: int = 1000
    bootstrap_max_samples: int = 20000
    seed: int = 0


@dataclass(frozen=True)
class ReportOptions:
    """What the report pages need besides the warehouse: which split is the reference,
    the clipping cap to mark, the calibration bins."""

    reference_split: str = AnalysisOptions.reference_split
    eps: float = LossSpec.eps
    ece_bins: int = AnalysisOptions.ece_bins
    heldout_splits: tuple[str, ...] = AnalysisOptions.heldout_splits


@dataclass(frozen=True)
class NotifyOptions:
    """Where and when a run sends its notifications."""

    targets: tuple[str, ...] = ()  # Apprise / json:// URLs; ${NAME} read from the environment
    on: tuple[str, ...] = ("regressed", "failed")  # notify_on
    report_url: str | None = None  # where the reports folder is published
    timeout: float = 10.0  # seconds per attempt and target
