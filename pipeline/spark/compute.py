"""The loss stage on Spark executors, with the embedded engine's own code.

The driver splits the night's dumps into tasks (a big dump alone, small ones together by
size); each Spark task runs `compute.compute_snapshot` on its share, on an executor,
writing losses into its own folder of the run's staging area (a shared file system),
and hands back the same `ComputedDump` results the embedded engine makes. So a dump is
checked, computed and rejected with exactly the same code and message on both engines;
the driver then admits, places and commits them as usual. A task Spark retries (a lost
executor) starts from an empty folder, so a retry writes the same files again.
"""

from __future__ import annotations

import datetime as dt
import heapq
import pickle
import shutil
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from pipeline.base.faults import executor_fault_point
from pipeline.base.options import IngestOptions
from pipeline.base.progress import Progress, no_progress
from pipeline.base.results import ComputedDump
from pipeline.ingest.compute import compute_snapshot

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# A task reads about this many bytes of dumps (a bigger dump is a task alone); a night is
# cut into at least two tasks per core Spark offers, so small nights use every core.
TASK_BYTES = 256 * 2**20
TASKS_PER_CORE = 2
RESULT_SCHEMA = "task long, payload binary"


def plan_tasks(sizes: Sequence[int], cores: int) -> list[list[int]]:
    """Positions of dumps per task: as many tasks as the bytes need (TASK_BYTES each) and
    at least TASKS_PER_CORE per core, filled largest dump first into the lightest task,
    each task's positions in order."""
    if not sizes:
        return []
    wanted = max(-(-sum(sizes) // TASK_BYTES), TASKS_PER_CORE * max(cores, 1))
    count = min(len(sizes), wanted)
    loads = [(0, task) for task in range(count)]
    tasks: list[list[int]] = [[] for _ in range(count)]
    for position in sorted(range(len(sizes)), key=lambda p: (-sizes[p], p)):
        load, task = heapq.heappop(loads)
        tasks[task].append(position)
        heapq.heappush(loads, (load + sizes[position], task))
    return [sorted(task) for task in tasks if task]


def compute_snapshot_on_spark(
    spark: SparkSession,
    paths: Sequence[Path],
    staging: Path,
    snapshot_date: dt.date,
    options: IngestOptions,
    progress: Progress,
) -> list[ComputedDump]:
    """compute_snapshot, its tasks run by Spark executors; results in the order of paths."""
    if not paths:
        return []
    sizes = [path.stat().st_size for path in paths]
    tasks = plan_tasks(sizes, _cores(spark))
    shares = [[str(paths[position]) for position in task] for task in tasks]
    run = partial(_run_tasks, shares, str(staging), snapshot_date, options)
    frame = spark.range(len(tasks), numPartitions=len(tasks)).mapInArrow(run, RESULT_SCHEMA)
    by_position: dict[int, ComputedDump] = {}
    for row in frame.toLocalIterator():
        results: list[ComputedDump] = pickle.loads(row["payload"])
        for position, result in zip(tasks[row["task"]], results, strict=True):
            by_position[position] = result
            progress(len(by_position), len(paths), result.outcome.path.name)
    return [by_position[position] for position in range(len(paths))]


def _cores(spark: SparkSession) -> int:
    """The cores Spark offers (its default parallelism); a Spark Connect session has no
    SparkContext to ask, so its configuration is read instead."""
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect: no JVM context on this side
        return int(spark.conf.get("spark.default.parallelism", "8") or 8)


def _run_tasks(
    shares: list[list[str]],
    staging: str,
    snapshot_date: dt.date,
    options: IngestOptions,
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """On an executor: each task id of the partition -> its dumps computed into
    staging/task-<id>/ by the embedded engine's compute_snapshot."""
    for batch in batches:
        for task in batch.column("id").to_pylist():
            folder = Path(staging) / f"task-{task:06d}"
            shutil.rmtree(folder, ignore_errors=True)  # a retried task starts afresh
            folder.mkdir(parents=True)
            paths = [Path(path) for path in shares[task]]
            results = compute_snapshot(paths, folder, snapshot_date, options, no_progress)
            executor_fault_point()  # tests: a lost executor here, its task run again
            payload = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
            yield pa.RecordBatch.from_pydict(
                {"task": [task], "payload": [payload]},
                schema=pa.schema([("task", pa.int64()), ("payload", pa.binary())]),
            )
