"""The scheduler daemon for real: a `lossgram schedule` process runs the job, then stops
cleanly on SIGTERM (trigger parsing and catch-up: tests/unit/nightly/test_schedule.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse.catalog import Warehouse
from tests.helpers.paths import DEMO as DEMO_NIGHTS

DEMO = DEMO_NIGHTS / "2026-11-23"


def lossgram_executable() -> str:
    found = shutil.which("lossgram", path=str(Path(sys.executable).parent))
    assert found, "the lossgram console script is not installed next to this Python"
    return found


@pytest.mark.slow
def test_daemon_runs_the_job_and_stops_cleanly_on_sigterm(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(DEMO / "model=tree", inbox / "model=tree")
    warehouse = tmp_path / "wh"
    env = {
        **os.environ,
        "LOSSGRAM_SCHEDULE": "*/2 * * * * *",
        "LOSSGRAM_TIMEZONE": "UTC",
        "LOSSGRAM_INBOX": str(inbox),
        "LOSSGRAM_WAREHOUSE": str(warehouse),
        "LOSSGRAM_REPORTS": str(tmp_path / "reports"),
    }
    daemon = subprocess.Popen(
        [lossgram_executable(), "schedule"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300  # a poll's bound for a daemon that never runs
        runs: list[tuple] = []
        while time.monotonic() < deadline and not runs:
            time.sleep(0.5)
            try:
                with duckdb.connect(str(warehouse / "lossgram.duckdb"), read_only=True) as con:
                    runs = con.execute(
                        "select status from job_runs where status = 'succeeded'"
                    ).fetchall()
            except duckdb.Error:
                continue  # not created yet, or the daemon holds it for a moment
        assert runs, "no run was recorded within 300 s"
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=300)
    assert daemon.returncode == 0, stderr
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert events[0] == "daemon_started" and "run_finished" in events
    # A run still going at SIGTERM finishes between "stopping" and "daemon_stopped".
    assert events[-1] == "daemon_stopped" and "stopping" in events
    logged = (warehouse / "lossgram.log").read_text().splitlines()
    assert any('"run_finished"' in line for line in logged)
    with Warehouse(warehouse).lock(0):  # released: taking it does not wait
        pass
    assert (tmp_path / "reports" / "index.html").is_file()
