"""Named points where a test can kill the process, to prove a crash there loses nothing.

`LOSSGRAM_KILL_AT=name` (or `name:N`, the N-th time the point is passed) makes the
process SIGKILL itself at that point: no cleanup, no finally blocks, as a power cut or
the OOM killer would. Unset, a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

KILL_AT_ENV = "LOSSGRAM_KILL_AT"
_passed: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """Die here when LOSSGRAM_KILL_AT names this point (and this is its N-th pass)."""
    wanted = os.environ.get(KILL_AT_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _passed[name] += 1
    if _passed[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
