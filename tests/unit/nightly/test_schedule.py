"""The scheduler's trigger parsing and catch-up of a missed night (the daemon for real:
tests/system/test_schedule.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.nightly.schedule import cron_trigger, missed_fire_time
from pipeline.settings import SettingsError

UTC = dt.UTC


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
