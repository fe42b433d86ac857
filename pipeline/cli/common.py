"""What the commands share: settings from their flags, the output formats checked, and
errors lossgram expects said in one line with exit code 2."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pipeline.base.errors import EXIT_FAILED, LossgramError
from pipeline.cli.console import FORMATS, warn

if TYPE_CHECKING:  # loaded by the first command that reads settings: --version goes without
    from pipeline.settings import Settings


@contextlib.contextmanager
def known_errors_exit() -> Iterator[None]:
    """Errors lossgram expects (bad settings, warehouse, dump) end in one line, exit 2."""
    try:
        yield
    except LossgramError as error:
        warn(f"error: {error}")
        raise typer.Exit(EXIT_FAILED) from error


def settings_from(config: Path | None, **flags: Any) -> Settings:
    """The settings, with the flags given (None: not given) over env, file and defaults."""
    from pipeline.settings import load_settings

    with known_errors_exit():
        return load_settings(config_file=config, overrides=flags)


def check_format(output_format: str) -> None:
    """--format is one lossgram prints (a usage error, exit 2)."""
    if output_format not in FORMATS:
        warn(f"error: --format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_FAILED)
