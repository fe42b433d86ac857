"""The one progress callback shape of long steps: (done, total, what was just done)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, item: str) -> None:
    """The default callback: report nothing."""
