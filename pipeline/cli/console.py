"""What the command line prints: progress bars, run summaries, tables, one-line errors."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from pipeline.base.errors import LossgramError
from pipeline.base.progress import Progress as ProgressCallback

if TYPE_CHECKING:  # the command line starts without Polars and the ledger's DuckDB
    import polars as pl
    from rich.table import Table
    from rich.text import Text

    from pipeline.base.results import RunSummary
    from pipeline.cli.losses_command import LossesWritten

FORMATS = ("table", "csv", "json")

out_console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """Text with control characters escaped (\\n, \\x1b): a file name holding a newline
    cannot forge a second line, a model name cannot move the terminal's cursor."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], str(text))


def say(text: str) -> None:
    """A plain line on stdout (no markup: names are data, not styling)."""
    out_console.print(printable(text), markup=False, highlight=False)


# A terminal line at most this long; the ledger keeps the whole text.
LONGEST_LINE = 600


def warn(text: str) -> None:
    """A plain line on stderr, cut to LONGEST_LINE characters."""
    if len(text) > LONGEST_LINE:
        more = len(text) - LONGEST_LINE
        text = (
            f"{text[:LONGEST_LINE]}… (+{more} characters; `lossgram history --format json` "
            "and the ledger tables keep it whole)"
        )
    err_console.print(printable(text), markup=False, highlight=False)


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[ProgressCallback]:
    """A progress bar on stderr while the block runs; yields the callback that moves it.
    Into a file or a pipe there is no bar (rich would still end it with an empty line)."""
    if not err_console.is_terminal:
        yield lambda done, total, item: None
        return
    # Imported here: a run into a pipe (cron, --json) draws no bar and loads none of it.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int, item: str) -> None:
            bar.update(task, completed=done, total=total, description=item)

        yield advance


def print_losses_written(written: LossesWritten) -> None:
    table = _table("model", "split", "epoch", "n", "mean ce", "median ce")
    for row in written.summary.iter_rows(named=True):
        _add_row(
            table,
            printable(row["model"]),
            printable(row["split"]),
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
    say(f"wrote {written.out} ({', '.join(notes)})")


MAX_CHANGES_SHOWN = 10


def print_run(summary: RunSummary, as_json: bool) -> None:
    """The run's summary: JSON, or rejected dumps, verdicts and where the report is."""
    if as_json:
        out_console.print_json(json.dumps(summary.to_json(), default=str))
        return
    for outcome in summary.outcomes:
        if outcome.status == "rejected":
            warn(f"rejected: {outcome.error}")
    _print_skipped(summary)
    if summary.error:
        warn(f"error: {summary.error}")
    if summary.stale_snapshots:
        nights = ", ".join(summary.stale_snapshots)
        warn(
            f"note: nights computed with other loss settings than these: {nights} "
            "(`lossgram rerun --date D` recomputes one)"
        )
    if summary.verdicts:
        table = _table("date", "model", "held-out", "epoch", "verdict", "gap / H")
        for verdict in summary.verdicts:
            gap = verdict["normalised_gap"]
            _add_row(
                table,
                verdict["snapshot_date"].isoformat(),
                printable(verdict["model"]),
                printable(verdict["heldout_split"]),
                "" if verdict["epoch"] is None else str(verdict["epoch"]),
                verdict["verdict"],
                "" if gap is None else f"{gap:.1%}",
            )
        out_console.print(table)
    for change in summary.changes[:MAX_CHANGES_SHOWN]:
        say(f"{change['severity']}: {change['text']}")
    if len(summary.changes) > MAX_CHANGES_SHOWN:
        say(f"... {len(summary.changes) - MAX_CHANGES_SHOWN} more changes (the night page)")
    for reason in summary.gate:
        warn(f"gate (fail_on): {reason}")
    for changed in summary.changed_files:
        warn(f"warning: {printable(changed)}")
    for sent in summary.notifications:
        if sent["status"] != "sent":
            warn(f"warning: notification to {sent['target']} failed: {sent['reason']}")
    for night, count in sorted(summary.rejected_unchanged.items()):
        warn(
            f"note: {count} rejected dump(s) of {night} unchanged, not read again: fix them "
            f"(or the settings that read them), then `lossgram rerun --date {night}`"
        )
    status = f"{summary.status}, gate tripped (exit 3)" if summary.gate else summary.status
    say(
        f"{status}: {summary.files_ingested} dump(s) ingested, "
        f"{summary.files_rejected} rejected, {summary.files_unchanged} unchanged "
        f"in {summary.seconds:.2f} s (run {summary.run_id})"
    )
    latest = [
        page
        for page in summary.reports
        if summary.snapshot_dates
        and Path(page).parts[-2:] == (summary.snapshot_dates[-1].isoformat(), "index.html")
    ]
    if latest:
        page = latest[0]  # a published page's URI as it is, a file's path made absolute
        say(f"report: {page if '://' in page else Path(page).resolve()}")


SKIPPED_SHOWN = 10  # skipped inbox entries listed in the terminal; the ledger keeps all


def _print_skipped(summary: RunSummary) -> None:
    for entry in summary.skipped[:SKIPPED_SHOWN]:
        warn(f"skipped: {printable(str(entry.path))}: {entry.reason}")
    more = len(summary.skipped) - SKIPPED_SHOWN
    if more > 0:
        query = f"select * from skipped_entries where run_id = '{summary.run_id}'"
        warn(f'skipped: {more} more inbox entries (lossgram sql "{query}")')


def print_frame(frame: pl.DataFrame, output_format: str, deadline: float | None = None) -> None:
    if output_format == "csv":
        text = _csv_safe(frame).write_csv()
        _in_time(deadline)
        print(text, end="")
    else:
        print_rows(frame.columns, frame.rows(), output_format, deadline)


class PrintTimeout(LossgramError):
    """The rows took longer to print than --timeout left."""


def _in_time(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise PrintTimeout("stopped while writing the rows (--timeout): narrow the query")


PRINT_CHUNK = 10_000  # rows turned into text between two looks at the clock


def print_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    output_format: str,
    deadline: float | None = None,
) -> None:
    """Rows of Python values as JSON, or as a table (cells cut for the terminal); the
    text is made in chunks and given up, before anything is printed, past the deadline."""
    if output_format == "json":
        parts = []
        for start in range(0, len(rows), PRINT_CHUNK):
            _in_time(deadline)
            chunk = rows[start : start + PRINT_CHUNK]
            records = [dict(zip(columns, row, strict=True)) for row in chunk]
            parts.append(json.dumps(records, default=str)[1:-1])
        _in_time(deadline)
        print("[" + ", ".join(part for part in parts if part) + "]")
        return
    _in_time(deadline)
    table = _table(*columns)
    for row in rows:
        _add_row(table, *("" if value is None else _cell(value) for value in row))
    # Into a file or a pipe there is no width to fit: nothing is cut (rich would take
    # 80 columns and cut headers to "s…").
    console = out_console if out_console.is_terminal else Console(width=1_000_000)
    console.print(table)


def _table(*columns: str) -> Table:
    """A rich table with these column headers (rich's tables load only when one is drawn:
    a no-op night with --json, or a query as JSON, goes without)."""
    from rich.table import Table

    table = Table()
    for column in columns:
        table.add_column(_text(printable(column)))
    return table


def _add_row(table: Table, *cells: str) -> None:
    """A row of data: a cell is shown as it is, never read as rich markup or emoji codes
    (a value `y[/]` would stop the command, `[b]x` would lose its brackets)."""
    table.add_row(*(_text(cell) for cell in cells))


def _text(value: str) -> Text:
    from rich.text import Text

    return Text(value)


LONGEST_CELL = 200  # characters of one table cell; --format csv / json print it whole


def _cell(value: object) -> str:
    text = printable(value)
    if len(text) <= LONGEST_CELL:
        return text
    return f"{text[:LONGEST_CELL]}… (+{len(text) - LONGEST_CELL} characters: --format json)"


def _csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no nested types: lists and structs are written as JSON text."""
    import polars as pl

    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    return frame.with_columns(
        pl.Series(
            name,
            [None if v is None else json.dumps(v, default=str) for v in frame[name].to_list()],
            dtype=pl.String,
        )
        for name in nested
    )
