"""What is wrong with a dump: problems naming the column and the row count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.base.errors import LossgramError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dump: which column, how many rows, what."""

    column: str | None
    rows: int
    message: str

    def __str__(self) -> str:
        where = f"column '{self.column}'" if self.column else "file"
        noun = "row" if self.rows == 1 else "rows"
        return f"{where}: {self.rows} {noun}: {self.message}"


class DumpError(LossgramError):
    """A dump breaks the contract; names the file, the columns and the row counts."""

    def __init__(self, path: Path, problems: Sequence[Problem]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: " + "; ".join(str(problem) for problem in self.problems)


class DumpsRejected(Exception):
    """One or more dumps broke the contract; nothing was written."""

    def __init__(self, errors: Sequence[DumpError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(error) for error in errors))
