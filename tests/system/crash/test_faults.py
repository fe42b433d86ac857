"""Crashes at exact points and readers during runs: nothing is lost, torn or counted twice.

Each case kills a `lossgram` process (SIGKILL, as a power cut would) at one named point of
a run or a rerun while a reader polls the warehouse, then runs the next command (in this
process: the same command line) and checks that:
the reader only ever saw whole nights, every accepted dump's rows are in `losses` once,
the histogram and summary totals match the losses per group, and no file is left that
the catalog does not reference.

The committed warehouse every case starts from is built once per module (one `lossgram
run`) and copied into each test's folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.warehouse.catalog import Warehouse
from tests.helpers.accounting import check_accounting, query
from tests.helpers.dumps import write_hive_split
from tests.helpers.paths import LOSSGRAM, ROOT

READER = ROOT / "tests" / "helpers" / "whole_nights_reader.py"

NIGHT_A, NIGHT_B = "2026-11-20", "2026-11-21"


def write_split(
    inbox: Path, night: str, model: str, split: str, seed: int, n: int = 300, wide: bool = False
) -> None:
    """A dump; wide ones (float64 logits) are not read in one query with the others."""
    signal = 2.0 if split == "train" else 0.5
    dtype = pl.Float64 if wide else pl.Float32
    write_hive_split(inbox, night, model, split, n=n, signal=signal, seed=seed, dtype=dtype)


def lossgram(root: Path, *args: str, kill_at: str | None = None) -> int:
    """`lossgram ARGS` on root's warehouse: its exit code, or -9 when it was killed. A
    command to be killed at a point is a process of its own; the others (the next command,
    which recovers what the killed one left) run the same command line in this process."""
    arguments = [*args, "--warehouse", str(root / "wh"), "--reports", str(root / "rp")]
    if args[0] == "run":
        arguments += ["--inbox", str(root / "inbox")]
    if kill_at is None:
        done = CliRunner().invoke(app, arguments, env={"LOSSGRAM_KILL_AT": None})
        if done.exception is not None and not isinstance(done.exception, SystemExit):
            raise done.exception
        return done.exit_code
    env = {**os.environ, "LOSSGRAM_KILL_AT": kill_at}
    done = subprocess.run(
        [LOSSGRAM, *arguments], env=env, capture_output=True, text=True, timeout=600
    )
    return done.returncode


class Reader:
    """A reader polling at 20 Hz (or holding one connection) while commands run. It is
    polling once the constructor returns: it has read the warehouse at least once."""

    def __init__(self, root: Path, hold: bool = False) -> None:
        self.stop = root / f"stop-{hold}"
        self.out = root / f"reader-{hold}.json"
        ready = root / f"ready-{hold}"
        arguments = [str(root / "wh"), str(self.stop), str(self.out), "--ready", str(ready)]
        self.process = subprocess.Popen(
            [sys.executable, str(READER), *arguments, *(["--hold"] if hold else [])]
        )
        deadline = time.monotonic() + 120  # a bound for a stuck reader, not a pace
        while not ready.exists():
            assert self.process.poll() is None, "the reader stopped before its first read"
            assert time.monotonic() < deadline, "the reader did not read within 120 s"
            time.sleep(0.02)

    def finish(self) -> dict[str, object]:
        self.stop.touch()
        self.process.wait(timeout=120)
        return dict(json.loads(self.out.read_text()))


@pytest.fixture(scope="module")
def committed_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with night A committed, and night B waiting in the inbox. Each rerun
    and run places two files: night A is one batch file of three dumps (two models) and
    tree's wide train dump; night B's two dumps do not batch."""
    root = tmp_path_factory.mktemp("committed")
    for index, (model, split) in enumerate(
        [("mlp", "train"), ("mlp", "test"), ("tree", "train"), ("tree", "test")]
    ):
        wide = (model, split) == ("tree", "train")
        write_split(root / "inbox", NIGHT_A, model, split, seed=index, wide=wide)
    assert lossgram(root, "run") == 0
    for index, split in enumerate(["train", "test"]):
        write_split(root / "inbox", NIGHT_B, "mlp", split, seed=10 + index, wide=index == 1)
    return root


@pytest.fixture
def committed(committed_once: Path, tmp_path: Path) -> Path:
    """committed_once, copied into this test's folder (a copied project: its dumps are
    known by their path inside the inbox and their content). The copy's stored `losses`
    view, which the readers query, is made over the copy's files first, as the next
    locked command would make it."""
    shutil.copytree(committed_once, tmp_path, symlinks=True, dirs_exist_ok=True)
    warehouse = Warehouse(tmp_path / "wh")
    with warehouse.commit() as catalog:
        warehouse.follow_move(catalog)
    return tmp_path


# A run of one night makes one catalog commit (the night and the run's outcome), and one
# more after its pages (their night no longer pending).
RUN_KILL_POINTS = [
    "after_start",  # noted, cleaned and planned: nothing placed or committed
    "after_place:1",
    "after_place:2",
    "during_aggregation",
    "before_commit",
    "before_catalog_swap:1",  # the night's commit, written but not swapped in
    "after_catalog_swap:1",  # the night and the outcome committed, the manifest not yet
    "before_export",  # the night committed, its Parquet copy under tables/ not yet
    "during_render",
    "before_catalog_swap:2",  # the pages written, their night still pending
]
# Killed before its commit, the run is recorded by the next one, from its note.
KILLED_UNCOMMITTED = RUN_KILL_POINTS[: RUN_KILL_POINTS.index("after_catalog_swap:1")]


@pytest.mark.parametrize("point", RUN_KILL_POINTS)
def test_run_killed_at_a_point_loses_and_tears_nothing(committed, point):
    before = query(committed, "SELECT count(*) FROM losses")[0][0]
    runs = query(committed, "SELECT run_id FROM job_runs")
    reader = Reader(committed)
    assert lossgram(committed, "run", kill_at=point) == -signal.SIGKILL
    seen = reader.finish()
    assert seen["torn"] == [] and seen["errors"] == [] and seen["polls"] > 0
    assert query(committed, "SELECT count(*) FROM losses")[0][0] in (before, before + 600)
    assert lossgram(committed, "run") == 0
    check_accounting(committed)
    assert query(committed, "SELECT count(*) FROM losses")[0][0] == before + 600
    stale = query(committed, "SELECT count(*) FROM job_runs WHERE status = 'running'")
    assert stale == [(0,)]
    # The killed run and the next are in the history: the killed one failed when it died
    # before its commit.
    earlier = ", ".join(f"'{run}'" for (run,) in runs)
    [killed, _] = query(
        committed,
        f"SELECT status, error FROM job_runs WHERE run_id NOT IN ({earlier}) ORDER BY started_at",
    )
    if point in KILLED_UNCOMMITTED:
        assert killed == ("failed", "interrupted: the process ended mid-run")
    else:
        assert killed == ("succeeded", None)
    # Killed after its commit, the night's pages are still written by the next run.
    assert (committed / "rp" / NIGHT_B / "index.html").is_file()
    assert (committed / "rp" / NIGHT_B / "mlp.html").is_file()
    assert query(committed, "SELECT count(*) FROM pending_reports") == [(0,)]


@pytest.mark.parametrize("point", ["after_place:1", "after_place:2", "before_commit"])
def test_a_batch_carried_over_killed_at_a_point_loses_nothing(committed, point):
    """Night A's mlp test dump changes: its batch file is retired whole and the rows of
    the other two dumps move to a new file (placed second). Killed anywhere, the night
    keeps every row; the next run lands it."""
    night = f"SELECT count(*), count(DISTINCT split) FROM losses WHERE snapshot_date = '{NIGHT_A}'"
    before = query(committed, night)
    files = "SELECT count(DISTINCT path), count(*) FROM live_files WHERE snapshot_date = "
    files += f"'{NIGHT_A}'"
    assert query(committed, files) == [(3, 4)]  # mlp's train and test dumps share a file
    write_split(committed / "inbox", NIGHT_A, "mlp", "test", seed=99)  # same size, new rows
    reader = Reader(committed)
    assert lossgram(committed, "run", kill_at=point) == -signal.SIGKILL
    assert query(committed, night) == before
    assert lossgram(committed, "run") == 0
    seen = reader.finish()
    assert seen["torn"] == [] and seen["errors"] == []
    check_accounting(committed)
    assert query(committed, night) == before
    assert query(committed, files) == [(4, 4)]  # mlp train moved out of the batch file


@pytest.mark.parametrize(
    "point", ["after_place:1", "after_place:2", "before_catalog_swap:1", "during_aggregation"]
)
@pytest.mark.parametrize("model", [None, "tree"])
def test_rerun_killed_keeps_the_night_it_was_replacing(committed, point, model):
    """A killed rerun leaves the night as it was (it once lost all of it)."""
    night = f"SELECT count(*) FROM losses WHERE snapshot_date = '{NIGHT_A}'"
    before = query(committed, night)[0][0]
    scope = ["--model", model] if model else []
    reader = Reader(committed, hold=True)
    assert lossgram(committed, "rerun", "--date", NIGHT_A, *scope, kill_at=point) == -9
    assert query(committed, night)[0][0] == before
    assert lossgram(committed, "run") == 0  # the next locked command recovers
    assert query(committed, night)[0][0] == before
    assert lossgram(committed, "rerun", "--date", NIGHT_A, *scope) == 0
    seen = reader.finish()
    assert seen["torn"] == [] and seen["errors"] == []
    check_accounting(committed)
    assert query(committed, night)[0][0] == before


def test_readers_never_break_the_nightly_run(committed):
    """A reader polling at 20 Hz and one holding a connection for the whole time: 20 of
    20 runs succeed, and neither reader ever sees a torn night."""
    from pipeline.nightly.driver import run_job
    from pipeline.settings import Settings

    settings = Settings(inbox=committed / "inbox", warehouse=committed / "wh", lock_timeout=0)
    pollster, holder = Reader(committed), Reader(committed, hold=True)
    statuses = []
    for index in range(20):
        night = f"2026-12-{index + 1:02d}"
        for split_index, split in enumerate(["train", "test"]):
            write_split(committed / "inbox", night, "mlp", split, seed=100 + index + split_index)
        statuses.append(run_job(settings).status)
    seen = [pollster.finish(), holder.finish()]
    assert statuses == ["succeeded"] * 20
    for reader in seen:
        assert reader["torn"] == [] and reader["errors"] == [] and reader["polls"] > 0
    check_accounting(committed)


def test_a_render_killed_part_way_resumes_without_writing_its_pages_again(tmp_path):
    """A night's model pages, the run killed after the second: the night page is already
    there (it is written first), the next run writes the two pages left and keeps the two
    written, and a rerun (the night changed) writes all four again."""
    models = ["m1", "m2", "m3", "m4"]
    for index, model in enumerate(models):
        for split in ("train", "test"):
            write_split(tmp_path / "inbox", NIGHT_A, model, split, seed=index, n=60)
    assert lossgram(tmp_path, "run", kill_at="during_render:2") == -signal.SIGKILL
    night = tmp_path / "rp" / NIGHT_A
    assert (night / "index.html").is_file() and (night / "verdicts.json").is_file()
    first = {page.name: page.stat().st_mtime_ns for page in night.glob("m*.html")}
    assert sorted(first) == ["m1.html", "m2.html"]
    assert lossgram(tmp_path, "run") == 0
    after = {page.name: page.stat().st_mtime_ns for page in night.glob("m*.html")}
    assert sorted(after) == [f"{model}.html" for model in models]
    assert all(after[name] == stamp for name, stamp in first.items())  # not written again
    ledger = (night / ".rendered").read_text().splitlines()
    assert sorted(line.split("\t")[1] for line in ledger) == sorted(after)
    assert query(tmp_path, "SELECT count(*) FROM pending_reports") == [(0,)]
    assert lossgram(tmp_path, "rerun", "--date", NIGHT_A) == 0
    again = {page.name: page.stat().st_mtime_ns for page in night.glob("m*.html")}
    assert all(again[name] != stamp for name, stamp in after.items())
