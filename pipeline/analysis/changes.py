"""What changed on a night against each model's previous night: verdicts that flipped,
gap / H moves larger than the two nights' uncertainty, models that appeared or
disappeared. Regressions first: they are what a team reads in the morning.

The move of gap / H is significant when its 95% interval excludes zero. The interval
is the difference of the two nights' values, with a standard error from their bootstrap
intervals (half-width / 1.96 each, taken as independent): an approximation, since the
bootstrap intervals need not be symmetric.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from pipeline.warehouse.queries import execute

REGRESSION, IMPROVEMENT, NOTE = "regression", "improvement", "note"
BAD_VERDICTS = ("overfit", "underfit")
UNCONFIRMED = "possible_overfit"  # a warning, not yet a bad verdict
Z95 = 1.959963984540054
SEVERITY_ORDER = {REGRESSION: 0, NOTE: 1, IMPROVEMENT: 2}


@dataclass(frozen=True)
class Change:
    """One thing that changed for a model's held-out split."""

    model: str
    heldout_split: str
    kind: str  # verdict, gap, appeared, disappeared
    severity: str  # regression, improvement, note
    text: str
    previous_date: dt.date | None = None
    previous_verdict: str | None = None
    verdict: str | None = None
    previous_normalised_gap: float | None = None
    normalised_gap: float | None = None
    change_low: float | None = None  # 95% interval of the gap / H move
    change_high: float | None = None

    def as_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["previous_date"] = self.previous_date.isoformat() if self.previous_date else None
        return row


def night_changes(connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date) -> list[Change]:
    """The night's changes, regressions first."""
    columns = (
        "model", "heldout_split", "verdict", "normalised_gap", "normalised_ci_low",
        "normalised_ci_high", "previous_date", "previous_verdict", "previous_normalised_gap",
        "previous_ci_low", "previous_ci_high", "night_before",
    )  # fmt: skip
    rows = execute(connection, "night_changes", {"snapshot_date": snapshot_date})
    changes = [c for row in rows for c in classify(dict(zip(columns, row, strict=True)))]
    return sorted(changes, key=lambda c: (SEVERITY_ORDER[c.severity], c.model, c.heldout_split))


def classify(pair: dict[str, Any]) -> list[Change]:
    """The changes of one (model, held-out split): tonight's verdict and numbers beside
    its previous night's (either side None when missing)."""
    model, split = str(pair["model"]), str(pair["heldout_split"])
    before, now = pair["previous_verdict"], pair["verdict"]
    common = {
        "model": model,
        "heldout_split": split,
        "previous_date": pair["previous_date"],
        "previous_verdict": before,
        "verdict": now,
        "previous_normalised_gap": pair["previous_normalised_gap"],
        "normalised_gap": pair["normalised_gap"],
    }
    if now is None:
        text = f"{model} {split}: no verdict tonight (it had one on {pair['previous_date']})"
        return [Change(kind="disappeared", severity=REGRESSION, text=text, **common)]
    if before is None and pair.get("night_before") is None:
        return []  # the warehouse's first night: every model is new, none worth a line
    if before is None:
        text = f"{model} {split}: new tonight ({_words(now)})"
        return [Change(kind="appeared", severity=NOTE, text=text, **common)]
    changes = []
    if now != before:
        text = f"{model} {split}: {_words(before)} -> {_words(now)}"
        severity = _flip_severity(before, now)
        changes.append(Change(kind="verdict", severity=severity, text=text, **common))
    # A gap of too few samples (insufficient data) is no evidence of a move.
    judged = "insufficient_data" not in (before, now)
    move = gap_move(pair) if judged else None
    if move is not None:
        low, high = move
        grew = low > 0
        text = (
            f"{model} {split}: gap / H {_pct(pair['previous_normalised_gap'])} ->"
            f" {_pct(pair['normalised_gap'])} ({'+' if grew else ''}"
            f"{_pct(pair['normalised_gap'] - pair['previous_normalised_gap'])}, 95% interval"
            f" [{_pct(low)}, {_pct(high)}])"
        )
        changes.append(
            Change(
                kind="gap",
                severity=REGRESSION if grew else IMPROVEMENT,
                text=text,
                change_low=low,
                change_high=high,
                **common,
            )
        )
    return changes


def gap_move(pair: dict[str, Any]) -> tuple[float, float] | None:
    """The 95% interval of the gap / H move, when it excludes zero; else None."""
    values = [
        pair[name]
        for name in (
            "normalised_gap", "normalised_ci_low", "normalised_ci_high",
            "previous_normalised_gap", "previous_ci_low", "previous_ci_high",
        )
    ]  # fmt: skip
    if any(value is None or not math.isfinite(value) for value in values):
        return None
    now, now_low, now_high, before, before_low, before_high = values
    error = math.hypot((now_high - now_low) / (2 * Z95), (before_high - before_low) / (2 * Z95))
    move = now - before
    low, high = move - Z95 * error, move + Z95 * error
    return (low, high) if low > 0 or high < 0 else None


def _flip_severity(before: str, now: str) -> str:
    """To a bad verdict from good fit or an unconfirmed gap (or from the other bad one) is
    a regression; back to good fit from a bad one an improvement; the rest notes (a gap
    not yet confirmed is a warning either way)."""
    if now in BAD_VERDICTS and before in ("good_fit", UNCONFIRMED):
        return REGRESSION
    if now in BAD_VERDICTS and before in BAD_VERDICTS:
        return REGRESSION  # overfit <-> underfit: still wrong, differently
    if before in BAD_VERDICTS and now == "good_fit":
        return IMPROVEMENT
    return NOTE


def _words(verdict: str) -> str:
    return verdict.replace("_", " ")


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.1%}"
