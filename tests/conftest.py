"""The whole suite's rules, and fixtures shared across its folders.

- Every test runs in its own tmp_path (the working folder moves there): nothing a test
  or a command it runs writes lands in the checkout. At the end of the session the
  checkout must be as it was at its start (`git status --porcelain`, and every file's
  size and mtime, ignored ones included): a test that wrote into it fails the session,
  naming the paths.
- Hypothesis never fails on wall-clock time (deadline=None); with CI set it is
  derandomized and keeps no example database.
- Markers by folder: see FOLDER_MARKERS (tests/system/crash is crash + slow, ...); those
  folders run first, the longest first.

Helpers shared by tests and bench/ live in tests/helpers (a package: `from
tests.helpers.dumps import write_hive_split`).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import settings as hypothesis_settings

from pipeline.contract import DumpError, open_dump, problems_found
from pipeline.ingest.loss_pass import dump_losses_to_parquet
from pipeline.settings import Settings
from tests.helpers.dumps import write_dump

__all__ = ["write_dump"]  # kept importable from here for older tests and notebooks

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

# -- Hypothesis: no deadlines (a loaded machine is not a bug) ---------------------------

hypothesis_settings.register_profile("lossgram", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "lossgram")

# -- markers by folder ---------------------------------------------------------------------

# tests/<folder> -> the markers every test under it carries (registered in pyproject.toml).
FOLDER_MARKERS = {
    "system/spark": (pytest.mark.spark, pytest.mark.slow),
    "system/object_store": (pytest.mark.s3, pytest.mark.slow),
    "system/crash": (pytest.mark.crash, pytest.mark.slow),
    "system/browser": (pytest.mark.browser, pytest.mark.slow),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by its folder, and run the longest folders first (in FOLDER_MARKERS'
    order, each module's tests kept together): under -n the workers then end together."""

    def folder_of(item: pytest.Item) -> str | None:
        relative = Path(item.path).resolve().relative_to(TESTS).as_posix()
        return next((f for f in FOLDER_MARKERS if relative.startswith(f + "/")), None)

    for item in items:
        for marker in FOLDER_MARKERS.get(folder_of(item) or "", ()):
            item.add_marker(marker)
    rank = {folder: index for index, folder in enumerate(FOLDER_MARKERS)}
    items.sort(key=lambda item: rank.get(folder_of(item) or "", len(rank)))


# Under -n, the tests under each path here run on one worker, in collection order: the
# Spark tests share one Spark session, the others a costly module fixture (a browser and
# its warehouses, a night of a hundred dumps, the demo), built once instead of per worker.
XDIST_GROUPS = {
    "tests/system/spark/": "spark",
    "tests/system/browser/": "browser",
    "tests/system/test_hostile_corpus.py": "hostile_corpus",
    "tests/test_docs.py": "docs",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With -n (dist load, or loadgroup): xdist's loadgroup, grouping by XDIST_GROUPS' paths
    as well as by xdist_group marks. (xdist 3.8 passes a mark's group by renaming
    the test's node id, which pytest 9.2's structured node ids ignore: the groups were
    silently lost, pytest-xdist#1386.) Another --dist is left to xdist."""
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadGroupScheduling

    config.option.loadscopereorder = False  # collection order: the longest first

    class FolderGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for folder, group in XDIST_GROUPS.items():
                if nodeid.startswith(folder):
                    return group
            return str(super()._split_scope(nodeid))

    return FolderGroups(config, log)


# -- every test in its own folder ------------------------------------------------------------


@pytest.fixture(autouse=True)
def _work_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The working folder is the test's tmp_path: default locations (data/, reports/,
    lossgram.toml) resolve there, never in the checkout."""
    monkeypatch.chdir(tmp_path)


# -- the checkout is left as it was ------------------------------------------------------------

CHECKOUT = pytest.StashKey[dict[str, Any]]()
# Caches tools keep in the checkout (git-ignored), not written by a test.
CACHES = {
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".import_linter_cache",
    ".grimp_cache",
}


def checkout_files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the checkout (git-ignored ones too, caches left out): size, mtime."""
    files = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [
            name for name in subfolders if name not in CACHES and not name.endswith(".egg-info")
        ]
        for name in names:
            path = Path(folder, name)
            try:
                stat = path.lstat()
            except OSError:
                continue
            files[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return files


def git_status(root: Path) -> list[str] | None:
    """`git status --porcelain` of the checkout (None outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.splitlines() if done.returncode == 0 else None


def checkout_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed in the checkout between two checkout_state() snapshots."""
    changed = set()
    if before["status"] is not None and after["status"] is not None:
        changed |= set(before["status"]) ^ set(after["status"])
    old, new = before["files"], after["files"]
    changed |= {f"new: {path}" for path in new.keys() - old.keys()}
    changed |= {f"removed: {path}" for path in old.keys() - new.keys()}
    changed |= {f"changed: {path}" for path in old.keys() & new.keys() if old[path] != new[path]}
    return sorted(changed)


def checkout_state(root: Path) -> dict[str, Any]:
    return {"status": git_status(root), "files": checkout_files(root)}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller, not an xdist worker
        session.config.stash[CHECKOUT] = checkout_state(ROOT)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(CHECKOUT, None)
    if before is None:
        return
    changes = checkout_changes(before, checkout_state(ROOT))
    if os.environ.get("LOSSGRAM_UPDATE_GOLDEN") == "1":  # asked for: golden files rewritten
        changes = [change for change in changes if "tests/golden/" not in change]
    if not changes:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"tests wrote into the checkout {ROOT} (they must work under tmp_path):"]
    lines += [f"  {change}" for change in changes]
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "checkout changed", red=True, bold=True)
        for line in lines:
            reporter.write_line(line, red=True)
    else:
        print("\n".join(lines))
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


# -- a loopback S3 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    """moto's S3 server on 127.0.0.1 for a module; this process reaches it too (s3fs,
    DuckDB) through the AWS variables, restored afterwards."""
    from tests.helpers.s3_server import s3_server

    with s3_server() as variables:
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield variables
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture
def bucket(s3_env: dict[str, str]) -> str:
    """A new, empty bucket on the loopback S3."""
    import s3fs

    name = f"lossgram-{uuid.uuid4().hex[:8]}"
    s3fs.S3FileSystem(skip_instance_cache=True).mkdir(name)
    return name


# -- dumps through the real loss stage ---------------------------------------------------------


@pytest.fixture
def dump_file(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def make(
        columns: dict[str, Any], classes: list[str] | None = None, name: str | None = None
    ) -> Path:
        return write_dump(tmp_path / (name or f"dump{next(counter)}.parquet"), columns, classes)

    return make


@pytest.fixture
def compute(tmp_path: Path) -> Callable[..., pl.DataFrame]:
    """Run one dump through open_dump + the real CE stage; raise DumpError on bad rows."""

    def run(path: Path, **settings: Any) -> pl.DataFrame:
        config = Settings(**settings)
        dump = open_dump(path, config.reader_options())
        target = tmp_path / f"out-{path.stem}.parquet"
        counts, _ = dump_losses_to_parquet(dump, config.loss_spec(), target)
        problems = problems_found(dump.checks, counts)
        if problems:
            raise DumpError(path, problems)
        return pl.read_parquet(target)

    return run
