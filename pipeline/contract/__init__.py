"""The dump contract: what a dump is and what its loss means. Find dumps, read them
lazily, check them; cross_entropy holds the per-sample loss, PyTorch's semantics.

problems (what is wrong) -> discovery (which files) -> batching (which files read
together) -> reader (footer + schema) -> canonical (the steps in identity, scores,
targets) -> checks (row rules counted in the losses pass).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pipeline.base.results import Skipped
from pipeline.contract.discovery import FolderScan, find_dumps, scan_folder
from pipeline.contract.problems import DumpError, DumpsRejected, Problem

if TYPE_CHECKING:
    from pipeline.contract.checks import Counts, problem_counts, problems_found
    from pipeline.contract.reader import open_batch, open_dump
    from pipeline.contract.scores import declared_classes
    from pipeline.contract.source import Dump

# Finding dumps needs neither Polars nor pyarrow; reading and checking them does. These
# names load their module on first use, so a run that finds nothing new starts without.
_READING = {
    "Counts": "checks",
    "Dump": "source",
    "declared_classes": "scores",
    "open_batch": "reader",
    "open_dump": "reader",
    "problem_counts": "checks",
    "problems_found": "checks",
}


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any name here

    def __getattr__(name: str) -> Any:
        if name not in _READING:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(f"pipeline.contract.{_READING[name]}"), name)
        globals()[name] = value
        return value


__all__ = [
    "Counts",
    "Dump",
    "DumpError",
    "DumpsRejected",
    "FolderScan",
    "Problem",
    "Skipped",
    "declared_classes",
    "find_dumps",
    "open_batch",
    "open_dump",
    "problem_counts",
    "problems_found",
    "scan_folder",
]
