"""The commands that read: `losses` (per-sample losses of dumps, no warehouse), `sql`
(read-only queries), `history` (the ledger) and `report` (pages from the warehouse)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.base.errors import EXIT_FAILED
from pipeline.cli.common import check_format, known_errors_exit, settings_from
from pipeline.cli.console import (
    print_frame,
    print_losses_written,
    print_rows,
    progress_bar,
    say,
    warn,
)
from pipeline.cli.options import (
    ClassesOption,
    ClassWeightsOption,
    CompareOption,
    ConfigOption,
    EpsOption,
    FormatOption,
    IgnoreIndexOption,
    LabelSmoothingOption,
    MapOption,
    ModelOption,
    NightOption,
    OnlyModelOption,
    PngOption,
    ReportsOption,
    SplitOption,
    StandaloneOption,
    WarehouseOption,
)

TABLE_ROWS = 1000  # rows `lossgram sql` prints as a table unless --limit says otherwise


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

    settings = settings_from(
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
        with known_errors_exit(), progress_bar("computing losses") as progress:
            written = losses_to_parquet(dumps, out, settings.reader_options(), progress)
    except DumpsRejected as rejected:
        for error in rejected.errors:
            warn(f"error: {error}")
        warn(f"nothing written: {len(rejected.errors)} dump(s) rejected")
        raise typer.Exit(EXIT_FAILED) from rejected
    print_losses_written(written)


def sql(
    query: Annotated[str, typer.Argument(help="One read statement (SELECT, WITH, DESCRIBE...).")],
    output_format: FormatOption = "table",
    timeout: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds before the query (with its fetch and print) stops."),
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

    check_format(output_format)
    settings = settings_from(config, warehouse=warehouse)
    rows = limit if limit is not None else (TABLE_ROWS if output_format == "table" else None)
    deadline = time.monotonic() + timeout  # --timeout covers the query, fetch and print
    with known_errors_exit():
        result = run_user_query(
            settings.warehouse,
            query,
            timeout_seconds=timeout,
            limit=rows,
            bulk=output_format == "csv",
            memory_limit=settings.sql_memory_limit,
        )
        if result.bulk is not None:
            print_frame(result.bulk, output_format, deadline)
        else:
            print_rows(result.columns, result.rows, output_format, deadline)
    if result.truncated:
        warn(f"note: showing the first {rows} rows (--limit)")


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

    check_format(output_format)
    settings = settings_from(config, warehouse=warehouse)
    with known_errors_exit(), reading(settings.warehouse, losses_view=False) as connection:
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


def report(
    date: NightOption = None,
    model: OnlyModelOption = None,
    png: PngOption = False,
    compare: CompareOption = None,
    standalone: StandaloneOption = False,
    warehouse: WarehouseOption = None,
    reports: ReportsOption = None,
    config: ConfigOption = None,
) -> None:
    """Render the static HTML reports (every night, or one) from the warehouse.

    Example: lossgram report --date 2026-11-23 --png
    """
    # Imported here: the report layer (altair, jinja2) loads only when pages are written.
    from pipeline.nightly.job_options import open_warehouse
    from pipeline.report.publish import published, reports_folder
    from pipeline.report.writing import write_comparison, write_reports

    settings = settings_from(config, warehouse=warehouse, reports=reports)
    with known_errors_exit():
        opened_warehouse = open_warehouse(settings)
    folder = reports_folder(settings.reports, opened_warehouse.catalog)  # a mirror for a URI
    if compare is not None:
        if model is not None or png:
            warn("error: --compare takes --date and --standalone, not --model or --png")
            raise typer.Exit(EXIT_FAILED)
        models = [name.strip() for name in compare.split(",")]
        with known_errors_exit():
            page = write_comparison(
                opened_warehouse,
                folder,
                settings.report_options(),
                models,
                date.date() if date else None,
                standalone=standalone,
            )
            (location,) = published([page], folder, settings.reports)
        say(f"comparison: {location}")
        return
    dates = [date.date()] if date else None
    with known_errors_exit(), progress_bar("rendering reports") as progress:
        pages = write_reports(
            opened_warehouse,
            folder,
            settings.report_options(),
            dates,
            model,
            png=png,
            standalone=standalone,
            progress=progress,
        )
        locations = published(pages, folder, settings.reports)
    index = f"{str(settings.reports).rstrip('/')}/index.html"
    say(f"wrote {len(locations)} page(s); index: {index}")
