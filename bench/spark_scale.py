"""The nightly job on each engine, side by side: embedded DuckDB, Spark local[2], and a
Spark standalone cluster of two one-core workers on 127.0.0.1.

For each row count N (default 10M and 40M test rows x 10 float32 logits, in 1M-row part
files, plus N/10 train rows), each engine runs `run_job` on a fresh warehouse in a child
process, which reports:

  seconds      the whole job (losses, aggregates, verdicts; no reports)
  loss_stage   the loss stage alone (compute_snapshot or its Spark twin)
  per_core     rows per second per core of the loss stage (2 cores in every setup)
  driver_rss   peak RSS of the Python driver process (ru_maxrss)
  jvm_rss      peak RSS of the Spark driver JVM (VmHWM), for the Spark engines

Usage (from the repository root): python -m bench.spark_scale [--rows 10000000 40000000]
The Markdown table goes to stdout, raw figures to bench/out/spark_scale-<time>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
WORK = OUT / "spark_scale"
PART_ROWS = 1_000_000
CLASSES = 10
DAY = "2026-11-23"


def make_inbox(rows: int) -> Path:
    """inbox-N/DAY/model=bench/split=S/part-K.parquet, 1M rows a part (cached)."""
    inbox = WORK / f"inbox-{rows}"
    done = inbox / ".complete"
    if done.exists():
        return inbox
    rng = np.random.default_rng(0)
    for split, count in (("test", rows), ("train", rows // 10)):
        folder = inbox / DAY / "model=bench" / f"split={split}"
        folder.mkdir(parents=True, exist_ok=True)
        for part, start in enumerate(range(0, count, PART_ROWS)):
            n = min(PART_ROWS, count - start)
            labels = rng.integers(0, CLASSES, n)
            logits = rng.normal(size=(n, CLASSES)).astype(np.float32)
            logits[np.arange(n), labels] += 2.0
            flat = pa.array(logits.reshape(-1))
            table = pa.table(
                {
                    "sample_id": pa.array(np.arange(start, start + n)),
                    "label": pa.array(labels),
                    "logits": pa.FixedSizeListArray.from_arrays(flat, CLASSES),
                }
            )
            pq.write_table(table, folder / f"part-{part:05d}.parquet")
    done.touch()
    return inbox


def child(engine: str, master: str, inbox: Path, warehouse: Path) -> dict[str, Any]:
    """In the child process: one run, timed, with its peaks."""
    from pipeline.nightly import job_options
    from pipeline.nightly.driver import run_job
    from pipeline.settings import Settings

    timings: dict[str, float] = {}
    choose = job_options.engine_for

    def timed_engine(layout: Any, options: Any, spark: Any) -> Any:
        engine = choose(layout, options, spark)
        compute = engine.compute

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return compute(*args, **kwargs)
            finally:
                timings["loss_stage"] = timings.get("loss_stage", 0.0) + (
                    time.perf_counter() - started
                )

        return dataclasses.replace(engine, compute=timed)

    job_options.engine_for = timed_engine  # type: ignore[assignment]
    settings = Settings(inbox=inbox, warehouse=warehouse, engine=engine, spark_master=master)
    started = time.perf_counter()
    summary = run_job(settings)
    seconds = time.perf_counter() - started
    jvm_rss = None
    if engine == "spark":
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        assert session is not None
        pid = session.sparkContext._jvm.ProcessHandle.current().pid()  # type: ignore[union-attr]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                jvm_rss = int(line.split()[1]) * 1024
    return {
        "status": summary.status,
        "rows": summary.rows_ingested,
        "seconds": seconds,
        "loss_stage": timings["loss_stage"],
        "driver_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "jvm_rss": jvm_rss,
    }


def run_child(engine: str, master: str, inbox: Path, warehouse: Path) -> dict[str, Any]:
    from tests.helpers.spark_cluster import spark_env

    command = [sys.executable, str(HERE / "spark_scale.py"), "--child", engine, master]
    command += [str(inbox), str(warehouse)]
    done = subprocess.run(
        command, capture_output=True, text=True, env=spark_env(), check=False, timeout=3600
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000, 40_000_000])
    parser.add_argument("--child", nargs=4, metavar=("ENGINE", "MASTER", "INBOX", "WH"))
    args = parser.parse_args()
    if args.child:
        engine, master, inbox, warehouse = args.child
        print(json.dumps(child(engine, master, Path(inbox), Path(warehouse))))
        return
    from tests.helpers.spark_cluster import standalone_cluster

    results = []
    WORK.mkdir(parents=True, exist_ok=True)
    cluster_dir = WORK / "cluster"
    cluster_dir.mkdir(exist_ok=True)
    with standalone_cluster(cluster_dir) as master_url:
        setups = [
            ("embedded", "duckdb", ""),
            ("spark local[2]", "spark", "local[2]"),
            ("spark 2 workers", "spark", master_url),
        ]
        for rows in args.rows:
            print(f"making {rows:,} rows", file=sys.stderr)
            inbox = make_inbox(rows)
            for name, engine, master in setups:
                warehouse = WORK / "wh"
                subprocess.run(["rm", "-rf", str(warehouse)], check=True)
                print(f"{name} on {rows:,} rows", file=sys.stderr)
                result = run_child(engine, master, inbox, warehouse)
                total = rows + rows // 10
                result.update(setup=name, test_rows=rows, per_core=total / result["loss_stage"] / 2)
                results.append(result)
                print(json.dumps(result), file=sys.stderr)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"spark_scale-{stamp}.json").write_text(json.dumps(results, indent=1))
    header = (
        "| setup | test rows | job s | loss stage s | rows/s/core | driver RSS MiB | JVM RSS MiB |"
    )
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        jvm = "" if r["jvm_rss"] is None else f"{r['jvm_rss'] / 2**20:.0f}"
        print(
            f"| {r['setup']} | {r['test_rows']:,} | {r['seconds']:.1f} | {r['loss_stage']:.1f} "
            f"| {r['per_core']:,.0f} | {r['driver_rss'] / 2**20:.0f} | {jvm} |"
        )


if __name__ == "__main__":
    main()
