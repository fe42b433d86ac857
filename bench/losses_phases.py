"""Where `lossgram losses` spends its time, one step at a time in one process: the imports,
a bare pyarrow read, Polars' decode, the sliced decode the stage uses (pyarrow, a slice at
a time), the CE in memory, the whole stage (decode + checks + CE + encode + write) and the
printed summary (DuckDB). Best of 2 per step.

    .venv/bin/python bench/losses_phases.py bench/out/dump-logits-4000000x10.parquet
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

started = time.perf_counter()
import duckdb  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from pipeline.base.options import ReaderOptions  # noqa: E402
from pipeline.contract import open_dump  # noqa: E402
from pipeline.contract.cross_entropy import per_sample_losses  # noqa: E402
from pipeline.contract.slices import sliced_scan  # noqa: E402
from pipeline.ingest.loss_pass import dump_losses_to_parquet  # noqa: E402
from pipeline.warehouse.queries import query_frame  # noqa: E402

IMPORTS = time.perf_counter() - started


def best(step: Callable[[], object], repeats: int = 2) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def ce_in_memory(dump: Path, reader: ReaderOptions) -> float:
    """The losses of a dump already decoded into memory (freed on return)."""
    frame = open_dump(dump, reader).frame.collect().lazy()
    return best(lambda: per_sample_losses(frame, reader.loss).collect())


def main(dump: Path) -> None:
    reader = ReaderOptions()
    sums = [pl.col("logits").arr.sum().sum(), pl.col("label").sum(), pl.col("sample_id").sum()]
    decode = pl.scan_parquet(dump).select(sums)
    sliced = sliced_scan(dump, pl.scan_parquet(dump).collect_schema(), None).select(sums)
    steps = {
        "imports (Polars, pyarrow, DuckDB, pipeline)": IMPORTS,
        "pyarrow read_table": best(lambda: pq.read_table(dump)),
        "Polars decode, streaming": best(lambda: decode.collect(engine="streaming")),
        "sliced decode (pyarrow a slice at a time)": best(
            lambda: sliced.collect(engine="streaming")
        ),
        "CE in memory (13 columns)": ce_in_memory(dump, reader),
    }
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "ce.parquet"
        steps["stage: decode + checks + CE + encode + write"] = best(
            lambda: dump_losses_to_parquet(open_dump(dump, reader), reader.loss, out)
        )

        def summary() -> None:
            with duckdb.connect() as connection:
                query_frame(connection, "losses_file_summary", {"path": str(out)})

        steps["summary (DuckDB over the written file)"] = best(summary)
    for step, seconds in steps.items():
        print(f"| {dump.name} | {step} | {seconds:.2f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
