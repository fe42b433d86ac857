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


EXECUTOR_KILL_ENV = "LOSSGRAM_KILL_EXECUTOR_ONCE"
EXECUTOR_CLASS = "CoarseGrainedExecutorBackend"


def executor_fault_point() -> None:
    """On a Spark executor: with LOSSGRAM_KILL_EXECUTOR_ONCE=<marker file> (set through
    spark.executorEnv), the first task to pass here creates the marker and SIGKILLs its
    executor JVM, as a lost node would; Spark runs the task again on another executor.
    Outside a standalone or cluster executor (no such JVM above this process) it does
    nothing."""
    marker = os.environ.get(EXECUTOR_KILL_ENV)
    if not marker:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return  # killed once already
    executor = _ancestor_running(EXECUTOR_CLASS)
    if executor is not None:
        os.kill(executor, signal.SIGKILL)


def _ancestor_running(name: str) -> int | None:
    """The nearest ancestor process whose command line mentions name (Linux /proc)."""
    pid = os.getppid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if name.encode() in handle.read():
                    return pid
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            return None
    return None
