"""The run's side of notifying: for each night the run committed (or the run alone when
it committed none), whether notify_on asks for a note, the note, its delivery to every
target and the outcome recorded in the ledger (`notifications`). Never raises for a
target that fails: a night's data and exit code do not depend on its notifications."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from pipeline.base.options import NotifyOptions
from pipeline.notify.message import Notice, compose, reasons_to_notify
from pipeline.notify.send import Delivery, deliver_all
from pipeline.report.data import night_report
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.queries import execute, registered


@dataclass(frozen=True)
class Sent:
    """One notice and what became of it at each target (empty on a dry run)."""

    snapshot_date: dt.date | None
    notice: Notice
    deliveries: list[Delivery]


def notify_run(
    warehouse: Warehouse,
    options: NotifyOptions,
    lock_timeout: float,
    run: dict[str, Any],
    nights: Sequence[dt.date],
    *,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
) -> list[Sent]:
    """Notify about a run (run: its summary as JSON) and its nights."""
    if not options.targets:
        return []
    documents: list[dict[str, Any] | None] = []
    if nights and warehouse.catalog.exists():
        with warehouse.reading(losses_view=False) as connection:
            documents = [night_report(connection, day).verdicts_document() for day in nights]
    sent = []
    for night in documents or [None]:
        if not reasons_to_notify(run, night, options.on):
            continue
        notice = compose(run, night, options.report_url)
        day = dt.date.fromisoformat(night["snapshot_date"]) if night else None
        delivered = (
            [] if dry_run else deliver_all(options.targets, notice, options.timeout, environ)
        )
        sent.append(Sent(day, notice, delivered))
    if not dry_run and sent and warehouse.catalog.exists():
        _record(warehouse, lock_timeout, str(run.get("run_id")), sent)
    return sent


def _record(warehouse: Warehouse, lock_timeout: float, run_id: str, sent: list[Sent]) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [
        {"run_id": run_id, "snapshot_date": one.snapshot_date, "target": d.target,
         "status": d.status, "reason": d.reason, "attempts": d.attempts, "sent_at": now}
        for one in sent
        for d in one.deliveries
    ]  # fmt: skip
    schema: dict[str, Any] = {"run_id": pl.String, "snapshot_date": pl.Date, "target": pl.String,
              "status": pl.String, "reason": pl.String, "attempts": pl.Int32,
              "sent_at": pl.Datetime("us")}  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema)
    with (
        warehouse.lock(lock_timeout),
        warehouse.commit() as catalog,
        registered(catalog, delivered=frame),
    ):
        execute(catalog, "record_notifications")
