"""A night of many models: how long `lossgram run` takes to land and render it, and
where the time goes (ingest and commit against the pages).

    .venv/bin/python -m bench.many_models [--models 2000] [--rows 40] [--classes 4]

Writes one batch dump per split (every model's rows in one file, as a team exporting a
whole sweep would), runs `lossgram run` once with `--json`, then times `lossgram report`
of the night alone, and prints the figures (with when, after the run's start, the night
page was there). Everything lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

LOSSGRAM = str(Path(sys.executable).parent / "lossgram")
NIGHT = "2026-11-20"


def write_batch(inbox: Path, split: str, models: int, rows: int, classes: int) -> None:
    """inbox/NIGHT/<split>.parquet: `rows` samples of each of `models` models."""
    rng = np.random.default_rng(0 if split == "train" else 1)
    n = models * rows
    labels = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes))
    strength = np.repeat(np.linspace(0.5, 3.0, models), rows)
    logits[np.arange(n), labels] += strength if split == "train" else 1.0
    path = inbox / NIGHT / f"{split}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "sample_id": np.tile(np.arange(rows), models),
            "label": labels,
            "logits": pl.Series(logits, dtype=pl.Array(pl.Float32, classes)),
            "split": [split] * n,
            "model": np.repeat([f"model-{index:05d}" for index in range(models)], rows),
        }
    ).write_parquet(path)


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--classes", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for split in ("train", "test"):
            write_batch(root / "inbox", split, args.models, args.rows, args.classes)
        where = ["--warehouse", str(root / "wh"), "--reports", str(root / "reports")]
        started = time.time()
        run_seconds, out = timed(
            [LOSSGRAM, "run", "--inbox", str(root / "inbox"), *where, "--json"]
        )
        summary = json.loads(out)
        night_page = root / "reports" / NIGHT / "index.html"
        # The night page is written before the model pages: when it was there.
        night_page_seconds = night_page.stat().st_mtime - started
        report_seconds, _ = timed([LOSSGRAM, "report", "--date", NIGHT, *where])
        pages = len(list(night_page.parent.glob("*.html")))
        print(
            json.dumps(
                {
                    "models": args.models,
                    "rows_per_split": args.rows,
                    "run_seconds": round(run_seconds, 2),
                    "run_status": summary.get("status"),
                    "night_page_after_seconds": round(night_page_seconds, 2),
                    "report_seconds": round(report_seconds, 2),
                    "pages": pages,
                    "night_page_kib": round(night_page.stat().st_size / 1024, 1),
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
