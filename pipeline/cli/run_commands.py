"""The commands that run the nightly job: run, rerun, backfill, demo and the schedule
daemon. Each builds the settings from its flags and hands the job to the service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pipeline.cli.common import known_errors_exit, settings_from
from pipeline.cli.console import print_run, progress_bar, warn
from pipeline.cli.options import (
    ConfigOption,
    DateOption,
    EngineOption,
    FailOnOption,
    InboxOption,
    JsonOption,
    OnlyModelOption,
    ReportsOption,
    SparkMasterOption,
    WarehouseOption,
)

if TYPE_CHECKING:
    from pipeline.settings import Settings


def _job_flags(
    inbox: Path | None,
    warehouse: str | None,
    reports: str | None,
    engine: str | None,
    spark_master: str | None,
    fail_on: str | None,
) -> dict[str, Any]:
    """The flags every command that runs the job takes, as settings overrides."""
    return {
        "inbox": inbox,
        "warehouse": warehouse,
        "reports": reports,
        "engine": engine,
        "spark_master": spark_master,
        "fail_on": fail_on,
    }


def run_command(command: str, settings: Settings, as_json: bool, **arguments: Any) -> None:
    """run / rerun / backfill / demo: the job, the reports of its nights, the summary."""
    from pipeline.nightly import driver as nightly
    from pipeline.nightly.job_options import open_warehouse
    from pipeline.nightly.service import Job, run_then_report

    job: Job = nightly.rerun_job
    if command != "rerun":
        job, arguments["command"] = nightly.run_job, command
    with known_errors_exit(), progress_bar("ingesting") as progress:
        warehouse = open_warehouse(settings)  # the command's one warehouse, passed down
        # One bar for both steps (rich shows one live display at a time).
        summary = run_then_report(
            job,
            settings,
            warehouse=warehouse,
            progress=progress,
            report_progress=progress,
            **arguments,
        )
    if summary.files_seen == 0 and command == "run" and not as_json:
        warn(f"note: no Parquet dumps under {settings.inbox}")
    print_run(summary, as_json)
    raise typer.Exit(summary.exit_code)


def run(
    date: DateOption = None,
    inbox: InboxOption = None,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    as_json: JsonOption = False,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
) -> None:
    """Nightly job: new dumps in the inbox -> losses, statistics, verdicts, HTML reports.

    Exit code 0 ok, 1 partial (some dumps rejected), 2 failed, 3 a --fail-on condition met.

    Example: lossgram run --inbox data/inbox --json
    """
    settings = settings_from(
        config, **_job_flags(inbox, warehouse, reports, engine, spark_master, fail_on)
    )
    run_command("run", settings, as_json, snapshot_date=date.date() if date else None)


def rerun(
    date: Annotated[
        dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="Snapshot date to redo.")
    ],
    model: OnlyModelOption = None,
    inbox: Annotated[
        Path | None,
        typer.Option(help="Where to look for dumps gone from where they were read (moved)."),
    ] = None,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    as_json: JsonOption = False,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
) -> None:
    """Re-read a date's recorded dumps (sha256 checked) and replace that date's rows.

    Example: lossgram rerun --date 2026-11-23 --model resnet
    """
    settings = settings_from(
        config, **_job_flags(inbox, warehouse, reports, engine, spark_master, fail_on)
    )
    run_command("rerun", settings, as_json, snapshot_date=date.date(), model=model)


def backfill(
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="First date.")],
    end: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Last date.")],
    inbox: InboxOption = None,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    as_json: JsonOption = False,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
) -> None:
    """Ingest the inbox's date folders (YYYY-MM-DD/ or date=YYYY-MM-DD/) from START to END.

    Example: lossgram backfill --start 2026-11-01 --end 2026-11-07
    """
    settings = settings_from(
        config, **_job_flags(inbox, warehouse, reports, engine, spark_master, fail_on)
    )
    date_range = (start.date(), end.date())
    run_command("backfill", settings, as_json, date_range=date_range)


def demo(
    inbox: InboxOption = None,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Run the job and reports on the bundled demo dumps (two nights of real models).

    Copies them into the inbox first; prints the verdicts and where the report is.

    Example: lossgram demo && lossgram sql "select model, verdict from verdicts"
    """
    from pipeline.cli.demo import copy_demo_dumps

    settings = settings_from(config, inbox=inbox, warehouse=warehouse, reports=reports)
    nights = copy_demo_dumps(settings.inbox)
    warn(f"demo: copied nights {', '.join(nights)} into {settings.inbox}")
    # Already ingested: render what is there.
    run_command("demo", settings, as_json, default_dates=[dt.date.fromisoformat(n) for n in nights])


def schedule(
    inbox: InboxOption = None,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    config: ConfigOption = None,
) -> None:
    """Daemon: the nightly job (as `lossgram run`) on the `schedule` cron line.

    Runs until SIGTERM/SIGINT (a running job finishes first); a night missed while
    it was down runs once at start-up.

    Example: LOSSGRAM_SCHEDULE="30 1 * * *" lossgram schedule
    """
    from pipeline.nightly.schedule import Daemon, nightly_with_reports

    settings = settings_from(config, inbox=inbox, warehouse=warehouse, reports=reports)
    with known_errors_exit():
        daemon = Daemon(settings, nightly_with_reports)
    daemon.start()
