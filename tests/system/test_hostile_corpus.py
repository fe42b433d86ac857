"""Ninety-odd hostile and unusual dumps (tests/helpers/corpus.py) in one night beside two
good dumps: each bad one is rejected alone with one line naming the file, the column
and the rows, in lossgram's words; each odd but valid one lands with losses equal to
scipy's; the good dumps land; the next night reads nothing again."""

from __future__ import annotations

import json
import re
import subprocess

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.special import log_softmax

from pipeline.base.results import RunSummary
from pipeline.nightly.driver import run_job
from pipeline.settings import Settings
from tests.helpers.corpus import CASES, INGESTED
from tests.helpers.dumps import write_hive_split
from tests.helpers.paths import LOSSGRAM

DAY = "2026-11-20"
# Words that mean a library's own error text reached the user.
LIBRARY_WORDS = re.compile(
    r"traceback|exception|polars|pyarrow|duckdb|arrow::|thrift|panicked|\.rs:", re.IGNORECASE
)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, RunSummary]:
    root = tmp_path_factory.mktemp("corpus")
    settings = Settings(inbox=root / "inbox", warehouse=root / "wh")
    folder = settings.inbox / DAY
    folder.mkdir(parents=True)
    for name, (build, _) in CASES.items():
        (folder / f"{name}.parquet").write_bytes(build(name))
    write_hive_split(settings.inbox, DAY, "good", "train", n=40, seed=1)
    write_hive_split(settings.inbox, DAY, "good", "test", n=40, seed=2)
    return settings, run_job(settings)


def catalog(settings: Settings, query: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        return con.execute(query).fetchall()


def test_the_night_goes_on(night):
    settings, summary = night
    assert len(CASES) >= 90
    assert summary.status == "partial" and summary.error is None
    assert len(summary.outcomes) == len(CASES) + 2
    good = catalog(settings, "select count(*) from losses where model = 'good'")
    assert good == [(80,)]
    assert catalog(settings, "select count(*) from verdicts where model = 'good'") == [(1,)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_dump_gets_one_clear_outcome(night, name):
    settings, summary = night
    path = settings.inbox / DAY / f"{name}.parquet"
    (outcome,) = [o for o in summary.outcomes if o.path == path]
    landed = catalog(
        settings, f"select coalesce(sum(rows), 0) from live_files where dump_path = '{path}'"
    )[0][0]
    expected = CASES[name][1]
    if expected == INGESTED:
        assert outcome.status == "ingested", outcome.error
        assert landed == outcome.rows == 3 - outcome.rows_ignored
        return
    assert outcome.status == "rejected" and landed == 0
    error = str(outcome.error)
    assert error.startswith(f"{path}: ") and expected in error, error
    assert "\n" not in error and not LIBRARY_WORDS.search(error), error


def test_losses_of_the_odd_but_valid_dumps_equal_scipy(night):
    settings, _ = night
    checked = 0
    for name, (_, expected) in CASES.items():
        path = settings.inbox / DAY / f"{name}.parquet"
        if expected != INGESTED or name.startswith("model-"):
            continue
        dump = pq.read_table(path)
        if "logits" not in dump.column_names or "label" not in dump.column_names:
            continue
        logits = np.array(dump["logits"].to_pylist(), dtype=np.float64)
        labels = np.array(dump["label"].to_pylist())
        if labels.dtype.kind not in "iu":  # class names: their place in lossgram.classes
            names = json.loads(dump.schema.metadata[b"lossgram.classes"])
            labels = np.array([names.index(label) for label in labels])
        keep = labels != -100  # ignore_index: left out
        want = -log_softmax(logits, axis=1)[np.arange(len(labels)), labels.clip(0)][keep]
        rows = dict(catalog(settings, f"select sample_id, ce from losses where model = '{name}'"))
        ids = [str(sample_id) for sample_id in dump["sample_id"].to_pylist()]
        got = [rows[sample_id] for sample_id, kept in zip(ids, keep, strict=True) if kept]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        checked += 1
    assert checked >= 10


def test_the_next_night_reads_nothing_again(night):
    settings, _ = night
    again = run_job(settings)
    assert again.outcomes == [] and again.files_unchanged == len(CASES) + 2


def test_the_command_line_prints_no_library_text(night, tmp_path):
    """The whole corpus through `lossgram run` as a user runs it: every line on stdout
    and stderr is lossgram's (a Rust panic or a DuckDB binder error once reached them:
    the latter through a night whose models had different slice columns)."""
    settings, _ = night
    arguments = ["run", "--inbox", str(settings.inbox), "--warehouse", str(tmp_path / "wh")]
    done = subprocess.run(
        [LOSSGRAM, *arguments, "--reports", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1, done.stderr  # partial: the bad dumps were rejected
    lines = (done.stdout + done.stderr).splitlines()
    assert [line for line in lines if LIBRARY_WORDS.search(line)] == []
    assert (tmp_path / "r" / DAY / "index.html").is_file()
