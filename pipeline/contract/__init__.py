"""The dump contract: find dumps, read them lazily, check them.

problems (what is wrong) -> discovery (which files) -> batching (which files read
together) -> reader (footer + schema) -> canonical (the steps in identity, scores,
targets) -> checks (row rules counted in the losses pass).
"""

from pipeline.contract.checks import problem_counts, problems_found
from pipeline.contract.discovery import FolderScan, Skipped, find_dumps, scan_folder
from pipeline.contract.problems import DumpError, DumpsRejected, Problem
from pipeline.contract.reader import open_batch, open_dump
from pipeline.contract.scores import declared_classes
from pipeline.contract.source import Dump

__all__ = [
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
