"""The `lossgram` command line: parse options, build settings, call the core, print."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import __version__
from pipeline.dumps import DumpError
from pipeline.jobs import DumpsRejected, RunSummary, losses_to_parquet, rerun_job, run_job
from pipeline.settings import Settings, SettingsError, load_settings
from pipeline.warehouse import WarehouseError, job_history, read_only_query

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2

app = typer.Typer(
    name="lossgram",
    help="Cross-entropy loss histograms, statistics and fit verdicts for prediction dumps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

WarehouseOption = Annotated[
    Path | None,
    typer.Option(help="Warehouse folder (default data/warehouse under the current directory)."),
]
InboxOption = Annotated[
    Path | None, typer.Option(help="Inbox folder of new dumps (default data/inbox).")
]
DateOption = Annotated[
    dt.datetime | None,
    typer.Option("--date", formats=["%Y-%m-%d"], help="Snapshot date YYYY-MM-DD (default today)."),
]
ReportsOption = Annotated[
    Path | None, typer.Option(help="Reports folder (default reports under the current directory).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default ./lossgram.toml).")
]
LabelSmoothingOption = Annotated[
    float | None, typer.Option(help="Label smoothing e in [0, 1), as in PyTorch.")
]
ClassWeightsOption = Annotated[
    str | None, typer.Option(help="Per-class weights, comma separated: w0,w1,...")
]
IgnoreIndexOption = Annotated[
    str | None,
    typer.Option(help="Label value whose rows are left out and counted ('none' to disable)."),
]
EpsOption = Annotated[
    float | None, typer.Option(help="Probability clipping floor (default 1e-12).")
]
MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", help="Column mapping canonical=source, e.g. label=target (repeatable)."),
]
SplitOption = Annotated[
    str | None, typer.Option(help="Split name for dumps with no split column or split= folder.")
]
ModelOption = Annotated[
    str | None, typer.Option(help="Model name for dumps with no model column or model= folder.")
]
ClassesOption = Annotated[
    str | None, typer.Option(help="Class names for string labels, comma separated.")
]


def _version(value: bool) -> None:
    if value:
        out_console.print(f"lossgram {__version__}")
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
        app(prog_name="lossgram")
    except Exception as error:
        if "--debug" in sys.argv:
            raise
        err_console.print(
            f"error: {type(error).__name__}: {error} (run with --debug for the traceback)",
            markup=False,
            highlight=False,
        )
        sys.exit(EXIT_FAILED)


@contextlib.contextmanager
def _known_errors_exit() -> Iterator[None]:
    """Errors lossgram expects (bad settings, warehouse, dump) end in one line, exit 2."""
    try:
        yield
    except (SettingsError, WarehouseError, DumpError) as error:
        err_console.print(f"error: {error}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from error


def _settings(config: Path | None, **flags: Any) -> Settings:
    with _known_errors_exit():
        return load_settings(config_file=config, overrides=flags)


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
        with _known_errors_exit(), _progress() as progress:
            task = progress.add_task("computing losses", total=None)

            def advance(done: int, total: int, path: Path) -> None:
                progress.update(task, completed=done, total=total, description=path.name)

            written = losses_to_parquet(dumps, out, settings, progress=advance)
    except DumpsRejected as rejected:
        for error in rejected.errors:
            err_console.print(f"error: {error}", markup=False, highlight=False)
        err_console.print(f"nothing written: {len(rejected.errors)} dump(s) rejected")
        raise typer.Exit(EXIT_FAILED) from rejected

    table = Table("model", "split", "epoch", "n", "mean ce", "median ce")
    for row in written.summary.iter_rows(named=True):
        table.add_row(
            row["model"],
            row["split"],
            "" if row["epoch"] is None else str(row["epoch"]),
            str(row["n"]),
            f"{row['mean_ce']:.6f}",
            f"{row['median_ce']:.6f}",
        )
    out_console.print(table)
    notes = [f"{written.rows} rows"]
    if written.ignored:
        notes.append(f"{written.ignored} ignored (label == ignore_index)")
    if written.clipped:
        notes.append(f"{written.clipped} clipped at eps")
    out_console.print(f"wrote {written.out} ({', '.join(notes)})", markup=False, highlight=False)


def _progress() -> Progress:
    # Rich hides the bar itself when stderr is not a terminal.
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _print_run(summary: RunSummary, as_json: bool) -> None:
    if as_json:
        out_console.print_json(json.dumps(summary.to_json(), default=str))
        raise typer.Exit(summary.exit_code)
    for outcome in summary.outcomes:
        if outcome.status == "rejected":
            err_console.print(f"rejected: {outcome.error}", markup=False, highlight=False)
    if summary.error:
        err_console.print(f"error: {summary.error}", markup=False, highlight=False)
    if summary.verdicts:
        table = Table("date", "model", "held-out", "epoch", "verdict", "gap / H")
        for verdict in summary.verdicts:
            gap = verdict["normalised_gap"]
            table.add_row(
                verdict["snapshot_date"],
                verdict["model"],
                verdict["heldout_split"],
                "" if verdict["epoch"] is None else str(verdict["epoch"]),
                verdict["verdict"],
                "" if gap is None else f"{gap:.1%}",
            )
        out_console.print(table)
    out_console.print(
        f"{summary.status}: {summary.files_ingested} dump(s) ingested, "
        f"{summary.files_rejected} rejected, {summary.files_unchanged} unchanged "
        f"in {summary.seconds:.2f} s (run {summary.run_id})",
        markup=False,
        highlight=False,
    )
    latest = [
        page
        for page in summary.reports
        if summary.snapshot_dates
        and Path(page).parts[-2:] == (summary.snapshot_dates[-1], "index.html")
    ]
    if latest:
        out_console.print(f"report: {Path(latest[0]).resolve()}", markup=False, highlight=False)
    raise typer.Exit(summary.exit_code)


def _run_with_progress(job: Any, settings: Settings, **arguments: Any) -> RunSummary:
    with _known_errors_exit(), _progress() as progress:
        task = progress.add_task("ingesting", total=None)

        def advance(done: int, total: int, path: Path) -> None:
            progress.update(task, completed=done, total=total, description=path.name)

        summary: RunSummary = job(settings, progress=advance, **arguments)
        return summary


@app.command()
def run(
    date: DateOption = None,
    inbox: InboxOption = None,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Nightly job: new dumps in the inbox -> losses, statistics, verdicts, HTML reports.

    Exit code 0 ok, 1 partial (some dumps rejected), 2 failed.

    Example: lossgram run --inbox data/inbox --json
    """
    settings = _settings(config, inbox=inbox, warehouse=warehouse, reports=reports)
    day = date.date() if date else None
    summary = _run_with_progress(run_job, settings, snapshot_date=day)
    if summary.files_seen == 0 and not as_json:
        err_console.print(f"note: no Parquet dumps under {settings.inbox}", markup=False)
    _reports_after(summary, settings)
    _print_run(summary, as_json)


@app.command()
def rerun(
    date: Annotated[
        dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="Snapshot date to redo.")
    ],
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Re-read a date's recorded dumps (sha256 checked) and replace that date's rows.

    Example: lossgram rerun --date 2026-11-23 --model resnet
    """
    settings = _settings(config, warehouse=warehouse, reports=reports)
    summary = _run_with_progress(rerun_job, settings, snapshot_date=date.date(), model=model)
    _reports_after(summary, settings)
    _print_run(summary, as_json)


@app.command()
def backfill(
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="First date.")],
    end: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Last date.")],
    inbox: InboxOption = None,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Ingest the inbox's date folders (YYYY-MM-DD/ or date=YYYY-MM-DD/) from START to END.

    Example: lossgram backfill --start 2026-11-01 --end 2026-11-07
    """
    settings = _settings(config, inbox=inbox, warehouse=warehouse, reports=reports)
    summary = _run_with_progress(
        run_job, settings, date_range=(start.date(), end.date()), command="backfill"
    )
    _reports_after(summary, settings)
    _print_run(summary, as_json)


FORMATS = ("table", "csv", "json")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run (read-only).")],
    output_format: Annotated[
        str, typer.Option("--format", help="table, csv or json (one JSON array of objects).")
    ] = "table",
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Query the warehouse read-only: the losses view and every table.

    Example: lossgram sql "select model, verdict from verdicts" --format json
    """
    if output_format not in FORMATS:
        err_console.print(f"error: --format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_FAILED)
    settings = _settings(config, warehouse=warehouse)
    with _known_errors_exit():
        frame = read_only_query(settings.warehouse, query)
    _print_frame(frame, output_format)


@app.command()
def history(
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Recent job runs, newest first.

    Example: lossgram history --limit 5
    """
    settings = _settings(config, warehouse=warehouse)
    with _known_errors_exit():
        frame = job_history(settings.warehouse, limit)
    _print_frame(frame, output_format)


def _print_frame(frame: pl.DataFrame, output_format: str) -> None:
    if output_format == "json":
        print(json.dumps(frame.to_dicts(), default=str))
    elif output_format == "csv":
        print(_csv_safe(frame).write_csv(), end="")
    else:
        table = Table(*frame.columns)
        for row in frame.iter_rows():
            table.add_row(*("" if value is None else str(value) for value in row))
        out_console.print(table)


def _csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no nested types: lists and structs are written as JSON text."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.col(name).map_elements(
            lambda value: json.dumps(value, default=str), return_dtype=pl.String
        )
        for name in nested
    )


def _write_reports(
    settings: Settings, dates: list[str] | None, model: str | None, png: bool
) -> list[Path]:
    # Imported here: the report layer (altair, jinja2) loads only when pages are written.
    from pipeline.report.pages import write_reports

    with _progress() as progress:
        task = progress.add_task("rendering reports", total=None)

        def advance(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, total=total, description=name)

        return write_reports(settings, dates, model, png=png, progress=advance)


def _reports_after(summary: RunSummary, settings: Settings) -> None:
    """Render the nights a run touched; the index page lists them all."""
    if not summary.snapshot_dates:
        return
    pages = _write_reports(settings, summary.snapshot_dates, None, png=False)
    summary.reports = [str(page) for page in pages]


@app.command()
def report(
    date: DateOption = None,
    model: Annotated[str | None, typer.Option(help="Only this model's page.")] = None,
    png: Annotated[bool, typer.Option("--png", help="Also write PNGs of the main charts.")] = False,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    config: ConfigOption = None,
) -> None:
    """Render the static HTML reports (every night, or one) from the warehouse.

    Example: lossgram report --date 2026-11-23 --png
    """
    settings = _settings(config, warehouse=warehouse, reports=reports)
    dates = [date.date().isoformat()] if date else None
    with _known_errors_exit():
        pages = _write_reports(settings, dates, model, png)
    out_console.print(
        f"wrote {len(pages)} page(s); index: {settings.reports / 'index.html'}",
        markup=False,
        highlight=False,
    )


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
    from pipeline.demo import copy_demo_dumps

    settings = _settings(config, inbox=inbox, warehouse=warehouse, reports=reports)
    nights = copy_demo_dumps(settings.inbox)
    err_console.print(f"demo: copied nights {', '.join(nights)} into {settings.inbox}")
    summary = _run_with_progress(run_job, settings, command="demo")
    if not summary.snapshot_dates:
        summary.snapshot_dates = nights  # already ingested: render what is there
    _reports_after(summary, settings)
    _print_run(summary, as_json)


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
    from pipeline.schedule import Daemon, nightly_with_reports

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
        err_console.print(f"error: {path} exists (use --force to overwrite)")
        raise typer.Exit(EXIT_FAILED)
    path.write_text(commented_toml() + "\n", encoding="utf-8")
    out_console.print(f"wrote {path}", markup=False, highlight=False)
