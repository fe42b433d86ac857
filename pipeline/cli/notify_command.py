"""`lossgram notify`: send (again) or preview the notification of a night."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

import typer

from pipeline.base.errors import EXIT_FAILED
from pipeline.cli.common import known_errors_exit, settings_from
from pipeline.cli.console import say, warn
from pipeline.cli.options import ConfigOption, NightOption, WarehouseOption


def notify(
    date: NightOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the message and the targets; send nothing.")
    ] = False,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Send a night's notification again (default: the latest night) to the `notify`
    targets, as a run would, whatever notify_on says; or preview it.

    Example: lossgram notify --date 2026-11-23 --dry-run
    """
    from pipeline.nightly.job_options import open_warehouse
    from pipeline.notify.deliver import notify_run
    from pipeline.notify.send import redact
    from pipeline.report.data import nights

    settings = settings_from(config, warehouse=warehouse)
    if not settings.notify:
        warn("error: no notify targets: set notify (LOSSGRAM_NOTIFY or lossgram.toml)")
        raise typer.Exit(EXIT_FAILED)
    with known_errors_exit():
        opened = open_warehouse(settings)
        with opened.reading(losses_view=False) as connection:
            known = [night["snapshot_date"] for night in nights(connection)]
        day = date.date() if date else (max(known) if known else None)
        if day is None or day not in known:
            there = ", ".join(str(night) for night in known[:10]) or "none yet"
            warn(f"error: no night {day} in the warehouse; nights: {there}")
            raise typer.Exit(EXIT_FAILED)
        options = dataclasses.replace(settings.notify_options(), on=("always",))
        run = {"run_id": f"notify-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}", "status": "resent",
               "command": "notify"}  # fmt: skip
        sent = notify_run(opened, options, settings.lock_timeout, run, [day], dry_run=dry_run)
    for one in sent:
        if dry_run:
            say(f"to: {', '.join(redact(target) for target in settings.notify)}")
            say(f"title: {one.notice.title}")
            for line in one.notice.markdown.splitlines():
                say(line)
        for delivery in one.deliveries:
            if delivery.status == "sent":
                say(f"sent to {delivery.target}")
            else:
                warn(f"warning: notification to {delivery.target} failed: {delivery.reason}")
    if any(d.status != "sent" for one in sent for d in one.deliveries):
        raise typer.Exit(1)
