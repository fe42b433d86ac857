"""The scheduler daemon: trigger parsing, catch-up of a missed night, a real run and SIGTERM."""

from __future__ import annotations

import datetime as dt
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

from pipeline.nightly.schedule import cron_trigger, missed_fire_time
from pipeline.settings import SettingsError
from pipeline.warehouse.catalog import Warehouse

UTC = dt.UTC
DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "2026-11-23"


def test_cron_lines_are_parsed_by_apscheduler():
    trigger = cron_trigger("0 2 * * *", "UTC")
    start = dt.datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, start) == dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    seconds = cron_trigger("*/5 * * * * *", "UTC")
    assert seconds.get_next_fire_time(None, start) == start
    with pytest.raises(SettingsError, match="schedule"):
        cron_trigger("every night", "UTC")
    with pytest.raises(SettingsError, match="schedule"):
        cron_trigger("0 2 * * *", "Mars/Olympus")


def test_a_missed_night_runs_once_at_start_up():
    trigger = cron_trigger("0 2 * * *", "UTC")
    now = dt.datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    night = dt.datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    yesterday = dt.datetime(2026, 11, 23, 2, 0, 4, tzinfo=UTC)
    assert missed_fire_time(trigger, yesterday, now, 6 * 3600) == night
    assert missed_fire_time(trigger, None, now, 6 * 3600) == night
    assert missed_fire_time(trigger, night + dt.timedelta(seconds=9), now, 6 * 3600) is None
    assert missed_fire_time(trigger, yesterday, now, 3600) is None  # beyond the grace


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
        deadline = time.monotonic() + 60
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
        assert runs, "no run was recorded within 60 s"
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
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
