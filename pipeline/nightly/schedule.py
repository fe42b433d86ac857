"""The scheduler daemon: the nightly job on a cron schedule, via APScheduler."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from pipeline.base.errors import WarehouseError
from pipeline.base.results import RunSummary
from pipeline.nightly.driver import run_job
from pipeline.nightly.job_options import open_warehouse
from pipeline.nightly.service import run_then_report
from pipeline.settings import Settings, SettingsError
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.queries import execute

LOG_FILE = "lossgram.log"
NightlyJob = Callable[[Settings], RunSummary]


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A crontab line (5 fields), or 6 with seconds first; parsing is APScheduler's."""
    fields = expression.split()
    zone = timezone or None  # empty: the machine's local time zone
    try:
        if len(fields) == 6:
            second, minute, hour, day, month, day_of_week = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=day_of_week,
                timezone=zone,
            )
        return CronTrigger.from_crontab(expression, timezone=zone)
    except (ValueError, LookupError) as error:
        raise SettingsError(f"schedule {expression!r}: {error}") from error


def missed_fire_time(
    trigger: CronTrigger, last_started: dt.datetime | None, now: dt.datetime, grace_seconds: float
) -> dt.datetime | None:
    """The latest scheduled time within the grace window that no run has covered."""
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(seconds=grace_seconds))
    latest: dt.datetime | None = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
    if latest is None or (last_started is not None and last_started >= latest):
        return None
    return latest


def last_started(warehouse: Warehouse) -> dt.datetime | None:
    """When the nightly job last started, or None for a warehouse not made yet."""
    if not warehouse.catalog.exists():
        return None
    with warehouse.reading(losses_view=False) as connection:
        rows = execute(connection, "last_scheduled_run")
    value = rows[0][0] if rows else None
    return value if isinstance(value, dt.datetime) else None


class Daemon:
    """Runs `job` on the schedule; SIGTERM/SIGINT let a running job finish, then stop."""

    def __init__(self, settings: Settings, job: NightlyJob) -> None:
        self.settings = settings
        self.job = job
        self.trigger = cron_trigger(settings.schedule, settings.timezone)
        # One worker: a catch-up run and a scheduled one never overlap in this process.
        self.scheduler = BlockingScheduler(
            timezone=self.trigger.timezone, executors={"default": ThreadPoolExecutor(1)}
        )
        self.warehouse = open_warehouse(settings)
        # Beside the catalog: the warehouse folder, or the driver's disk for an object store.
        self.log_path = self.warehouse.layout.root / LOG_FILE

    def log(self, event: str, **fields: Any) -> None:
        """One structured line to stderr and to the warehouse's log file."""
        line = json.dumps(
            {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "event": event, **fields},
            default=str,
        )
        print(line, file=sys.stderr, flush=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def run_once(self) -> None:
        self.log("run_started", schedule=self.settings.schedule)
        try:
            summary = self.job(self.settings)
        except (WarehouseError, OSError) as error:
            self.log("run_failed", error=str(error))
            return
        except Exception as error:  # a daemon outlives one bad night; the ledger has it
            self.log("run_failed", error=f"{type(error).__name__}: {error}")
            return
        self.log(
            "run_finished",
            run_id=summary.run_id,
            status=summary.status,
            seconds=round(summary.seconds, 3),
            files_ingested=summary.files_ingested,
            files_rejected=summary.files_rejected,
            snapshot_dates=summary.snapshot_dates,
        )

    def start(self) -> None:
        """Block until SIGTERM/SIGINT; a night missed while down runs once first."""
        grace = self.settings.misfire_grace
        self.scheduler.add_job(
            self.run_once,
            self.trigger,
            id="nightly",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(grace),
        )
        now = dt.datetime.now(self.trigger.timezone)
        self.log(
            "daemon_started",
            schedule=self.settings.schedule,
            next_run=self.trigger.get_next_fire_time(None, now),
        )
        missed = missed_fire_time(self.trigger, last_started(self.warehouse), now, grace)
        if missed is not None:
            self.log("catching_up", missed=missed.isoformat())
            self.scheduler.add_job(self.run_once, id="catch-up", max_instances=1)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        self.scheduler.start()
        self.log("daemon_stopped")

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.log("stopping", signal=signal.Signals(signum).name)
        # wait=True: a running job finishes (its transaction commits) and releases the lock.
        self.scheduler.shutdown(wait=True)


def nightly_with_reports(settings: Settings) -> RunSummary:
    """Exactly what `lossgram run` does: the job, then the reports of the nights it touched."""
    return run_then_report(run_job, settings, command="schedule")
