"""A warehouse on an object store (S3): the same night as on disk, readers that find it
from its URI alone, and no lost, torn or orphaned object when a run is killed.

The store is moto's S3 server on 127.0.0.1 (tests/helpers/s3_server.py; the s3_env and
bucket fixtures are in tests/conftest.py); lossgram runs as a user runs it, a `lossgram`
process with the AWS variables pointing at that server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import s3fs

from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.exports import EXPORTED_TABLES, export_path, exported_runs
from pipeline.warehouse.queries import execute
from tests.helpers.accounting import Stored, check_accounting, query
from tests.helpers.dumps import write_hive_split

LOSSGRAM = str(Path(sys.executable).parent / "lossgram")
NIGHT_A, NIGHT_B = "2026-11-20", "2026-11-21"
GROUPS = [("mlp", "train"), ("mlp", "test"), ("tree", "train"), ("tree", "test")]


def lossgram(
    tmp_path: Path, warehouse: str, *args: str, kill_at: str | None = None, catalog: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOSSGRAM_")}
    if kill_at:
        env["LOSSGRAM_KILL_AT"] = kill_at
    if catalog:
        env["LOSSGRAM_CATALOG"] = str(tmp_path / "driver" / "lossgram.duckdb")
    command = [LOSSGRAM, *args, "--warehouse", warehouse]
    if args[0] in ("run", "rerun", "report"):
        command += ["--reports", str(tmp_path / "reports")]
    if args[0] == "run":
        command += ["--inbox", str(tmp_path / "inbox")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


def write_night(inbox: Path, night: str, groups: list[tuple[str, str]], seed: int = 0) -> None:
    for index, (model, split) in enumerate(groups):
        signal_strength = 2.0 if split == "train" else 0.5
        write_hive_split(
            inbox, night, model, split, n=300, signal=signal_strength, seed=seed + index
        )


def stored(tmp_path: Path, bucket: str) -> Stored:
    return Stored(f"s3://{bucket}/wh", tmp_path / "driver" / "lossgram.duckdb")


def sorted_table(where: Path | Stored, sql: str) -> pl.DataFrame:
    rows = query(where, sql)
    return pl.DataFrame(rows, orient="row")


def test_an_object_store_night_equals_the_one_on_disk(tmp_path, bucket):
    write_night(tmp_path / "inbox", NIGHT_A, GROUPS)
    write_night(tmp_path / "inbox", NIGHT_B, GROUPS[:2], seed=10)
    on_disk = subprocess.run(
        [LOSSGRAM, "run", "--inbox", str(tmp_path / "inbox"), "--warehouse",
         str(tmp_path / "local" / "wh"), "--reports", str(tmp_path / "local-reports")],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert on_disk.returncode == 0, on_disk.stderr
    uri = f"s3://{bucket}/wh"
    done = lossgram(tmp_path, uri, "run")
    assert done.returncode == 0, done.stderr
    assert "report:" in done.stdout

    where = stored(tmp_path, bucket)
    for sql in (
        "SELECT snapshot_date, model, split, sample_id, ce, p_true FROM losses ORDER BY ALL",
        "SELECT * EXCLUDE (run_id) FROM histograms ORDER BY ALL",
        "SELECT * EXCLUDE (run_id) FROM summaries ORDER BY ALL",
        "SELECT snapshot_date, model, verdict, epoch FROM verdicts ORDER BY ALL",
    ):
        assert sorted_table(where, sql).equals(sorted_table(tmp_path / "local", sql)), sql
    assert query(where, "SELECT count(*) FROM losses") == [(1800,)]
    check_accounting(where)  # every object listed, manifest and tables/ mirror the catalog
    # A run checks the exported copies with one glob over tables/, on a store too.
    warehouse = Warehouse(uri, catalog=where.catalog)
    with warehouse.reading(losses_view=False) as connection:
        written = exported_runs(connection, warehouse.layout)
        nights = execute(connection, "committed_nights")
    assert written == {export_path(t, d): run for d, run in nights for t in EXPORTED_TABLES}

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    objects = fs.find(f"{bucket}/wh")
    assert not [key for key in objects if key.endswith((".duckdb", ".wal", ".tmp"))]
    assert fs.cat_file(f"{bucket}/wh/catalog.location").decode().strip() == str(where.catalog)
    assert (tmp_path / "reports" / "index.html").is_file()

    # Readers find the catalog from the URI alone.
    answer = lossgram(tmp_path, uri, "sql", "SELECT count(*) AS n FROM losses", catalog=False)
    assert answer.returncode == 0, answer.stderr
    assert "1800" in answer.stdout
    # ... and read nothing on the store beyond the warehouse's losses.
    pl.DataFrame({"secret": [1]}).write_parquet(f"s3://{bucket}/secret.parquet")
    refused = lossgram(
        tmp_path, uri, "sql", f"SELECT * FROM 's3://{bucket}/secret.parquet'", catalog=False
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    report = lossgram(tmp_path, uri, "report", "--date", NIGHT_B, catalog=False)
    assert report.returncode == 0, report.stderr


@pytest.fixture
def committed(tmp_path: Path, bucket: str) -> Stored:
    """Night A on the store, night B waiting in the inbox."""
    write_night(tmp_path / "inbox", NIGHT_A, GROUPS)
    assert lossgram(tmp_path, f"s3://{bucket}/wh", "run").returncode == 0
    write_night(tmp_path / "inbox", NIGHT_B, GROUPS[:2], seed=10)
    return stored(tmp_path, bucket)


@pytest.mark.parametrize(
    "point", ["after_place:1", "before_commit", "before_export", "after_catalog_swap:1"]
)
def test_a_run_killed_on_an_object_store_loses_and_orphans_nothing(tmp_path, committed, point):
    uri = committed.location
    before = query(committed, "SELECT count(*) FROM losses")[0][0]
    killed = lossgram(tmp_path, uri, "run", kill_at=point)
    assert killed.returncode == -signal.SIGKILL
    assert query(committed, "SELECT count(*) FROM losses")[0][0] in (before, before + 600)
    assert lossgram(tmp_path, uri, "run").returncode == 0
    check_accounting(committed)
    assert query(committed, "SELECT count(*) FROM losses")[0][0] == before + 600


def test_a_rerun_on_an_object_store_replaces_the_night(tmp_path, committed):
    night = f"SELECT count(*) FROM losses WHERE snapshot_date = '{NIGHT_A}'"
    before = query(committed, night)[0][0]
    killed = lossgram(
        tmp_path, committed.location, "rerun", "--date", NIGHT_A, kill_at="after_place:1"
    )  # the night's four small dumps are one batch: one file per model placed
    assert killed.returncode == -signal.SIGKILL
    assert query(committed, night)[0][0] == before
    done = lossgram(tmp_path, committed.location, "rerun", "--date", NIGHT_A)
    assert done.returncode == 0, done.stderr
    assert query(committed, night)[0][0] == before
    check_accounting(committed)


def test_a_batch_file_on_an_object_store_is_carried_over(tmp_path, committed):
    """One dump of night A's batch changes: the batch's objects are retired whole and
    the other dumps' rows are copied (downloaded, filtered, uploaded) into new objects."""
    night = f"SELECT count(*), count(DISTINCT split) FROM losses WHERE snapshot_date = '{NIGHT_A}'"
    before = query(committed, night)
    write_hive_split(tmp_path / "inbox", NIGHT_A, "mlp", "test", n=300, signal=0.5, seed=77)
    done = lossgram(tmp_path, committed.location, "run")
    assert done.returncode == 0, done.stderr
    assert query(committed, night) == before
    retired = query(committed, "SELECT count(*) FROM retired_files WHERE path LIKE 'losses/%'")
    assert retired == [(1,)]  # mlp's file of the batch; tree's holds no changed dump
    check_accounting(committed)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "botocore" not in done.stderr
    return lines[0]


def test_object_store_errors_are_one_line(tmp_path, bucket):
    write_night(tmp_path / "inbox", NIGHT_A, GROUPS[:1])
    uri = f"s3://{bucket}/wh"
    assert "needs the setting catalog" in one_line_error(
        lossgram(tmp_path, uri, "run", catalog=False)
    )
    spark = one_line_error(lossgram(tmp_path, uri, "run", "--engine", "spark"))
    assert "object-store warehouse" in spark
    assert list((tmp_path / "driver").glob("*.duckdb")) == []
    gone = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    unreachable = subprocess.run(
        [LOSSGRAM, "run", "--inbox", str(tmp_path / "inbox"), "--warehouse", uri],
        env={**gone, "LOSSGRAM_CATALOG": str(tmp_path / "d2" / "lossgram.duckdb"),
             "AWS_MAX_ATTEMPTS": "1"},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert uri in one_line_error(unreachable)


def free_port() -> int:
    from tests.helpers.s3_server import free_port as port

    return port()
