"""What every command shares without loading the heavy libraries: the exit codes, and
the base of the errors lossgram expects (bad settings, input, warehouse, engine), which
the command line says in one line with exit code 2."""

from __future__ import annotations

# The exit code of a command: ok, partial (some input rejected), failed, fail_on met.
EXIT_OK, EXIT_PARTIAL, EXIT_FAILED, EXIT_GATE = 0, 1, 2, 3


class LossgramError(Exception):
    """An error lossgram expects and explains in its message."""


class InboxError(LossgramError, RuntimeError):
    """The inbox cannot be planned: a date folder that is no date, or (for a rerun) the
    recorded dumps are missing or changed."""


class WarehouseError(LossgramError, RuntimeError):
    """The warehouse cannot be used as asked (newer schema, locked, missing)."""
