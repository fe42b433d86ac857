"""Time lossgram's cross-entropy stage against what a user would write by hand.

On one generated dump (N rows x C classes, `logits` or `probs` as a fixed-size
float32 list, zstd Parquet, cached under bench/out/) this measures wall time
and peak RSS of:

  read-pyarrow      pyarrow.parquet.read_table (pure read)
  read-polars       polars.read_parquet (pure read)
  numpy             read_table + float64 stable log-softmax gather (baseline)
  torch             read_table + torch cross_entropy / nll_loss in float64
                    (baseline; skipped when `import torch` fails)
  lossgram-stage    open_dump + dump_losses_to_parquet to a temp file: the real
                    CE stage, validation checks and Parquet write included
  lossgram-compute  open_dump + per_sample_losses(...).collect(), in memory

Every run of a contender is a fresh subprocess (`--only NAME`), so its peak
RSS (VmHWM, see memory_mib) is its own; the timed region excludes interpreter
start-up and imports. Repeats rotate the contender order; the table shows
medians, and the CPU seconds (user, sys) spent in the timed region.
Before timing, lossgram's `ce` is checked against the numpy baseline once.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parent / "out"
BASELINES = ("numpy", "torch")
LOSSGRAM = ("lossgram-stage", "lossgram-compute")
CONTENDERS = ("read-pyarrow", "read-polars", *BASELINES, *LOSSGRAM)
EPS = 1e-12  # the clamp of the probs baselines; lossgram's default eps


# -- the dump ------------------------------------------------------------------
def dump_path(rows: int, classes: int, kind: str) -> Path:
    return OUT / f"dump-{kind}-{rows}x{classes}.parquet"


def make_dump(path: Path, rows: int, classes: int, kind: str) -> None:
    """sample_id, label, logits|probs (fixed_size_list<float32>), split='test'."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, classes, rows, dtype=np.int64)
    logits = rng.standard_normal((rows, classes), dtype=np.float32) * 2.0
    logits[np.arange(rows), labels] += 2.0  # a model that is right fairly often
    values = logits
    if kind == "probs":
        shifted = logits - logits.max(axis=1, keepdims=True)
        values = np.exp(shifted)
        values /= values.sum(axis=1, keepdims=True)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), classes)
    table = pa.table(
        {
            "sample_id": pa.array(np.arange(rows, dtype=np.int64)),
            "label": pa.array(labels),
            kind: vectors,
            "split": pa.array(["test"] * rows, pa.string()),
        }
    )
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    pq.write_table(table, partial, compression="zstd")
    partial.replace(path)


# -- the contenders: each returns its per-sample result ------------------------
def arrays(path: Path, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """read_table, then (scores as float32 N x C, labels as int64) without copies."""
    table = pq.read_table(path)
    column = table.column(kind).combine_chunks()
    scores = column.flatten().to_numpy().reshape(len(column), -1)
    return scores, table.column("label").to_numpy()


def run_read_pyarrow(path: Path, kind: str) -> object:
    return pq.read_table(path)


def run_read_polars(path: Path, kind: str) -> object:
    import polars as pl

    return pl.read_parquet(path)


def run_numpy(path: Path, kind: str) -> np.ndarray:
    scores, labels = arrays(path, kind)
    rows = np.arange(len(labels))
    if kind == "probs":
        return -np.log(np.maximum(scores[rows, labels].astype(np.float64), EPS))
    z = scores.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    return np.log(np.exp(z).sum(axis=1)) - z[rows, labels]


def run_torch(path: Path, kind: str) -> np.ndarray:
    import warnings

    import torch
    import torch.nn.functional as F

    scores, labels = arrays(path, kind)
    with warnings.catch_warnings():  # arrow buffers are read-only; torch only reads them
        warnings.simplefilter("ignore", UserWarning)
        x, y = torch.from_numpy(scores), torch.from_numpy(labels)
    if kind == "probs":
        ce = F.nll_loss(torch.log(x.double().clamp(min=EPS)), y, reduction="none")
    else:
        ce = F.cross_entropy(x.double(), y, reduction="none")
    return ce.numpy()


def run_lossgram_stage(path: Path, kind: str) -> object:
    from pipeline.contract import open_dump
    from pipeline.ingest.loss_pass import dump_losses_to_parquet
    from pipeline.settings import Settings

    settings = Settings()
    dump = open_dump(path, settings.reader_options())
    with tempfile.TemporaryDirectory(dir=OUT) as scratch:
        return dump_losses_to_parquet(dump, settings.loss_spec(), Path(scratch) / "ce.parquet")


def run_lossgram_compute(path: Path, kind: str) -> Any:
    from pipeline.contract import open_dump
    from pipeline.contract.cross_entropy import per_sample_losses
    from pipeline.settings import Settings

    settings = Settings()
    frame = open_dump(path, settings.reader_options()).frame
    return per_sample_losses(frame, settings.loss_spec()).collect()


RUNNERS: dict[str, Callable[[Path, str], object]] = {
    "read-pyarrow": run_read_pyarrow,
    "read-polars": run_read_polars,
    "numpy": run_numpy,
    "torch": run_torch,
    "lossgram-stage": run_lossgram_stage,
    "lossgram-compute": run_lossgram_compute,
}


# -- one run in this process (the child side of --only) ------------------------
def memory_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc/self/status.

    Not ru_maxrss: Linux carries it over from the parent through fork + exec,
    so every child would report at least the driver's own peak.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def preload(name: str) -> None:
    """Import what a contender needs, so the timed region holds only the work."""
    modules = {
        "read-polars": ["polars"],
        "torch": ["torch"],
        "lossgram-stage": ["pipeline.ingest.loss_pass"],
        "lossgram-compute": ["pipeline.ingest.loss_pass"],
    }
    for module in modules.get(name, []):
        __import__(module)


def run_once(name: str, path: Path, kind: str) -> dict[str, float]:
    preload(name)
    before = memory_mib("VmRSS")
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    RUNNERS[name](path, kind)
    seconds = time.perf_counter() - start
    used = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "user": used.ru_utime - cpu.ru_utime,  # CPU seconds, all threads
        "sys": used.ru_stime - cpu.ru_stime,
        "peak_mib": memory_mib("VmHWM"),
        "import_mib": before,
    }


def run_child(name: str, args: argparse.Namespace) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--only",
        name,
        "--rows",
        str(args.rows),
        "--classes",
        str(args.classes),
        "--kind",
        args.kind,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


# -- the driver ----------------------------------------------------------------
def lossgram_version() -> str:
    """The commit of the lossgram source being measured, '-dirty' if it has edits."""
    import pipeline

    where = Path(pipeline.__file__).resolve().parent
    describe = ["git", "-C", str(where), "describe", "--always", "--dirty"]
    done = subprocess.run(describe, capture_output=True, text=True)
    return f"{where} at {done.stdout.strip() or 'unknown commit'}"


def torch_available() -> bool:
    check = [sys.executable, "-c", "import torch"]
    return subprocess.run(check, capture_output=True).returncode == 0


def stage_output(path: Path) -> pa.Table:
    """Run the CE stage once to a temp file; stop if lossgram rejects the dump."""
    from pipeline.contract import open_dump, problems_found
    from pipeline.ingest.loss_pass import dump_losses_to_parquet
    from pipeline.settings import Settings

    settings = Settings()
    dump = open_dump(path, settings.reader_options())
    with tempfile.TemporaryDirectory(dir=OUT) as scratch:
        target = Path(scratch) / "ce.parquet"
        counts, _ = dump_losses_to_parquet(dump, settings.loss_spec(), target)
        if problems_found(dump.checks, counts):
            sys.exit(f"FAIL: lossgram rejects the dump: {problems_found(dump.checks, counts)}")
        return pq.read_table(target, columns=["sample_id", "ce"])


def check_equal(path: Path, kind: str, with_torch: bool) -> None:
    """lossgram's ce (both lines) against the numpy baseline, once."""
    expected = run_numpy(path, kind)
    written = stage_output(path)
    results = {
        "lossgram-compute": run_lossgram_compute(path, kind)["ce"].to_numpy(),
        "lossgram-stage": written.column("ce").to_numpy(),
    }
    if with_torch:
        results["torch"] = run_torch(path, kind)
    diffs = {name: float(np.abs(ce - expected).max()) for name, ce in results.items()}
    for name, diff in diffs.items():
        print(f"check: max |{name} ce - numpy ce| = {diff:.3e}")
    ids = written.column("sample_id").cast(pa.int64()).to_numpy()
    print(f"check: lossgram-stage keeps the row order: {bool((ids == np.arange(len(ids))).all())}")
    worst = max(diffs["lossgram-compute"], diffs["lossgram-stage"])
    if not worst <= 1e-6:
        sys.exit(f"FAIL: lossgram differs from numpy by {worst:.3e} > 1e-6")


def report(names: list[str], runs: dict[str, list[dict[str, float]]]) -> None:
    median = {name: statistics.median(r["seconds"] for r in runs[name]) for name in names}
    print(
        f"\n{'contender':<18}{'median s':>9}{'min s':>7}{'max s':>7}{'user s':>8}"
        f"{'sys s':>7}{'peak RSS MiB':>14}{'after imports':>15}"
    )
    for name in names:
        seconds = [r["seconds"] for r in runs[name]]
        user, system, imports = (
            statistics.median(r[key] for r in runs[name]) for key in ("user", "sys", "import_mib")
        )
        peak = max(r["peak_mib"] for r in runs[name])
        print(
            f"{name:<18}{median[name]:>9.3f}{min(seconds):>7.3f}{max(seconds):>7.3f}"
            f"{user:>8.2f}{system:>7.2f}{peak:>14.0f}{imports:>15.0f}"
        )
    fastest = min((name for name in names if name in BASELINES), key=median.__getitem__)
    print(f"\nfastest baseline: {fastest} ({median[fastest]:.3f} s)")
    for name in LOSSGRAM:
        ratio = median[name] / median[fastest]
        verdict = "met" if ratio <= 1.0 else "NOT met"
        print(f"{name}/{fastest} = {ratio:.2f}x  (target <= 1.0x: {verdict})")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kind", choices=("logits", "probs"), default="logits")
    parser.add_argument("--only", choices=CONTENDERS, help="run one contender once, print JSON")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    path = dump_path(args.rows, args.classes, args.kind)
    if args.only:
        print(json.dumps(run_once(args.only, path, args.kind)))
        return
    if not path.exists():
        print(f"writing {path} ...")
        make_dump(path, args.rows, args.classes, args.kind)
    print(f"lossgram: {lossgram_version()}")
    print(
        f"dump: {path} ({path.stat().st_size / 2**20:.0f} MiB, "
        f"{args.rows} rows x {args.classes} {args.kind}), python {sys.executable}"
    )
    names = list(CONTENDERS)
    with_torch = torch_available()
    if not with_torch:
        names.remove("torch")
        print("note: `import torch` fails in this Python; the torch baseline is skipped")
    check_equal(path, args.kind, with_torch)

    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for repeat in range(args.repeats):
        order = names[repeat % len(names) :] + names[: repeat % len(names)]
        for name in order:
            runs[name].append(run_child(name, args))
        print(
            f"repeat {repeat + 1}/{args.repeats}: "
            + ", ".join(f"{n} {runs[n][-1]['seconds']:.2f}s" for n in order)
        )
    report(names, runs)


if __name__ == "__main__":
    main()
