"""`lossgram export`: the whole warehouse as Delta Lake tables, once."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.base.errors import EXIT_FAILED
from pipeline.cli.common import known_errors_exit, settings_from
from pipeline.cli.console import progress_bar, say, warn
from pipeline.cli.options import ConfigOption, WarehouseOption


def export(
    to: Annotated[str, typer.Option("--to", help="Folder or s3://bucket/prefix of the tables.")],
    table_format: Annotated[
        str, typer.Option("--format", help="delta (Delta Lake tables).")
    ] = "delta",
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """Write every night's losses, histograms, summaries and verdicts as Delta Lake
    tables partitioned by snapshot_date (nights already there, from the same commit,
    are kept). The `lakehouse` setting does this after every run.

    Example: lossgram export --format delta --to s3://lake/lossgram
    """
    from pipeline.nightly.job_options import open_warehouse
    from pipeline.warehouse.lakehouse import catch_up_lakehouse

    if table_format != "delta":
        warn(f"error: --format {table_format}: only delta is written (docs: the lakehouse)")
        raise typer.Exit(EXIT_FAILED)
    settings = settings_from(config, warehouse=warehouse)
    with known_errors_exit(), progress_bar("exporting") as progress:
        opened = open_warehouse(settings)
        with opened.reading() as connection:
            written = catch_up_lakehouse(connection, to, progress)
    say(f"exported {len(written)} night(s) to {to} (Delta tables losses, histograms, "
        "summaries, verdicts)")  # fmt: skip
