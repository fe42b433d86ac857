"""The `lossgram` command line: parse options, build settings, call the core, print.
The commands live in run_commands (the job) and read_commands (losses, sql, history,
report); this module makes the app, registers them, and turns errors into exit codes."""

from __future__ import annotations

import copy
import gc
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline import __version__
from pipeline.base.errors import EXIT_FAILED
from pipeline.cli import export_command, notify_command, read_commands, run_commands
from pipeline.cli.console import say, warn

app = typer.Typer(
    name="lossgram",
    help="Cross-entropy loss histograms, statistics and fit verdicts for prediction dumps.\n\n"
    "Exit codes: 0 ok, 1 partial (some input rejected), 2 failed, 3 the --fail-on gate tripped.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        say(f"lossgram {__version__}")
        raise typer.Exit()


# Set by the global --debug flag before a command runs; read if the command fails.
_SHOW_TRACEBACK = [False]


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

    Exit codes: 0 ok, 1 partial (some input rejected), 2 failed, 3 the --fail-on gate
    tripped. Colours are off when output is not a terminal or NO_COLOR is set.
    """
    _SHOW_TRACEBACK[0] = debug


def entry() -> None:
    """The console script: an unexpected error is one line (the traceback with --debug)."""
    try:
        # Not standalone: Click would draw a usage error as a box; here it is one line.
        code = _app_for(sys.argv[1:])(prog_name="lossgram", standalone_mode=False)
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
        if _SHOW_TRACEBACK[0]:
            raise
        # One line: a library's message may hold the statement and a caret under it.
        first = (str(error).strip().splitlines() or [""])[0]
        warn(f"error: {type(error).__name__}: {first} (run with --debug for the traceback)")
        sys.exit(EXIT_FAILED)
    finally:
        # What is left is freed by the exit: the command has closed its files and
        # connections. Frozen, Python's exit collects no cycles through every module it
        # loaded (typer, pydantic, DuckDB): `lossgram sql` 40-70 ms sooner.
        gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command the arguments start with, if they start with one:
    Typer builds every command it has (their options' types read from the annotations) at
    each start, ~4% of `lossgram sql "select 1"`, and `lossgram sql ...` needs sql alone.
    Anything else (no command, an option first, a name it does not know) gets them all."""
    named = [
        info
        for info in app.registered_commands
        if info.callback is not None
        and args[:1] == [info.name or info.callback.__name__.lower().replace("_", "-")]
    ]
    if not named:
        return app
    alone = copy.copy(app)
    alone.registered_commands = named
    return alone


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


# The commands, in the order `lossgram --help` lists them.
for command in (
    read_commands.losses,
    run_commands.run,
    run_commands.rerun,
    run_commands.backfill,
    run_commands.demo,
    read_commands.sql,
    read_commands.history,
    read_commands.report,
    notify_command.notify,
    export_command.export,
    run_commands.schedule,
):
    app.command()(command)
