"""Write the bundled demo prediction dumps under data/demo/ (real scikit-learn models).

Usage (from the repository root, with the test extras installed for scikit-learn):

    .venv/bin/python scripts/make_demo_dumps.py --out data/demo

Data: `sklearn.datasets.load_digits` (1797 8x8 images, 64 features, 10 classes,
shipped with scikit-learn, no download), one stratified 60/40 train/test split
(1078 / 719 samples, random_state=0) shared by every model and night.
`sample_id` is the row index in the dataset, so a sample keeps its id
everywhere. Everything is seeded: a rerun writes the same numbers (up to BLAS
rounding on another machine).

Models, each its own `model=` folder; what each is meant to show:

- `mlp`: a 3 x 128 ReLU MLPClassifier, alpha=0 (no weight decay), Adam
  lr=0.006, on standardised pixels, trained with `partial_fit` on the whole
  training set as one batch, so one epoch is one Adam step. It is dumped at
  several epochs (`epoch` column) as `logits`, the pre-softmax output computed
  from `coefs_` / `intercepts_`. The trajectory: epochs 1-2 underfit (train
  loss near ln 10, the know-nothing baseline); around epochs 5-10 a good fit
  (the test loss is lowest near epoch 11); from epoch 20 on it overfits (train
  loss keeps falling towards 0 while the test loss rises again).
- `tree`: an unpruned DecisionTreeClassifier, `probs`. Overfit in its purest
  form: every leaf is pure, so train probabilities are one-hot (loss 0) and
  every test mistake gives probability 0 to the true class, a loss clipped
  at -log(eps).
- `logreg`: LogisticRegression with C=1e-4 on standardised pixels, `probs`.
  Underfit: so strongly regularised that its probabilities stay close to
  uniform; train and test loss both sit near ln 10 even though the argmax is
  right most of the time.
- `forest`: RandomForestClassifier (200 trees, min_samples_leaf=3), `probs`.
  A good fit: low loss on both splits with a modest gap.

Two nights, so trends over nights show:

- 2026-11-22: the MLP is trained to epoch 50 (dumped at 1, 2, 5, 10, 20, 50);
  forest random_state=0.
- 2026-11-23: the same MLP recipe trained to epoch 200 (1, 2, 5, 10, 20, 50,
  100, 200), so the last epoch overfits more; forest random_state=1.

Layout: <out>/<night>/model=<name>/split=<train|test>/part-0.parquet with
columns sample_id (int64), label (int64), logits or probs (fixed-size
list<float32>[10]) and, for the MLP, epoch (int64); Parquet key-value metadata
lossgram.classes = ["0", ..., "9"]; zstd. The night folders are replaced
whole on every run. The script prints mean cross-entropy and accuracy per
(night, model, split, epoch), computed from the float32 values as written, and
exits 1 if a model does not show the behaviour it is meant to show.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import shutil
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

N_CLASSES = 10
CLASSES = [str(c) for c in range(N_CLASSES)]
SPLIT_SEED = 0
TEST_SIZE = 0.4
MLP_SEED = 0
MLP_HIDDEN = (128, 128, 128)
MLP_LEARNING_RATE = 0.006
EPS = 1e-12  # lossgram's default probability floor; used only for the printed means

# lossgram's default verdict thresholds, used for the printed hint only (no bootstrap CI).
UNDERFIT_RATIO = 0.8
OVERFIT_GAP = 0.10


@dataclass(frozen=True)
class Night:
    date: str
    mlp_epochs: tuple[int, ...]
    forest_seed: int


NIGHTS = (
    Night("2026-11-22", (1, 2, 5, 10, 20, 50), forest_seed=0),
    Night("2026-11-23", (1, 2, 5, 10, 20, 50, 100, 200), forest_seed=1),
)


@dataclass(frozen=True)
class Data:
    x: np.ndarray  # raw pixels 0..16, float64
    x_std: np.ndarray  # standardised with the train split's mean and std
    y: np.ndarray
    train: np.ndarray  # sample indices
    test: np.ndarray

    def split(self, name: str) -> np.ndarray:
        return self.train if name == "train" else self.test


@dataclass(frozen=True)
class Prediction:
    """One dump file's content: predictions of one model on one split (at one epoch)."""

    model: str
    split: str
    kind: str  # "logits" or "probs"
    ids: np.ndarray
    values: np.ndarray  # float32, shape (n, 10)
    epoch: int | None = None


def load_data() -> Data:
    x, y = load_digits(return_X_y=True)
    ids = np.arange(len(y), dtype=np.int64)
    train, test = train_test_split(ids, test_size=TEST_SIZE, stratify=y, random_state=SPLIT_SEED)
    train, test = np.sort(train), np.sort(test)
    scaler = StandardScaler().fit(x[train])
    return Data(x=x, x_std=scaler.transform(x), y=y.astype(np.int64), train=train, test=test)


def mlp_logits(mlp: MLPClassifier, x: np.ndarray) -> np.ndarray:
    """Pre-softmax output of a fitted ReLU MLPClassifier."""
    hidden = x
    for weights, bias in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1], strict=True):
        hidden = np.maximum(hidden @ weights + bias, 0.0)
    return np.asarray(hidden @ mlp.coefs_[-1] + mlp.intercepts_[-1], dtype=np.float64)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def mlp_predictions(data: Data, epochs: tuple[int, ...]) -> Iterator[Prediction]:
    mlp = MLPClassifier(
        hidden_layer_sizes=MLP_HIDDEN,
        activation="relu",
        alpha=0.0,
        learning_rate_init=MLP_LEARNING_RATE,
        batch_size=len(data.train),  # full batch: one epoch = one Adam step
        random_state=MLP_SEED,
    )
    x_train, y_train = data.x_std[data.train], data.y[data.train]
    for epoch in range(1, max(epochs) + 1):
        mlp.partial_fit(x_train, y_train, classes=np.arange(N_CLASSES))
        if epoch not in epochs:
            continue
        for split in ("train", "test"):
            rows = data.split(split)
            logits = mlp_logits(mlp, data.x_std[rows])
            # The hand-computed last layer must be what predict_proba softmaxes.
            np.testing.assert_allclose(
                softmax(logits), mlp.predict_proba(data.x_std[rows]), rtol=0, atol=1e-9
            )
            yield Prediction("mlp", split, "logits", rows, logits.astype(np.float32), epoch)


def probs_predictions(name: str, estimator: object, x: np.ndarray, data: Data) -> list[Prediction]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(x[data.train], data.y[data.train])  # type: ignore[attr-defined]
    predictions = []
    for split in ("train", "test"):
        rows = data.split(split)
        probs = estimator.predict_proba(x[rows])  # type: ignore[attr-defined]
        assert probs.shape == (len(rows), N_CLASSES)
        predictions.append(Prediction(name, split, "probs", rows, probs.astype(np.float32)))
    return predictions


def night_predictions(night: Night, data: Data) -> list[Prediction]:
    predictions = list(mlp_predictions(data, night.mlp_epochs))
    predictions += probs_predictions("tree", DecisionTreeClassifier(random_state=0), data.x, data)
    predictions += probs_predictions(
        "logreg",
        make_pipeline(StandardScaler(), LogisticRegression(C=1e-4, max_iter=5000)),
        data.x,
        data,
    )
    predictions += probs_predictions(
        "forest",
        RandomForestClassifier(
            n_estimators=200, min_samples_leaf=3, random_state=night.forest_seed, n_jobs=1
        ),
        data.x,
        data,
    )
    return predictions


def fixed_size(values: np.ndarray) -> pa.FixedSizeListArray:
    flat = pa.array(np.ascontiguousarray(values, dtype=np.float32).ravel(), type=pa.float32())
    return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])


def write_dump(path: Path, parts: list[Prediction], labels: np.ndarray) -> None:
    """One file per (model, split); the MLP's epochs are stacked with an epoch column."""
    ids = np.concatenate([p.ids for p in parts])
    columns: dict[str, pa.Array] = {
        "sample_id": pa.array(ids, type=pa.int64()),
        "label": pa.array(labels[ids], type=pa.int64()),
        parts[0].kind: fixed_size(np.concatenate([p.values for p in parts])),
    }
    if parts[0].epoch is not None:
        epochs = np.concatenate([np.full(len(p.ids), p.epoch, dtype=np.int64) for p in parts])
        columns["epoch"] = pa.array(epochs, type=pa.int64())
    table = pa.table(columns).replace_schema_metadata({"lossgram.classes": json.dumps(CLASSES)})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def cross_entropy(prediction: Prediction, labels: np.ndarray) -> np.ndarray:
    """Per-sample CE as lossgram computes it (float64 from the stored float32 values)."""
    values = prediction.values.astype(np.float64)
    y = labels[prediction.ids]
    rows = np.arange(len(y))
    if prediction.kind == "logits":
        shifted = values - values.max(axis=1, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=1))
        return np.asarray(lse - shifted[rows, y])
    return np.asarray(-np.log(np.maximum(values[rows, y], EPS)))


@dataclass(frozen=True)
class Stat:
    night: str
    model: str
    split: str
    epoch: int | None
    n: int
    mean_ce: float
    accuracy: float
    clipped: int


def stat_of(night: str, prediction: Prediction, labels: np.ndarray) -> Stat:
    ce = cross_entropy(prediction, labels)
    y = labels[prediction.ids]
    clipped = 0
    if prediction.kind == "probs":
        clipped = int((prediction.values[np.arange(len(y)), y] < EPS).sum())
    return Stat(
        night=night,
        model=prediction.model,
        split=prediction.split,
        epoch=prediction.epoch,
        n=len(y),
        mean_ce=float(ce.mean()),
        accuracy=float((prediction.values.argmax(axis=1) == y).mean()),
        clipped=clipped,
    )


def label_entropy(labels: np.ndarray) -> float:
    freq = np.bincount(labels, minlength=N_CLASSES) / len(labels)
    return float(-(freq[freq > 0] * np.log(freq[freq > 0])).sum())


def hint(train: Stat, test: Stat, h: float) -> str:
    gap = test.mean_ce - train.mean_ce
    if train.mean_ce >= UNDERFIT_RATIO * h:
        return "underfit"
    if gap / h >= OVERFIT_GAP:
        return "overfit"
    return "good fit"


def report(stats: list[Stat], h: float) -> list[str]:
    """Print the table; return the failed expectations."""
    print(f"baselines: ln 10 = {math.log(N_CLASSES):.3f} nats, train label entropy H = {h:.3f}")
    print(
        f"rule of thumb (lossgram's defaults, without the bootstrap CI): underfit if train >= "
        f"{UNDERFIT_RATIO} H = {UNDERFIT_RATIO * h:.3f}; overfit if gap/H >= {OVERFIT_GAP}"
    )
    header = f"{'night':10}  {'model':6}  {'epoch':>5}  {'split':5}  {'n':>5}  "
    header += f"{'mean ce':>8}  {'acc':>6}  {'clipped':>7}  gap/H  behaviour"
    print(header)
    print("-" * len(header))
    index = {(s.night, s.model, s.epoch, s.split): s for s in stats}
    for s in stats:
        line = (
            f"{s.night:10}  {s.model:6}  {'' if s.epoch is None else s.epoch:>5}  "
            f"{s.split:5}  {s.n:>5}  {s.mean_ce:8.4f}  {s.accuracy:6.3f}  {s.clipped:>7}"
        )
        if s.split == "test":
            train = index[(s.night, s.model, s.epoch, "train")]
            line += f"  {(s.mean_ce - train.mean_ce) / h:5.3f}  {hint(train, s, h)}"
        print(line)

    failures = []
    for night in NIGHTS:

        def at(model: str, split: str, epoch: int | None = None, date: str = night.date) -> Stat:
            return index[(date, model, epoch, split)]

        for model, wanted in (("tree", "overfit"), ("logreg", "underfit"), ("forest", "good fit")):
            got = hint(at(model, "train"), at(model, "test"), h)
            if got != wanted:
                failures.append(f"{night.date} {model}: {got}, meant to be {wanted}")

        epochs = night.mlp_epochs
        train_ce = [at("mlp", "train", e).mean_ce for e in epochs]
        test_ce = [at("mlp", "test", e).mean_ce for e in epochs]
        best = epochs[int(np.argmin(test_ce))]
        falling = all(b < a for a, b in itertools.pairwise(train_ce))
        rise = test_ce[-1] - min(test_ce)
        shape = [hint(at("mlp", "train", e), at("mlp", "test", e), h) for e in epochs]
        print(
            f"{night.date} mlp: train CE strictly falling over epochs {epochs}: {falling}; "
            f"best test epoch {best} (test CE {min(test_ce):.4f}); last epoch {epochs[-1]} "
            f"test CE {test_ce[-1]:.4f} (+{rise:.4f} above the best); "
            f"per epoch: {', '.join(f'{e}={b}' for e, b in zip(epochs, shape, strict=True))}"
        )
        if not falling:
            failures.append(f"{night.date} mlp: train CE does not keep falling")
        if not (best < epochs[-1] and rise > 0.05):
            failures.append(f"{night.date} mlp: test CE does not rise again late")
        if shape[0] != "underfit" or "good fit" not in shape or shape[-1] != "overfit":
            failures.append(f"{night.date} mlp: not underfit -> good fit -> overfit: {shape}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=Path("data/demo"), help="Folder for the night folders."
    )
    args = parser.parse_args(argv)

    data = load_data()
    stats: list[Stat] = []
    for night in NIGHTS:
        folder = args.out / night.date
        if folder.exists():
            shutil.rmtree(folder)
        predictions = night_predictions(night, data)
        groups: dict[tuple[str, str], list[Prediction]] = {}
        for prediction in predictions:
            groups.setdefault((prediction.model, prediction.split), []).append(prediction)
            stats.append(stat_of(night.date, prediction, data.y))
        for (model, split), parts in groups.items():
            path = folder / f"model={model}" / f"split={split}" / "part-0.parquet"
            write_dump(path, parts, data.y)

    failures = report(stats, label_entropy(data.y[data.train]))
    files = sorted(args.out.rglob("*.parquet"))
    size = sum(f.stat().st_size for f in files)
    print(f"wrote {len(files)} files, {size / 1e6:.2f} MB under {args.out}")
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
