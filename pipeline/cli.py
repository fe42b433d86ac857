"""The `lossgram` command line: parse options, build settings, call the core, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import __version__
from pipeline.dumps import DumpError
from pipeline.jobs import DumpsRejected, losses_to_parquet
from pipeline.settings import Settings, SettingsError, load_settings

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
) -> None:
    """lossgram: per-sample cross-entropy, loss histograms and fit verdicts."""


def _settings(config: Path | None, **flags: Any) -> Settings:
    try:
        return load_settings(config_file=config, overrides=flags)
    except SettingsError as error:
        err_console.print(f"error: {error}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from error


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
        with _progress() as progress:
            task = progress.add_task("computing losses", total=None)

            def advance(done: int, total: int, path: Path) -> None:
                progress.update(task, completed=done, total=total, description=path.name)

            written = losses_to_parquet(dumps, out, settings, progress=advance)
    except DumpsRejected as rejected:
        for error in rejected.errors:
            err_console.print(f"error: {error}", markup=False, highlight=False)
        err_console.print(f"nothing written: {len(rejected.errors)} dump(s) rejected")
        raise typer.Exit(EXIT_FAILED) from rejected
    except DumpError as error:
        err_console.print(f"error: {error}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from error

    table = Table("model", "split", "n", "mean ce", "median ce")
    for row in written.summary.iter_rows(named=True):
        table.add_row(
            row["model"],
            row["split"],
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
