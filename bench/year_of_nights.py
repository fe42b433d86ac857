"""A year of nights: how the cost of a night grows with the warehouse's history.

    .venv/bin/python -m bench.year_of_nights [--nights 365] [--models 20] [--rows 100]

Lands one night at a time (each: `models` models x train/test x 10 epochs x `rows`
samples, 10 classes; per-class histograms come with them), in this process, and every
`--every` nights (default 30) measures: the catalog's size, the seconds the night's
commit took (the job's own `seconds`; the median of the last 5 nights, against the
median of nights 2-6: night 1 also creates the catalog; and the same of `run_job`'s wall
time, which also holds what a run does after its last commit), the catalog commits each
run made (`Warehouse.commit` calls, counted here), a run that finds nothing new,
`lossgram report` of the latest night (write_reports of that date, with the dashboard)
and of the dashboard alone, and the dashboard page's size. Prints one JSON line per
checkpoint (and a table at the end); everything lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from pipeline.base.files import atomic_write_text
from pipeline.nightly.driver import run_job
from pipeline.nightly.job_options import open_warehouse
from pipeline.report.data import nights
from pipeline.report.pages import DASHBOARD_NIGHTS, render_index
from pipeline.report.writing import write_reports
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.queries import query_frame

FIRST = dt.date(2026, 1, 1)
EPOCHS, CLASSES = 10, 10


def write_night(inbox: Path, night: dt.date, models: int, rows: int, seed: int) -> None:
    """One batch dump per split: every model's rows at every epoch."""
    rng = np.random.default_rng(seed)
    for split, boost in (("train", 2.5), ("test", 1.5)):
        n = models * EPOCHS * rows
        labels = rng.integers(0, CLASSES, n)
        logits = rng.normal(size=(n, CLASSES)).astype(np.float32)
        logits[np.arange(n), labels] += boost
        frame = pl.DataFrame(
            {
                "sample_id": np.tile(np.arange(rows), models * EPOCHS),
                "label": labels,
                "logits": pl.Series(logits, dtype=pl.Array(pl.Float32, CLASSES)),
                "split": [split] * n,
                "model": np.repeat([f"model-{m:02d}" for m in range(models)], EPOCHS * rows),
                "epoch": np.tile(np.repeat(np.arange(1, EPOCHS + 1), rows), models),
            }
        )
        path = inbox / night.isoformat() / f"{split}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)


def write_dashboard(warehouse: Warehouse, reports: Path) -> None:
    """What `lossgram report` does for the dashboard alone (its queries, its page)."""
    with warehouse.reading(losses_view=False) as connection:
        listed = nights(connection)
        rows = query_frame(connection, "report_dashboard", {"nights": DASHBOARD_NIGHTS})
    atomic_write_text(reports / "index.html", render_index(listed, rows, "vega.js", reports))


class CountedCommits:
    """Wraps Warehouse.commit to count the catalog commits (each a copy of the catalog)."""

    def __init__(self) -> None:
        self.count = 0
        original = Warehouse.commit

        def counted(warehouse: Warehouse):  # type: ignore[no-untyped-def]
            self.count += 1
            return original(warehouse)

        Warehouse.commit = counted  # type: ignore[method-assign]

    def taken(self) -> int:
        count, self.count = self.count, 0
        return count


def seconds(call) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--every", type=int, default=30)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        settings = Settings(inbox=root / "inbox", warehouse=root / "wh", reports=root / "reports")
        warehouse = open_warehouse(settings)
        options = settings.report_options()
        commits: list[float] = []
        walls: list[float] = []
        cpus: list[float] = []
        counter = CountedCommits()
        for index in range(args.nights):
            night = FIRST + dt.timedelta(days=index)
            write_night(settings.inbox, night, args.models, args.rows, seed=index)
            start, cpu = time.perf_counter(), time.process_time()
            commits.append(run_job(settings, warehouse=warehouse).seconds)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            night_commits = counter.taken()
            if (index + 1) % args.every and index + 1 != args.nights:
                continue
            start, cpu = time.perf_counter(), time.process_time()
            noop = run_job(settings, warehouse=warehouse).seconds
            noop_wall = time.perf_counter() - start
            noop_cpu = time.process_time() - cpu
            noop_commits = counter.taken()
            night_report = seconds(
                lambda night=night: write_reports(warehouse, settings.reports, options, [night])
            )
            dashboard = settings.reports / "index.html"
            dashboard_only = seconds(lambda: write_dashboard(warehouse, settings.reports))
            recent = statistics.median(commits[-5:])
            first = statistics.median(commits[1:6]) if len(commits) > 5 else commits[0]
            recent_wall = statistics.median(walls[-5:])
            first_wall = statistics.median(walls[1:6]) if len(walls) > 5 else walls[0]
            recent_cpu = statistics.median(cpus[-5:])
            first_cpu = statistics.median(cpus[1:6]) if len(cpus) > 5 else cpus[0]
            point = {
                "nights": index + 1,
                "catalog_mib": round(warehouse.catalog.stat().st_size / 2**20, 2),
                "commit_seconds": round(recent, 3),
                "commit_ratio": round(recent / first, 2),
                "wall_seconds": round(recent_wall, 3),
                "wall_ratio": round(recent_wall / first_wall, 2),
                "cpu_seconds": round(recent_cpu, 3),
                "cpu_ratio": round(recent_cpu / first_cpu, 2),
                "commits_per_night": night_commits,
                "noop_seconds": round(noop, 3),
                "noop_wall_seconds": round(noop_wall, 3),
                "noop_cpu_seconds": round(noop_cpu, 3),
                "noop_commits": noop_commits,
                "report_night_seconds": round(night_report, 2),
                "dashboard_seconds": round(dashboard_only, 2),
                "dashboard_kib": round(dashboard.stat().st_size / 1024, 1),
            }
            rows.append(point)
            print(json.dumps(point), file=sys.stderr, flush=True)
        # Every night's commit, for ratios against any stretch of nights (5-night medians
        # swing by ~20% on a 2-core VM).
        out = Path(__file__).parent / "out" / f"year_of_nights-{int(time.time())}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(
            json.dumps(
                {"checkpoints": rows, "commit_seconds": commits, "wall_seconds": walls, "cpu": cpus}
            )
        )
    print(
        "| nights | catalog MiB | commit s (x nights 2-6) | wall s (x nights 2-6) "
        "| CPU s (x nights 2-6) | commits | no-op s (wall, CPU, commits) | report of the night s "
        "| dashboard s | dashboard KiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in rows:
        print(
            f"| {p['nights']} | {p['catalog_mib']} | {p['commit_seconds']} "
            f"({p['commit_ratio']}x) | {p['wall_seconds']} ({p['wall_ratio']}x) "
            f"| {p['cpu_seconds']} ({p['cpu_ratio']}x) | {p['commits_per_night']} "
            f"| {p['noop_seconds']} ({p['noop_wall_seconds']}, {p['noop_cpu_seconds']}, "
            f"{p['noop_commits']}) | {p['report_night_seconds']} "
            f"| {p['dashboard_seconds']} | {p['dashboard_kib']} |"
        )


if __name__ == "__main__":
    main()
