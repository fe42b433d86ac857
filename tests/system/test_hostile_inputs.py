"""Unusual and hostile dumps, each next to good dumps: one clear rejection naming the
file and column (or a correct acceptance), the good dumps land, the night goes on."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.special import log_softmax

from pipeline.nightly.driver import run_job
from pipeline.settings import Settings
from tests.helpers.dumps import write_hive_split

DAY = "2026-11-20"


@pytest.fixture
def night(tmp_path: Path) -> Settings:
    """An inbox with two good dumps (train and test of model `good`)."""
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        path = settings.inbox / DAY / f"good-{split}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(
            {
                "sample_id": np.arange(40),
                "label": rng.integers(0, 3, 40),
                "logits": pl.Series(rng.normal(size=(40, 3)), dtype=pl.Array(pl.Float64, 3)),
                "split": split,
                "model": "good",
            }
        ).write_parquet(path)
    return settings


def landed(settings: Settings, model: str) -> pl.DataFrame:

    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        frame = con.sql(f"select * from losses where model = '{model}' order by sample_id").pl()
    assert isinstance(frame, pl.DataFrame)
    return frame


def hostile(settings: Settings, name: str, table: pa.Table) -> Path:
    path = settings.inbox / DAY / name
    pq.write_table(table, path)
    return path


def run(settings: Settings) -> tuple[str, dict[str, str | None]]:
    summary = run_job(settings)
    assert landed(settings, "good").height == 80  # the good dumps always land
    return summary.status, {o.path.name: o.error for o in summary.outcomes}


def test_soft_targets_as_a_plain_list_are_read(night):
    """A list<double> label_probs (pyarrow's and pandas' default) once stopped the night."""
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    targets = [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]
    table = pa.table(
        {
            "sample_id": [1, 2, 3],
            "logits": pa.array(logits.tolist(), pa.list_(pa.float64())),
            "label_probs": pa.array(targets, pa.list_(pa.float64())),
            "split": ["test"] * 3,
            "model": ["soft"] * 3,
        }
    )
    hostile(night, "soft.parquet", table)
    status, _ = run(night)
    assert status == "succeeded"
    expected = -(np.array(targets) * log_softmax(logits, axis=1)).sum(axis=1)
    np.testing.assert_allclose(landed(night, "soft")["ce"].to_numpy(), expected, atol=1e-9)


@pytest.mark.parametrize("column", ["logits", "probs", "label_probs"])
def test_a_null_inside_a_list_rejects_the_dump_naming_column_and_rows(night, column):
    """Nulls inside logits were dropped from the log-sum-exp: wrong losses, exit 0."""
    scores = {"logits": [[0.1, None], [0.3, 0.4]], "probs": [[0.5, None], [0.4, 0.6]]}
    table = {
        "sample_id": [1, 2],
        "split": ["test"] * 2,
        "model": ["holes"] * 2,
        "label": [0, 1],
    }
    if column == "label_probs":
        table["logits"] = pa.array([[0.1, 0.2], [0.3, 0.4]], pa.list_(pa.float64()))
        table["label_probs"] = pa.array([[0.5, None], [0.5, 0.5]], pa.list_(pa.float64()))
        del table["label"]
    else:
        table[column] = pa.array(scores[column], pa.list_(pa.float64()))
    path = hostile(night, "holes.parquet", pa.table(table))
    status, errors = run(night)
    assert status == "partial"
    assert (errors["holes.parquet"] or "").startswith(
        f"{path}: column '{column}': 1 row: has a null value inside the list"
    )


def test_dictionary_encoded_ids_are_strings(night):
    table = pa.table(
        {
            "sample_id": pa.array(["a", "b", "a2"]).dictionary_encode(),
            "prob": [0.9, 0.2, 0.6],
            "label": [1, 0, 1],
            "split": ["test"] * 3,
            "model": ["cat"] * 3,
        }
    )
    hostile(night, "cat.parquet", table)
    status, _ = run(night)
    assert status == "succeeded"
    assert landed(night, "cat")["sample_id"].to_list() == ["a", "a2", "b"]


def test_uint64_values_past_int64_name_the_column_and_rows(night):
    table = pa.table(
        {
            "sample_id": pa.array([1, 2, 2**63 + 5], pa.uint64()),
            "prob": [0.9, 0.2, 0.6],
            "label": [1, 0, 1],
            "split": ["test"] * 3,
            "model": ["big"] * 3,
        }
    )
    path = hostile(night, "big.parquet", table)
    status, errors = run(night)
    assert status == "partial"
    assert errors["big.parquet"] == (
        f"{path}: column 'sample_id': 1 row: is larger than 9223372036854775807"
    )


def test_file_system_oddities_are_not_read_and_stop_nothing(night):
    """A folder named x.parquet, a FIFO and a dangling link named *.parquet once failed or
    hung the night; a Spark-style out.parquet/ folder is read through its part files."""
    folder = night.inbox / DAY
    (folder / "empty.parquet").mkdir()
    os.mkfifo(folder / "pipe.parquet")
    (folder / "dangling.parquet").symlink_to(folder / "nowhere.parquet")
    spark = folder / "out.parquet"
    spark.mkdir()
    pl.DataFrame(
        {
            "sample_id": [1, 2],
            "prob": [0.7, 0.1],
            "label": [1, 0],
            "split": "test",
            "model": "spark",
        }
    ).write_parquet(spark / "part-00000.parquet")
    (spark / "_SUCCESS").touch()
    (folder / "zeros.parquet").symlink_to("/dev/zero")
    (folder / "notes.csv").write_text("sample_id,label\n1,0\n")
    elsewhere = night.inbox.parent / "elsewhere"
    elsewhere.mkdir()
    (folder / "linked-folder").symlink_to(elsewhere, target_is_directory=True)
    summary = run_job(night)
    assert landed(night, "good").height == 80
    assert summary.status == "succeeded"
    read = sorted(outcome.path.name for outcome in summary.outcomes)
    assert read == ["good-test.parquet", "good-train.parquet", "part-00000.parquet"]
    assert landed(night, "spark").height == 2
    skipped = {entry.path.name: entry.reason for entry in summary.skipped}
    assert skipped == {
        "dangling.parquet": "not a regular file (dangling link)",
        "linked-folder": "symlinked folder: not followed (put or link the files themselves)",
        "notes.csv": "not a .parquet file",
        "pipe.parquet": "not a regular file (named pipe)",
        "zeros.parquet": "not a regular file (device)",
    }

    with duckdb.connect(str(night.warehouse / "lossgram.duckdb"), read_only=True) as con:
        kept = con.sql("select run_id, path, reason from skipped_entries order by path").fetchall()
    assert [(run_id, Path(path).name) for run_id, path, _ in kept] == [
        (summary.run_id, name) for name in sorted(skipped)
    ]


def test_upper_case_names_and_linked_files_are_read(night):
    """X.PARQUET is a Parquet file too; a link to a dump is read as that dump."""
    folder = night.inbox / DAY
    table = pa.table(
        {"sample_id": [1, 2], "prob": [0.7, 0.1], "label": [1, 0], "split": ["test"] * 2}
    )
    pq.write_table(table.append_column("model", pa.array(["upper"] * 2)), folder / "X.PARQUET")
    outside = night.inbox.parent / "outside.parquet"
    pq.write_table(table.append_column("model", pa.array(["linked"] * 2)), outside)
    (folder / "linked.parquet").symlink_to(outside)
    status, errors = run(night)
    assert status == "succeeded" and errors["X.PARQUET"] is None
    assert landed(night, "upper").height == 2 and landed(night, "linked").height == 2


UNPRIVILEGED = 65534  # nobody: root reads every file, so the test drops to this user


@pytest.mark.slow
def test_what_the_process_may_not_read_is_named_and_stops_nothing(tmp_path):
    """An unreadable dump is rejected alone and an unreadable sub-folder is listed as
    skipped; the rest of the night lands."""

    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.fail("running as root without setpriv: cannot drop to an unprivileged user")
    root = Path(tempfile.mkdtemp(prefix="lossgram-perm-"))
    try:
        root.chmod(0o777)
        inbox = root / "inbox"
        write_hive_split(inbox, DAY, "good", "train", n=40, seed=1)
        write_hive_split(inbox, DAY, "good", "test", n=40, seed=2)
        locked_dump = write_hive_split(inbox, DAY, "locked", "test", n=40)
        locked_folder = write_hive_split(inbox, DAY, "hidden", "test", n=40).parent
        for path in inbox.rglob("*"):
            path.chmod(0o777 if path.is_dir() else 0o666)
        locked_dump.chmod(0)
        locked_folder.chmod(0)
        command = [sys.executable, "-m", "pipeline", "run", "--json", "--inbox", str(inbox)]
        command += ["--warehouse", str(root / "wh"), "--reports", str(root / "reports")]
        if os.geteuid() == 0:
            command = [
                "setpriv",
                f"--reuid={UNPRIVILEGED}",
                f"--regid={UNPRIVILEGED}",
                "--clear-groups",
                *command,
            ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=root)
        assert done.returncode == 1, done.stderr

        summary = json.loads(done.stdout)
        assert summary["files_ingested"] == 2 and summary["files_rejected"] == 1
        (rejected,) = summary["rejected"]
        assert rejected["path"] == str(locked_dump)
        assert "permission denied" in rejected["error"].lower()
        assert summary["skipped"] == [
            {"path": str(locked_folder), "reason": "folder not read: permission denied"}
        ]
    finally:
        for path in root.rglob("*"):
            path.chmod(0o777)
        shutil.rmtree(root)


@pytest.mark.parametrize(
    ("content", "looks"),
    [
        (b"sample_id,label,prob\n1,0,0.2\n", "CSV text"),
        (b'{"sample_id": 1, "label": 0}\n', "JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "some other binary format"),
    ],
)
def test_a_file_that_is_not_parquet_says_what_it_looks_like(night, content, looks):
    (night.inbox / DAY / "wrong.parquet").write_bytes(content)
    status, errors = run(night)
    assert status == "partial"
    assert f"not a Parquet file, it looks like {looks}" in (errors["wrong.parquet"] or "")


def test_a_missing_column_lists_what_the_file_has_and_how_to_map_it(night):
    table = pa.table({"id": [1, 2], "prob": [0.2, 0.7], "target": [0, 1], "split": ["test"] * 2})
    path = hostile(night, "mapped.parquet", table)
    status, errors = run(night)
    assert status == "partial"
    error = errors["mapped.parquet"] or ""
    assert error.startswith(f"{path}: column 'sample_id': 2 rows: required column is missing")
    assert "columns found: id, prob, split, target; name one with column_map sample_id=" in error
    assert "column_map label=<column>: in lossgram.toml, LOSSGRAM_COLUMN_MAP" in error


def test_control_characters_are_escaped_in_everything_printed(night):
    """A file name holding a newline forged a second `rejected:` line; a model name with
    ESC and BEL reached the terminal raw."""
    from typer.testing import CliRunner

    from pipeline.cli.app import app

    forged = night.inbox / DAY / "x\nrejected: forged.parquet"
    pq.write_table(pa.table({"sample_id": [1], "prob": [2.0], "label": [1]}), forged)
    table = pa.table(
        {
            "sample_id": np.arange(40),
            "prob": np.full(40, 0.4),
            "label": np.arange(40) % 2,
            "split": ["test"] * 40,
            "model": ["evil\x1b[31m\x07"] * 40,
        }
    )
    hostile(night, "evil.parquet", table)
    locations = ["--inbox", str(night.inbox), "--warehouse", str(night.warehouse)]
    result = CliRunner().invoke(app, ["run", *locations, "--reports", str(night.warehouse / "r")])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "evil\\x1b[31m\\x07" in result.output
    rejected = [line for line in result.output.splitlines() if line.startswith("rejected:")]
    assert len(rejected) == 1 and "x\\nrejected: forged.parquet" in rejected[0]
    history = CliRunner().invoke(app, ["history", "--limit", "-1", *locations[2:]])
    assert history.exit_code == 2 and "Traceback" not in history.output


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        (b'["cat", "dog", "cat"]', "metadata lossgram.classes names 'cat' more than once"),
        (b'["cat", "dog"', "metadata lossgram.classes is not a JSON array of strings"),
        (b"\xff\xfe not utf-8", "metadata key 'lossgram.classes' holds bytes that are not UTF-8"),
    ],
)
def test_bad_class_lists_are_named(night, classes, message):
    """Duplicate names surfaced Polars' `replace` internals; invalid UTF-8 said only
    "unreadable Parquet: invalid utf8" without naming the key."""
    table = pa.table(
        {
            "sample_id": [1, 2],
            "probs": pa.array([[0.2, 0.8], [0.6, 0.4]], pa.list_(pa.float64(), 2)),
            "label": ["cat", "dog"],
            "split": ["test"] * 2,
        }
    ).replace_schema_metadata({b"lossgram.classes": classes})
    path = hostile(night, "classes.parquet", table)
    status, errors = run(night)
    assert status == "partial"
    assert (errors["classes.parquet"] or "").startswith(f"{path}: file: ")
    assert message in (errors["classes.parquet"] or "")


@pytest.mark.slow
def test_a_dump_that_takes_too_long_is_given_up_and_the_night_goes_on(night):
    """A 1 TiB sparse file named *.parquet takes many minutes to hash (50 on this VM):
    past dump_timeout it is rejected, its hashing stops, the good dumps land, and the next
    night does not try it again while it stays the same. (5 s: time enough for the good
    dumps however loaded the machine; the run's bound is well below a full hash.)"""

    huge = night.inbox / DAY / "huge.parquet"
    with huge.open("wb") as handle:
        handle.truncate(2**40)
    bounded = night.model_copy(update={"dump_timeout": 5.0})
    started = time.monotonic()
    summary = run_job(bounded)
    assert time.monotonic() - started < 300
    assert summary.status == "partial"
    (rejected,) = [o for o in summary.outcomes if o.status == "rejected"]
    assert rejected.path == huge
    given_up = re.search(
        r"reading took longer than (\d+) s \(dump_timeout\): given up", str(rejected.error)
    )
    assert given_up and int(given_up.group(1)) >= 5, rejected.error
    assert landed(night, "good").height == 80
    for thread in threading.enumerate():  # the abandoned hashing notices the stop
        if thread.name == "dump":
            thread.join(timeout=120)  # a bound for a stuck thread, not a pace
    assert not any(t.name == "dump" for t in threading.enumerate())
    again = run_job(bounded)
    assert again.outcomes == [] and again.files_unchanged == 3
