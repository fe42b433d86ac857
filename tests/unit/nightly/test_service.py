"""The fail_on gate: which verdicts and changes of a run trip it."""

from __future__ import annotations

import datetime as dt

from pipeline.base.results import RunSummary
from pipeline.nightly.service import gate

NIGHT = dt.date(2026, 11, 23)


def summary_with(*verdicts: str) -> RunSummary:
    summary = RunSummary(run_id="r", command="run")
    summary.verdicts = [
        {"snapshot_date": NIGHT, "model": f"m{index}", "heldout_split": "test", "verdict": v}
        for index, v in enumerate(verdicts)
    ]
    summary.changes = [
        {"snapshot_date": NIGHT, "severity": "regression", "text": "m0 test: good fit -> overfit"}
    ]
    return summary


def test_each_named_verdict_trips_the_gate_and_no_other():
    run = summary_with("possible_overfit", "good_fit", "overfit")
    assert gate(run, ["possible_overfit"]) == [f"{NIGHT} m0 test: possible_overfit"]
    assert gate(run, ["overfit"]) == [f"{NIGHT} m2 test: overfit"]
    assert gate(run, ["underfit"]) == []


def test_regressed_names_each_regression():
    run = summary_with("good_fit")
    assert gate(run, ["regressed"]) == [f"{NIGHT} regressed: m0 test: good fit -> overfit"]
