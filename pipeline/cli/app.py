"""The `lossgram` command line: parse options, build settings, call the core, print."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline import __version__
from pipeline.base.errors import EXIT_FAILED, LossgramError
from pipeline.cli.console import (
    FORMATS,
    print_frame,
    print_losses_written,
    print_rows,
    print_run,
    progress_bar,
    say,
    warn,
)
from pipeline.cli.options import (
    ClassesOption,
    ClassWeightsOption,
    ConfigOption,
    DateOption,
    EngineOption,
    EpsOption,
    FailOnOption,
    FormatOption,
    IgnoreIndexOption,
    InboxOption,
    JsonOption,
    LabelSmoothingOption,
    MapOption,
    ModelOption,
    OnlyModelOption,
    ReportsOption,
    SparkMasterOption,
    SplitOption,
    WarehouseOption,
)
from pipeline.settings import Settings, load_settings

app = typer.Typer(
    name="lossgram",
    help="Cross-entropy loss histograms, statistics and fit verdicts for prediction dumps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


TABLE_ROWS = 1000  # rows `lossgram sql` prints as a table unless --limit says otherwise


def _version(value: bool) -> None:
    if value:
        say(f"lossgram {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an unexpected error.")
    ] = False,
) -> None:
    """lossgram: per-sample cross-entropy, loss histograms and fit verdicts.

    Exit codes: 0 ok, 1 partial (some input rejected), 2 failed. Colours are off when
    output is not a terminal or NO_COLOR is set.
    """


def entry() -> None:
    """The console script: an unexpected error is one line (the traceback with --debug)."""
    try:
        # Not standalone: Click would draw a usage error as a box; here it is one line.
        code = app(prog_name="lossgram", standalone_mode=False)
    except typer.TyperException as error:  # a usage error (Click's, vendored by Typer)
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        context = getattr(error, "ctx", None)
        if message:  # empty when the command's help was printed instead
            command = context.command_path if context else "lossgram"
            warn(f"error: {message} (see `{command} --help`)")
        sys.exit(getattr(error, "exit_code", EXIT_FAILED))
    except typer.Abort:
        warn("stopped")
        sys.exit(130)
    except Exception as error:
        if "--debug" in sys.argv:
            raise
        # One line: a library's message may hold the statement and a caret under it.
        first = (str(error).strip().splitlines() or [""])[0]
        warn(f"error: {type(error).__name__}: {first} (run with --debug for the traceback)")
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else 0)


@contextlib.contextmanager
def _known_errors_exit() -> Iterator[None]:
    """Errors lossgram expects (bad settings, warehouse, dump) end in one line, exit 2."""
    try:
        yield
    except LossgramError as error:
        warn(f"error: {error}")
        raise typer.Exit(EXIT_FAILED) from error


def _settings(config: Path | None, **flags: Any) -> Settings:
    with _known_errors_exit():
        return load_settings(config_file=config, overrides=flags)


def _run_command(command: str, settings: Settings, as_json: bool, **arguments: Any) -> None:
    """run / rerun / backfill / demo: the job, the reports of its nights, the summary."""
    from pipeline.nightly import driver as nightly
    from pipeline.nightly.service import Job, run_then_report

    job: Job = nightly.rerun_job
    if command != "rerun":
        job, arguments["command"] = nightly.run_job, command
    with _known_errors_exit(), progress_bar("ingesting") as progress:
        # One bar for both steps (rich shows one live display at a time).
        summary = run_then_report(
            job, settings, progress=progress, report_progress=progress, **arguments
        )
    if summary.files_seen == 0 and command == "run" and not as_json:
        warn(f"note: no Parquet dumps under {settings.inbox}")
    print_run(summary, as_json)
    raise typer.Exit(summary.exit_code)


@app.command()
def losses(
    dumps: Annotated[list[str], typer.Argument(help="Dump files, folders or globs.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
    label_smoothing: LabelSmoothingOption = None,
    class_weights: ClassWeightsOption = None,
    ignore_index: IgnoreIndexOption = None,
    eps: EpsOption = None,
    column_map: MapOption = None,
    split: SplitOption = None,
    model: ModelOption = None,
    classes: ClassesOption = None,
    config: ConfigOption = None,
) -> None:
    """Per-sample cross-entropy of DUMPS into one Parquet file (no warehouse).

    Example: lossgram losses preds/ -o losses.parquet --label-smoothing 0.1
    """
    from pipeline.cli.losses_command import losses_to_parquet
    from pipeline.contract import DumpsRejected

    settings = _settings(
        config,
        label_smoothing=label_smoothing,
        class_weights=class_weights,
        ignore_index=ignore_index,
        eps=eps,
        column_map=",".join(column_map) if column_map else None,
        split=split,
        model=model,
        classes=classes,
    )
    try:
        with _known_errors_exit(), progress_bar("computing losses") as progress:
            written = losses_to_parquet(dumps, out, settings.reader_options(), progress)
    except DumpsRejected as rejected:
        for error in rejected.errors:
            warn(f"error: {error}")
        warn(f"nothing written: {len(rejected.errors)} dump(s) rejected")
        raise typer.Exit(EXIT_FAILED) from rejected
    print_losses_written(written)


@app.command()
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
    settings = _settings(
        config,
        inbox=inbox,
        warehouse=warehouse,
        reports=reports,
        engine=engine,
        spark_master=spark_master,
        fail_on=fail_on,
    )
    _run_command("run", settings, as_json, snapshot_date=date.date() if date else None)


@app.command()
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
    settings = _settings(
        config,
        inbox=inbox,
        warehouse=warehouse,
        reports=reports,
        engine=engine,
        spark_master=spark_master,
        fail_on=fail_on,
    )
    _run_command("rerun", settings, as_json, snapshot_date=date.date(), model=model)


@app.command()
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
    settings = _settings(
        config,
        inbox=inbox,
        warehouse=warehouse,
        reports=reports,
        engine=engine,
        spark_master=spark_master,
        fail_on=fail_on,
    )
    date_range = (start.date(), end.date())
    _run_command("backfill", settings, as_json, date_range=date_range)


@app.command()
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

    settings = _settings(config, inbox=inbox, warehouse=warehouse, reports=reports)
    nights = copy_demo_dumps(settings.inbox)
    warn(f"demo: copied nights {', '.join(nights)} into {settings.inbox}")
    # Already ingested: render what is there.
    _run_command("demo", settings, as_json, default_dates=nights)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read statement (SELECT, WITH, DESCRIBE...).")],
    output_format: FormatOption = "table",
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds before the query is stopped.")
    ] = 60.0,
    limit: Annotated[
        int | None,
        typer.Option(min=0, help="Rows to print (default 1000 for table, all for csv/json)."),
    ] = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Query the warehouse read-only: the losses view and every table.

    Example: lossgram sql "select model, verdict from verdicts" --format json
    """
    from pipeline.cli.user_sql import run_user_query

    _check_format(output_format)
    settings = _settings(config, warehouse=warehouse)
    rows = limit if limit is not None else (TABLE_ROWS if output_format == "table" else None)
    with _known_errors_exit():
        result = run_user_query(
            settings.warehouse,
            query,
            timeout_seconds=timeout,
            limit=rows,
            bulk=output_format == "csv",
        )
    if result.bulk is not None:
        print_frame(result.bulk, output_format)
    else:
        print_rows(result.columns, result.rows, output_format)
    if result.truncated:
        warn(f"note: showing the first {rows} rows (--limit)")


@app.command()
def history(
    limit: Annotated[int, typer.Option(min=1, help="How many runs.")] = 20,
    output_format: FormatOption = "table",
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Recent job runs, newest first.

    Example: lossgram history --limit 5
    """
    import polars as pl

    from pipeline.warehouse.catalog import reading
    from pipeline.warehouse.ledger import job_history

    _check_format(output_format)
    settings = _settings(config, warehouse=warehouse)
    with _known_errors_exit(), reading(settings.warehouse, losses_view=False) as connection:
        frame = job_history(connection, limit)
    if output_format == "table":  # what fits a terminal; csv and json carry every column
        frame = frame.select(
            "run_id",
            pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M").alias("started"),
            "command",
            "status",
            pl.col("snapshot_dates").alias("nights"),
            pl.format("{}/{}/{}", "files_ingested", "files_rejected", "files_unchanged").alias(
                "in/rej/same"
            ),
            "seconds",
            "error",
        )
    print_frame(frame, output_format)


def _check_format(output_format: str) -> None:
    if output_format not in FORMATS:
        warn(f"error: --format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_FAILED)


@app.command()
def report(
    date: Annotated[
        dt.datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="Only this night (default every night)."),
    ] = None,
    model: OnlyModelOption = None,
    png: Annotated[bool, typer.Option("--png", help="Also write PNGs of the main charts.")] = False,
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            help="Compare these models of one night (A,B[,C]; --date, default the latest): "
            "overlaid held-out histograms, KS/W1, and the samples they share.",
        ),
    ] = None,
    standalone: Annotated[
        bool,
        typer.Option(
            "--standalone",
            help="Put the chart scripts (~0.9 MB) inside every page, for a page sent alone; "
            "by default pages share one file in the reports folder.",
        ),
    ] = False,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    config: ConfigOption = None,
) -> None:
    """Render the static HTML reports (every night, or one) from the warehouse.

    Example: lossgram report --date 2026-11-23 --png
    """
    # Imported here: the report layer (altair, jinja2) loads only when pages are written.
    from pipeline.report.pages import write_comparison, write_reports

    settings = _settings(config, warehouse=warehouse, reports=reports)
    if compare is not None:
        if model is not None or png:
            warn("error: --compare takes --date and --standalone, not --model or --png")
            raise typer.Exit(EXIT_FAILED)
        models = [name.strip() for name in compare.split(",")]
        with _known_errors_exit():
            page = write_comparison(
                settings.warehouse,
                settings.reports,
                settings.report_options(),
                models,
                date.date() if date else None,
                standalone=standalone,
            )
        say(f"comparison: {page}")
        return
    dates = [date.date()] if date else None
    with _known_errors_exit(), progress_bar("rendering reports") as progress:
        pages = write_reports(
            settings.warehouse,
            settings.reports,
            settings.report_options(),
            dates,
            model,
            png=png,
            standalone=standalone,
            progress=progress,
        )
    say(f"wrote {len(pages)} page(s); index: {settings.reports / 'index.html'}")


@app.command()
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

    settings = _settings(config, inbox=inbox, warehouse=warehouse, reports=reports)
    with _known_errors_exit():
        daemon = Daemon(settings, nightly_with_reports)
    daemon.start()


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="File to write.")] = Path("lossgram.toml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented lossgram.toml listing every setting with its default and help.

    Example: lossgram init && $EDITOR lossgram.toml
    """
    from pipeline.settings import commented_toml

    if path.exists() and not force:
        warn(f"error: {path} exists (use --force to overwrite)")
        raise typer.Exit(EXIT_FAILED)
    path.write_text(commented_toml() + "\n", encoding="utf-8")
    say(f"wrote {path}")
