"""Performance at scale: every target of the performance issue, measured in one run.

Targets (each measured side by side, contenders in rotating order per repeat):

  1 losses   `lossgram losses DUMP -o OUT` (whole process) against a bare pyarrow read of
             the same file (`python run_all.py --read DUMP`, whole process) for 4M x C
             logits, C = 10, 2, 100 (and 400k x 1000); goal <= 2.0x (<= 1.5x at C = 100),
             and peak RSS under 2 GiB at any size (also 20k x 50,000, one 4 GB row group:
             lossgram alone, as the bare read needs ~10 GB)
  2 e2e      `lossgram run` (CLI, fresh warehouse, reports included) against a bare script
             (pyarrow read, torch CE in float64 (numpy when torch is missing),
             numpy.histogram, pyarrow write of the losses) on one night of N x 10 test
             logits plus an N/10 x 10 train dump; goal <= 1.3x (#27)
  3 many     `lossgram run` on 1,000 small dumps against one dump with the same rows;
             goal <= 1.5x
  4 memory   `lossgram run` on 4N (default 40M + 4M train) against N: peak RSS <= 1 GiB
             and <= 1.1x N's
  5 noop     `lossgram run` again on the unchanged 1,000-file inbox (goal <= 0.5 s), and
             `lossgram --version` (goal <= 0.35 s) and `lossgram sql "select 1"` on that
             warehouse (goal <= 0.3 s; #27 item 6 lowered both)
  6 report   `lossgram report --date D` on a night of 20 models (the demo night, 5 copies
             of each of its 4 models); goal <= 5 s
  (ce)       not run by default: the CE stage in-process against torch (bench_losses.py)

CLI runs are subprocesses of /usr/bin/time -v (wall time measured here, peak RSS = its
"Maximum resident set size"), with no LOSSGRAM_* variable set, so every setting is its
default (duckdb_memory_limit = 2GB). `lossgram run` also renders the reports of the night,
into a fresh temp folder: its wall time includes them and the interpreter start-up; the
job alone is the `seconds` of its --json summary. The Markdown table goes to stdout,
progress to stderr, every raw figure to bench/out/run_all-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bench_losses as bl
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve()
WORK = bl.OUT / "run_all"
LOSSGRAM = Path(sys.executable).parent / "lossgram"
DATE = "2026-11-23"
DEMO_NIGHT = HERE.parent.parent / "data" / "demo" / DATE
GIB = 1024.0  # MiB
TARGETS = ("losses", "e2e", "memory", "many", "noop", "report", "ce")
DEFAULT_TARGETS = TARGETS[:-1]
LOSSES_CASES = (  # rows, classes, goal of the wall ratio (None: lossgram alone)
    (4_000_000, 10, 2.0),
    (4_000_000, 2, 2.0),
    (4_000_000, 100, 1.5),
    (400_000, 1000, 2.0),  # rows scaled down 10x: 400M scores, 1.6 GB as float32, one row group
    (20_000, 50_000, None),  # 1G scores, 4 GB as float32, one row group
)
LOSSES_PEAK_GOAL = 2 * GIB  # MiB, every case
CE_CASES = (  # rows, classes, kind
    (4_000_000, 10, "logits"),
    (4_000_000, 2, "logits"),
    (4_000_000, 100, "logits"),
    (400_000, 1000, "logits"),  # rows scaled down 10x: 400M scores, 1.6 GB as float32
    (4_000_000, 10, "probs"),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median(runs: list[dict[str, Any]], key: str = "seconds") -> float:
    return statistics.median(run[key] for run in runs)


def peak(runs: list[dict[str, Any]]) -> float:
    return max(run["peak_mib"] for run in runs)


def side_by_side(
    names: list[str], repeats: int, run_one: Callable[[str], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Each repeat runs every contender once, the order rotated by one each time."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            load = os.getloadavg()[0]
            result = run_one(name)
            result["load_before"] = load
            runs[name].append(result)
            seconds, mib = result["seconds"], result["peak_mib"]
            log(f"  {name}: {seconds:.2f} s, {mib:.0f} MiB (load before {load:.2f})")
    return runs


# -- dumps -----------------------------------------------------------------------------
def chunk_table(
    rng: np.random.Generator, first_id: int, rows: int, classes: int, split: str, train_rows: int
) -> pa.Table:
    """Rows like bench_losses.make_dump's; ids below train_rows are split 'train'."""
    labels = rng.integers(0, classes, rows, dtype=np.int64)
    logits = rng.standard_normal((rows, classes), dtype=np.float32) * 2.0
    logits[np.arange(rows), labels] += 2.0
    ids = np.arange(first_id, first_id + rows, dtype=np.int64)
    return pa.table(
        {
            "sample_id": pa.array(ids),
            "label": pa.array(labels),
            "logits": pa.FixedSizeListArray.from_arrays(pa.array(logits.ravel()), classes),
            "split": pa.array(np.where(ids < train_rows, "train", split)),
        }
    )


def write_chunked_dump(
    path: Path, rows: int, *, classes: int = 10, split: str = "test", train_rows: int = 0,
    seed: int = 0, chunk: int = 1_000_000,
) -> Path:  # fmt: skip
    """A logits dump written one row group at a time: the generator stays ~0.2 GB."""
    if path.exists():
        return path
    log(f"writing {path} ({rows} rows) ...")
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    partial = path.with_name(path.name + ".partial")
    writer = None
    for start in range(0, rows, chunk):
        table = chunk_table(rng, start, min(chunk, rows - start), classes, split, train_rows)
        writer = writer or pq.ParquetWriter(partial, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=chunk)
    assert writer is not None
    writer.close()
    partial.replace(path)
    return path


def warm(paths: list[Path]) -> None:
    """Read the files once so every contender finds them in the page cache."""
    for path in paths:
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


def night_inbox(rows: int) -> Path:
    """inbox/model=big/{test,train}.parquet: N test rows and N/10 train rows (hard links)."""
    inbox = WORK / f"inbox-night-{rows}"
    for split, count, seed in (("test", rows, 0), ("train", max(rows // 10, 1000), 1)):
        source = write_chunked_dump(
            WORK / "dumps" / f"{split}-{count}x10.parquet", count, split=split, seed=seed
        )
        link = inbox / "model=big" / f"{split}.parquet"
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, link)
    warm(sorted(inbox.rglob("*.parquet")))
    return inbox


def many_inboxes(rows: int, files: int) -> tuple[Path, Path]:
    """The same rows (first 20% train) as one dump and as `files` dumps of rows / files."""
    one = WORK / f"inbox-one-{rows}" / "model=m" / "part-0.parquet"
    write_chunked_dump(one, rows, train_rows=rows // 5, seed=2)
    many = WORK / f"inbox-many-{rows}-{files}"
    if not many.exists():
        log(f"splitting {one} into {files} files ...")
        table = pq.read_table(one)
        partial = many.with_name(many.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        bounds = np.linspace(0, rows, files + 1).astype(int)
        for index, (start, stop) in enumerate(itertools.pairwise(bounds)):
            target = partial / "model=m" / f"part-{index:05d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table.slice(start, stop - start), target, compression="zstd")
        partial.rename(many)
    warm([one, *sorted(many.rglob("*.parquet"))])
    return one.parent.parent, many


def demo_inbox(copies: int) -> Path:
    """The demo night, each of its models copied under `copies` names (model=<name>-<k>)."""
    inbox = WORK / f"inbox-report-{copies}"
    if not inbox.exists():
        partial = inbox.with_name(inbox.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        for model in sorted(DEMO_NIGHT.glob("model=*")):
            for copy in range(1, copies + 1):
                shutil.copytree(model, partial / DATE / f"{model.name}-{copy}")
        partial.rename(inbox)
    return inbox


# -- subprocesses ------------------------------------------------------------------------
def child_env() -> dict[str, str]:
    """This environment without LOSSGRAM_* (every setting at its default) and without
    PYTHONDONTWRITEBYTECODE: an installed lossgram has its bytecode saved, and compiling
    its modules again at each start cost `lossgram sql` ~30 ms."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LOSSGRAM_") and key != "PYTHONDONTWRITEBYTECODE"
    }


def time_v(stderr: str, label: str) -> float:
    for line in stderr.splitlines():
        if line.strip().startswith(label + ":"):
            return float(line.rsplit(":", 1)[1])
    raise RuntimeError(f"/usr/bin/time printed no {label!r}")


def timed(command: list[str], cwd: Path) -> dict[str, Any]:
    """Run under /usr/bin/time -v: wall seconds, user/sys CPU, peak RSS, stdout; a failed
    command gets its exit code and error line (no exception: a failure is a result)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], cwd=cwd, env=child_env(), capture_output=True, text=True
    )
    result = {
        "seconds": time.perf_counter() - start,
        "user": time_v(done.stderr, "User time (seconds)"),
        "sys": time_v(done.stderr, "System time (seconds)"),
        "peak_mib": time_v(done.stderr, "Maximum resident set size (kbytes)") / 1024,
        "stdout": done.stdout,
    }
    if done.returncode != 0:
        result.update(exit_code=done.returncode, error=error_line(done.stderr))
    return result


def error_line(stderr: str) -> str:
    """The last line naming an error, before /usr/bin/time's own report."""
    own = stderr.find("\tCommand being timed")
    lines = [line for line in stderr[:own].splitlines() if "rror" in line]
    return lines[-1].strip() if lines else stderr[:own].strip()[-300:]


def checked(result: dict[str, Any]) -> dict[str, Any]:
    """A command that must not fail (the baselines, report)."""
    if "error" in result:
        raise RuntimeError(f"exit {result['exit_code']}: {result['error']}")
    return result


@contextlib.contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A fresh folder under WORK/scratch, removed afterwards."""
    folder = WORK / "scratch" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def lossgram_run(inbox: Path, folder: Path) -> dict[str, Any]:
    """`lossgram run --json` with its warehouse and reports in folder; the job's summary."""
    command = [str(LOSSGRAM), "run", "--date", DATE, "--inbox", str(inbox)]
    command += ["--warehouse", str(folder / "wh"), "--reports", str(folder / "reports"), "--json"]
    result = timed(command, cwd=folder)
    stdout = result.pop("stdout")
    if "error" in result:
        log(f"  FAILED after {result['seconds']:.1f} s: {result['error']}")
        return result
    summary = json.loads(stdout)
    if summary["status"] != "succeeded":
        raise RuntimeError(f"lossgram run: {summary['status']}: {summary}")
    result.update(
        job_seconds=summary["seconds"],
        files_ingested=summary["files_ingested"],
        files_unchanged=summary["files_unchanged"],
        rows_ingested=summary["rows_ingested"],
        verdicts=[v["verdict"] for v in summary["verdicts"]],
        pages=len(summary["reports"]),
    )
    return result


def fresh_lossgram_run(inbox: Path, name: str) -> dict[str, Any]:
    with scratch(name) as folder:
        return lossgram_run(inbox, folder)


# -- the bare script (the E2E baseline) ---------------------------------------------------
def bare_main(inbox: Path, out: Path, edges_file: Path) -> None:
    """What a user would write: per dump read + torch CE (numpy's when torch is missing) +
    numpy.histogram + write losses."""
    edges = np.array(json.loads(edges_file.read_text()))
    histograms: dict[str, np.ndarray] = {}
    rows = 0
    try:
        import torch  # noqa: F401

        cross_entropy, baseline = bl.run_torch, "torch"
    except ImportError:
        cross_entropy, baseline = bl.run_numpy, "numpy"
    for index, path in enumerate(sorted(inbox.rglob("*.parquet"))):
        ce = cross_entropy(path, "logits")  # pyarrow read_table + float64 CE
        keys = pq.read_table(path, columns=["sample_id", "split"])
        splits = keys.column("split")
        for split in pc.unique(splits).to_pylist():
            mask = pc.equal(splits, split).to_numpy(zero_copy_only=False)
            counts, _ = np.histogram(ce[mask], bins=edges)
            histograms[split] = histograms.get(split, 0) + counts
        losses = keys.append_column("ce", pa.array(ce))
        pq.write_table(losses, out / f"losses-{index:05d}.parquet", compression="zstd")
        rows += len(ce)
    histogram_lists = {k: v.tolist() for k, v in histograms.items()}
    print(json.dumps({"rows": rows, "ce": baseline, "histograms": histogram_lists}))


def bare_run(inbox: Path, edges_file: Path) -> dict[str, Any]:
    with scratch("bare") as folder:
        command = [sys.executable, str(HERE), "--bare", str(inbox), str(folder), str(edges_file)]
        result = checked(timed(command, cwd=folder))
    result.update(json.loads(result.pop("stdout")))
    return result


def edges_file() -> Path:
    """lossgram's default bin edges (lower edges, then +inf) for numpy.histogram."""
    from pipeline.analysis.bins import log_bin_scheme

    path = WORK / "edges.json"
    path.write_text(json.dumps([*log_bin_scheme().edges, float("inf")]))
    return path


def check_histograms(inbox: Path, expected: dict[str, list[int]]) -> bool:
    """lossgram's all-class histograms equal numpy.histogram's counts (one extra run)."""
    import duckdb

    with scratch("check") as folder:
        checked(lossgram_run(inbox, folder))
        with contextlib.closing(duckdb.connect(str(folder / "wh" / "lossgram.duckdb"))) as db:
            rows = db.execute(
                "SELECT split, bin, count FROM histograms WHERE label IS NULL"
            ).fetchall()
    found = {split: [0] * len(counts) for split, counts in expected.items()}
    for split, index, count in rows:
        found.setdefault(split, [0] * 122)[index] = count
    return found == expected


# -- the targets -------------------------------------------------------------------------
def read_main(path: Path) -> None:
    """The floor of target 1: a bare pyarrow read of the whole file."""
    table = pq.read_table(path)
    print(json.dumps({"rows": table.num_rows}))


def target_losses(args: argparse.Namespace) -> dict[str, Any]:
    """`lossgram losses` against a bare pyarrow read, both whole processes."""
    cases = []
    folder = args.dumps or bl.OUT
    folder.mkdir(parents=True, exist_ok=True)
    for rows, classes, goal in LOSSES_CASES:
        rows = scaled(rows, args.scale)
        log(f"[losses] {rows} x {classes} logits")
        path = folder / bl.dump_path(rows, classes, "logits").name
        if not path.exists():
            bl.make_dump(path, rows, classes, "logits")
        warm([path])

        def run_one(name: str, path: Path = path) -> dict[str, Any]:
            with scratch("losses") as folder:
                if name == "pyarrow read":
                    command = [sys.executable, str(HERE), "--read", str(path)]
                else:
                    command = [str(LOSSGRAM), "losses", str(path), "-o", str(folder / "ce.parquet")]
                result = checked(timed(command, cwd=folder))
            result.pop("stdout")
            return result

        difference = None
        if goal is not None:  # the numpy check reads the whole file into memory
            with scratch("losses-check") as scratch_folder:
                out = scratch_folder / "ce.parquet"
                command = [str(LOSSGRAM), "losses", str(path), "-o", str(out)]
                checked(timed(command, cwd=scratch_folder))
                ce = pq.read_table(out, columns=["ce"]).column("ce").to_numpy()
                difference = float(np.abs(ce - bl.run_numpy(path, "logits")).max())
            log(f"  max |lossgram ce - numpy ce| = {difference:.2e}")
        names = ["pyarrow read", "lossgram losses"] if goal is not None else ["lossgram losses"]
        runs = side_by_side(names, args.repeats, run_one)
        cases.append({"rows": rows, "classes": classes, "goal": goal,
                      "max_ce_difference": difference, "runs": runs})  # fmt: skip
    return {"cases": cases}


def target_ce(args: argparse.Namespace) -> dict[str, Any]:
    with_torch = bl.torch_available()
    baseline = "torch" if with_torch else "numpy"
    names = [baseline, "lossgram-stage", "lossgram-compute"]
    cases = []
    for rows, classes, kind in CE_CASES:
        rows = scaled(rows, args.scale)
        log(f"[ce] {rows} x {classes} {kind}")
        case = argparse.Namespace(rows=rows, classes=classes, kind=kind)
        path = bl.dump_path(rows, classes, kind)
        if not path.exists():
            bl.make_dump(path, rows, classes, kind)
        warm([path])
        with contextlib.redirect_stdout(sys.stderr):
            bl.check_equal(path, kind, with_torch)
        runs = side_by_side(names, args.repeats, lambda name, case=case: bl.run_child(name, case))
        cases.append({"rows": rows, "classes": classes, "kind": kind, "runs": runs})
    return {"baseline": baseline, "cases": cases}


def target_night(rows: int, repeats: int, bare: bool) -> dict[str, Any]:
    """lossgram run (and the bare script) on one night of `rows` test + rows/10 train."""
    inbox = night_inbox(rows)
    log(f"[night {rows}] {inbox}")
    names = ["lossgram", "bare"] if bare else ["lossgram"]
    edges = edges_file()

    def run_one(name: str) -> dict[str, Any]:
        if name == "bare":
            return bare_run(inbox, edges)
        return fresh_lossgram_run(inbox, f"night-{rows}")

    runs = side_by_side(names, repeats, run_one)
    result: dict[str, Any] = {"rows": rows, "train_rows": max(rows // 10, 1000), "runs": runs}
    if bare:
        result["histograms_equal"] = check_histograms(inbox, runs["bare"][0]["histograms"])
        for run in runs["bare"]:
            run.pop("histograms")
        log(f"  lossgram histograms == numpy.histogram: {result['histograms_equal']}")
    return result


def target_many(args: argparse.Namespace) -> dict[str, Any]:
    rows, files = scaled(2_000_000, args.scale), args.files
    one, many = many_inboxes(rows, files)
    log(f"[many] {rows} rows: 1 file against {files} files")
    inboxes = {"one file": one, f"{files} files": many}
    runs = side_by_side(
        list(inboxes), args.repeats, lambda name: fresh_lossgram_run(inboxes[name], "many")
    )
    return {"rows": rows, "files": files, "runs": runs}


def target_noop(args: argparse.Namespace) -> dict[str, Any]:
    rows, files = scaled(2_000_000, args.scale), args.files
    _, many = many_inboxes(rows, files)
    log(f"[noop] {files} unchanged files")
    with scratch("noop") as folder:
        first = checked(lossgram_run(many, folder))
        log(f"  first run: {first['seconds']:.2f} s")
        again = side_by_side(
            ["second run"], args.repeats, lambda _: checked(lossgram_run(many, folder))
        )
        startup = side_by_side(
            ["lossgram --version", "lossgram sql 'select 1'"],
            args.repeats,
            lambda name: startup_run(name, folder),
        )
    return {"files": files, "first": first, "runs": {**again, **startup}}


def startup_run(name: str, folder: Path) -> dict[str, Any]:
    command = [str(LOSSGRAM), "--version"]
    if "sql" in name:
        command = [str(LOSSGRAM), "sql", "select 1", "--warehouse", str(folder / "wh")]
    result = checked(timed(command, cwd=folder))
    result.pop("stdout")
    return result


def target_report(args: argparse.Namespace) -> dict[str, Any]:
    inbox = demo_inbox(args.report_copies)
    log(f"[report] {inbox}")
    with scratch("report") as folder:
        ingest = checked(lossgram_run(inbox, folder))
        log(f"  ingest (run + its reports): {ingest['seconds']:.2f} s, {ingest['pages']} pages")

        def report_once(_: str) -> dict[str, Any]:
            reports = folder / "reports-again"
            shutil.rmtree(reports, ignore_errors=True)
            command = [str(LOSSGRAM), "report", "--date", DATE, "--warehouse", str(folder / "wh")]
            result = checked(timed([*command, "--reports", str(reports)], cwd=folder))
            result["pages"] = len(list(reports.rglob("*.html")))
            result.pop("stdout")
            return result

        runs = side_by_side(["lossgram report"], args.repeats, report_once)
    return {"models": 4 * args.report_copies, "ingest": ingest, "runs": runs}


def scaled(rows: int, scale: float) -> int:
    return max(int(rows * scale), 1000)


# -- the table ---------------------------------------------------------------------------
def verdict(met: bool) -> str:
    return "yes" if met else "**no**"


def losses_rows(result: dict[str, Any]) -> list[list[str]]:
    rows = []
    for case in result["cases"]:
        lossgram = case["runs"]["lossgram losses"]
        cpu = median(lossgram, "user") + median(lossgram, "sys")
        within = peak(lossgram) < LOSSES_PEAK_GOAL
        measured = (
            f"lossgram losses {median(lossgram):.2f} s ({peak(lossgram):.0f} MiB, CPU {cpu:.2f} s)"
        )
        goal, met = case.get("goal"), within
        if goal is not None:
            read = case["runs"]["pyarrow read"]
            ratio = median(lossgram) / median(read)
            read_cpu = median(read, "user") + median(read, "sys")
            measured += (
                f"; pyarrow read {median(read):.2f} s ({peak(read):.0f} MiB, CPU {read_cpu:.2f} s)"
                f"; **{ratio:.2f}x** (CPU {cpu / read_cpu:.2f}x)"
            )
            met = within and ratio <= goal
        rows.append(
            [
                f"1 losses {case['rows'] / 1e6:g}M x {case['classes']}",
                measured,
                (f"<= {goal}x, " if goal is not None else "") + "peak < 2 GiB",
                verdict(met),
            ]
        )
    return rows


def ce_rows(result: dict[str, Any]) -> list[list[str]]:
    base = result["baseline"]
    rows = []
    for case in result["cases"]:
        runs = case["runs"]
        ratios = {name: median(runs[name]) / median(runs[base]) for name in runs if name != base}
        rows.append(
            [
                f"(ce) CE {case['rows'] / 1e6:g}M x {case['classes']} {case['kind']}",
                f"{base} {median(runs[base]):.2f} s ({peak(runs[base]):.0f} MiB); "
                + "; ".join(
                    f"{name} {median(runs[name]):.2f} s ({peak(runs[name]):.0f} MiB) = "
                    f"**{ratio:.2f}x**"
                    for name, ratio in ratios.items()
                ),
                "<= 1.0x",
                verdict(max(ratios.values()) <= 1.0),
            ]
        )
    return rows


def job_text(runs: list[dict[str, Any]]) -> str:
    if failures(runs):
        return failures(runs)
    return (
        f"{median(runs):.2f} s wall (job {median(runs, 'job_seconds'):.2f} s), {peak(runs):.0f} MiB"
    )


def failures(runs: list[dict[str, Any]]) -> str:
    """'' when every run succeeded, else what failed (time and peak RSS up to the failure)."""
    failed = [run for run in runs if "error" in run]
    if not failed:
        return ""
    return (
        f"FAILED {len(failed)}/{len(runs)} runs after {median(failed):.1f} s "
        f"(peak {peak(failed):.0f} MiB): {failed[0]['error'][:160]}"
    )


E2E_GOAL = 1.3  # the night against the bare script (#27 lowered it from 1.5)


def e2e_rows(night: dict[str, Any]) -> list[list[str]]:
    runs = night["runs"]
    name = f"2 E2E {night['rows'] / 1e6:g}M test + {night['train_rows'] / 1e6:g}M train"
    if failures(runs["lossgram"]):
        return [[name, failures(runs["lossgram"]), f"<= {E2E_GOAL}x", verdict(False)]]
    ratio = median(runs["lossgram"]) / median(runs["bare"])
    job_ratio = median(runs["lossgram"], "job_seconds") / median(runs["bare"])
    return [
        [
            name,
            f"lossgram run {job_text(runs['lossgram'])}; bare ({runs['bare'][0]['ce']} CE) "
            f"{median(runs['bare']):.2f} s, "
            f"{peak(runs['bare']):.0f} MiB; **{ratio:.2f}x** (job only {job_ratio:.2f}x); "
            f"histograms equal: {night['histograms_equal']}",
            f"<= {E2E_GOAL}x",
            verdict(ratio <= E2E_GOAL),
        ]
    ]


def memory_rows(small: dict[str, Any], big: dict[str, Any]) -> list[list[str]]:
    s, b = small["runs"]["lossgram"], big["runs"]["lossgram"]
    name = f"4 memory {big['rows'] / 1e6:g}M (+{big['train_rows'] / 1e6:g}M train)"
    if failures(b):
        return [[name, failures(b), "<= 1 GiB and <= 1.1x", verdict(False)]]
    rss_ratio, time_ratio = peak(b) / peak(s), median(b) / median(s)
    return [
        [
            name,
            f"peak {peak(b):.0f} MiB ({peak(b) / GIB:.2f} GiB); {small['rows'] / 1e6:g}M: "
            f"{peak(s):.0f} MiB; ratio **{rss_ratio:.2f}x** (time {job_text(b)}, "
            f"{time_ratio:.2f}x the {small['rows'] / 1e6:g}M night's)",
            "<= 1 GiB and <= 1.1x",
            verdict(peak(b) <= GIB and rss_ratio <= 1.1),
        ]
    ]


def many_rows(result: dict[str, Any]) -> list[list[str]]:
    one, many = (result["runs"][name] for name in result["runs"])
    name = f"3 many files: {result['files']} x {result['rows'] // result['files']} rows"
    if failures(one + many):
        return [[name, failures(many) or failures(one), "<= 1.5x", verdict(False)]]
    ratio = median(many) / median(one)
    job_ratio = median(many, "job_seconds") / median(one, "job_seconds")
    return [
        [
            name,
            f"{job_text(many)}; one file {job_text(one)}; **{ratio:.2f}x** (job {job_ratio:.2f}x)",
            "<= 1.5x",
            verdict(ratio <= 1.5),
        ]
    ]


def noop_rows(result: dict[str, Any]) -> list[list[str]]:
    runs = result["runs"]["second run"]
    rows = [
        [
            f"5 nothing new ({result['files']} files)",
            f"**{median(runs):.2f} s** wall (job {median(runs, 'job_seconds'):.2f} s), "
            f"{peak(runs):.0f} MiB",
            "<= 0.5 s",
            verdict(median(runs) <= 0.5),
        ]
    ]
    for name, goal in (("lossgram --version", 0.35), ("lossgram sql 'select 1'", 0.3)):
        startup = result["runs"][name]
        rows.append(
            [f"5 `{name}`", f"**{median(startup):.2f} s**", f"<= {goal} s",
             verdict(median(startup) <= goal)]
        )  # fmt: skip
    return rows


def report_rows(result: dict[str, Any]) -> list[list[str]]:
    runs = result["runs"]["lossgram report"]
    return [
        [
            f"6 report, {result['models']} models",
            f"**{median(runs):.2f} s** ({runs[0]['pages']} pages, {peak(runs):.0f} MiB)",
            "<= 5 s",
            verdict(median(runs) <= 5.0),
        ]
    ]


def ce_details(result: dict[str, Any]) -> str:
    """Target 1 per contender: wall (median, min-max), CPU and peak RSS."""
    lines = [
        "| case | contender | median s | min-max s | user s | sys s | peak RSS MiB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in result["cases"]:
        label = f"{case['rows'] / 1e6:g}M x {case['classes']} {case['kind']}"
        for name, runs in case["runs"].items():
            seconds = [run["seconds"] for run in runs]
            lines.append(
                f"| {label} | {name} | {median(runs):.2f} | {min(seconds):.2f}-{max(seconds):.2f} "
                f"| {median(runs, 'user'):.2f} | {median(runs, 'sys'):.2f} | {peak(runs):.0f} |"
            )
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    rows: list[list[str]] = []
    if "losses" in results:
        rows += losses_rows(results["losses"])
    if "e2e" in results:
        rows += e2e_rows(results["e2e"])
    if "many" in results:
        rows += many_rows(results["many"])
    if "memory" in results:
        rows += memory_rows(results["e2e"], results["memory"])
    for name, build in (("noop", noop_rows), ("report", report_rows), ("ce", ce_rows)):
        if name in results:
            rows += build(results[name])
    lines = ["| target | measured (median wall; peak RSS) | goal | met? |", "| --- " * 4 + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if "ce" in results:
        lines += ["", "Target 1 in detail:", "", ce_details(results["ce"])]
    return "\n".join(lines)


# -- the driver --------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    import duckdb
    import polars

    with open("/proc/meminfo") as meminfo:
        total = meminfo.readline().split()[1]
    return {
        "lossgram": bl.lossgram_version(),
        "python": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "mem_total_kib": int(total),
        "versions": {
            "polars": polars.__version__,
            "pyarrow": pa.__version__,
            "duckdb": duckdb.__version__,
            "numpy": np.__version__,
        },
        "duckdb_memory_limit": "2GB (default; no LOSSGRAM_* in the children's environment)",
        "load_at_start": os.getloadavg(),
    }


def run_targets(args: argparse.Namespace) -> dict[str, Any]:
    wanted = set(args.targets)
    results: dict[str, Any] = {}
    if "losses" in wanted:
        results["losses"] = target_losses(args)
    if wanted & {"e2e", "memory"}:
        results["e2e"] = target_night(scaled(10_000_000, args.scale), args.repeats, True)
    if "memory" in wanted:
        big = scaled(40_000_000, args.scale)
        results["memory"] = target_night(big, args.big_repeats, False)
    for name, run in (
        ("many", target_many), ("noop", target_noop), ("report", target_report), ("ce", target_ce)
    ):  # fmt: skip
        if name in wanted:
            results[name] = run(args)
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=TARGETS,
        default=list(DEFAULT_TARGETS),
        help="default: all but ce",
    )
    parser.add_argument("--repeats", type=int, default=3, help="per contender (default 3)")
    parser.add_argument("--big-repeats", type=int, default=2, help="of the 40M run (default 2)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every row count")
    parser.add_argument("--files", type=int, default=1000, help="dumps of the many-files inbox")
    parser.add_argument("--report-copies", type=int, default=5, help="copies of each demo model")
    parser.add_argument("--dumps", type=Path, help="folder of the losses dumps (default bench/out)")
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=3, type=Path, metavar=("INBOX", "OUT", "EDGES"),
                        help=argparse.SUPPRESS)  # fmt: skip
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.read:
        read_main(args.read)
        return
    if args.bare:
        bare_main(*args.bare)
        return
    if not LOSSGRAM.exists():
        sys.exit(f"no {LOSSGRAM}: run with the Python of a venv that has lossgram installed")
    started = time.strftime("%Y%m%d-%H%M%S")
    info = machine()
    log(f"lossgram: {info['lossgram']}; load average {info['load_at_start']}")
    results = run_targets(args)
    info["lossgram_at_end"] = bl.lossgram_version()
    if info["lossgram_at_end"] != info["lossgram"]:
        log(f"WARNING: lossgram changed during the run: now {info['lossgram_at_end']}")
    info["load_at_end"] = os.getloadavg()
    table = markdown(results)
    print(table)
    out = bl.OUT / f"run_all-{started}.json"
    out.write_text(
        json.dumps({"args": vars(args), "machine": info, "results": results}, indent=1, default=str)
    )
    log(f"raw results: {out}")


if __name__ == "__main__":
    main()
