"""What changed since the previous night: flips, significant gap / H moves, models that
came and went; regressions first; the run's exit code as a gate; verdicts.json."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from conftest import write_dump
from typer.testing import CliRunner

from pipeline.analysis.changes import (
    IMPROVEMENT,
    NOTE,
    REGRESSION,
    Z95,
    classify,
    gap_move,
    night_changes,
)
from pipeline.cli.app import app
from pipeline.nightly.driver import run_job
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse, reading

SCHEMA = Path(__file__).parent.parent / "docs" / "verdicts.schema.json"


def pair(**values):
    base = {
        "model": "mlp",
        "heldout_split": "test",
        "verdict": "good_fit",
        "normalised_gap": 0.05,
        "normalised_ci_low": 0.03,
        "normalised_ci_high": 0.07,
        "previous_date": dt.date(2026, 11, 22),
        "previous_verdict": "good_fit",
        "previous_normalised_gap": 0.05,
        "previous_ci_low": 0.03,
        "previous_ci_high": 0.07,
    }
    return {**base, **values}


@pytest.mark.parametrize(
    ("before", "now", "severity"),
    [
        ("good_fit", "overfit", REGRESSION),
        ("good_fit", "underfit", REGRESSION),
        ("overfit", "underfit", REGRESSION),
        ("overfit", "good_fit", IMPROVEMENT),
        ("insufficient_data", "good_fit", NOTE),
        ("good_fit", "insufficient_data", NOTE),
    ],
)
def test_verdict_flips_are_classified(before, now, severity):
    (change,) = classify(pair(previous_verdict=before, verdict=now))
    assert (change.kind, change.severity) == ("verdict", severity)
    assert before.replace("_", " ") in change.text and now.replace("_", " ") in change.text


def test_a_gap_move_counts_only_when_its_interval_excludes_zero():
    # Each night's interval is +-0.02 (se 0.0102); the move's se is sqrt(2) x that.
    half = Z95 * math.hypot(0.02 / Z95, 0.02 / Z95)
    assert gap_move(pair(normalised_gap=0.05 + half * 0.99, normalised_ci_low=0.03 + half * 0.99,
                         normalised_ci_high=0.07 + half * 0.99)) is None  # fmt: skip
    low, high = gap_move(
        pair(normalised_gap=0.05 + half * 1.01, normalised_ci_low=0.03 + half * 1.01,
             normalised_ci_high=0.07 + half * 1.01)
    )  # fmt: skip
    assert 0 < low < high
    (change,) = classify(pair(normalised_gap=0.2, normalised_ci_low=0.18, normalised_ci_high=0.22))
    assert (change.kind, change.severity) == ("gap", REGRESSION)
    (change,) = classify(
        pair(normalised_gap=-0.2, normalised_ci_low=-0.22, normalised_ci_high=-0.18)
    )
    assert change.severity == IMPROVEMENT
    assert classify(pair(normalised_gap=None)) == []  # no numbers: nothing claimed


def test_models_that_come_and_go():
    first_night = pair(previous_verdict=None, previous_date=None, night_before=None)
    assert classify(first_night) == []  # nothing to compare with
    later = {**first_night, "night_before": dt.date(2026, 11, 22), "verdict": "overfit"}
    (new,) = classify(later)
    assert (new.kind, new.severity) == ("appeared", NOTE)
    (gone,) = classify(pair(verdict=None, normalised_gap=None))
    assert (gone.kind, gone.severity) == ("disappeared", REGRESSION)


def write_night(inbox: Path, night: str, models: dict[str, float], seed: int = 0) -> None:
    """A night of models: train fits (signal 6), test has `test_signal` (low = overfit)."""
    rng = np.random.default_rng(seed)
    for model, test_signal in models.items():
        for split, signal in (("train", 6.0), ("test", test_signal)):
            n, classes = 400, 4
            labels = rng.integers(0, classes, n)
            logits = rng.normal(size=(n, classes))
            logits[np.arange(n), labels] += signal
            path = inbox / night / f"model={model}" / f"split={split}" / "part-0.parquet"
            write_dump(path, {"sample_id": np.arange(n), "label": labels, "logits": logits})


@pytest.fixture
def two_nights(tmp_path: Path) -> Settings:
    """Night 1: a, b and c fit; night 2: a overfits, b still fits, c gone, d new."""
    settings = Settings(
        inbox=tmp_path / "inbox", warehouse=tmp_path / "wh", reports=tmp_path / "reports"
    )
    write_night(settings.inbox, "2026-11-22", {"a": 6.0, "b": 6.0, "c": 6.0})
    run_job(settings)
    write_night(settings.inbox, "2026-11-23", {"a": 0.3, "b": 6.0, "d": 6.0}, seed=1)
    return settings


def test_the_night_lists_what_changed_regressions_first(two_nights):
    run_job(two_nights)
    with reading(two_nights.warehouse, losses_view=False) as connection:
        changes = night_changes(connection, dt.date(2026, 11, 23))
    kinds = [(c.model, c.kind, c.severity) for c in changes]
    assert ("a", "verdict", REGRESSION) in kinds and ("c", "disappeared", REGRESSION) in kinds
    assert ("d", "appeared", NOTE) in kinds
    assert all(model != "b" or kind == "gap" for model, kind, _ in kinds)
    severities = [c.severity for c in changes]
    assert severities == sorted(severities, key=[REGRESSION, NOTE, IMPROVEMENT].index)


def test_a_held_out_split_that_went_missing_is_a_regression(tmp_path):
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    write_night(settings.inbox, "2026-11-22", {"e": 6.0})
    write_night(settings.inbox, "2026-11-23", {"e": 6.0}, seed=1)
    rng = np.random.default_rng(5)  # night 1 also has a val split
    labels = rng.integers(0, 4, 400)
    logits = rng.normal(size=(400, 4))
    logits[np.arange(400), labels] += 6.0
    path = settings.inbox / "2026-11-22" / "model=e" / "split=val" / "part-0.parquet"
    write_dump(path, {"sample_id": np.arange(400), "label": labels, "logits": logits})
    run_job(settings)
    with reading(settings.warehouse, losses_view=False) as connection:
        changes = night_changes(connection, dt.date(2026, 11, 23))
    assert [(c.model, c.heldout_split, c.kind, c.severity) for c in changes] == [
        ("e", "val", "disappeared", REGRESSION)
    ]


def test_fail_on_makes_the_exit_code_a_gate(two_nights):
    def run(*flags: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            app,
            ["run", "--inbox", str(two_nights.inbox), "--warehouse", str(two_nights.warehouse),
             "--reports", str(two_nights.reports), *flags],
        )  # fmt: skip
        return result.exit_code, result.output

    code, output = run("--fail-on", "regressed")
    assert code == 3, output
    assert "gate" in output and "a test: good fit -> overfit" in output
    code, output = run("--fail-on", "underfit")  # nothing new: nothing to gate
    assert code == 0, output
    bad, output = run("--fail-on", "sideways")
    assert bad == 2 and "fail_on" in output


def test_verdicts_json_follows_its_documented_schema(two_nights):
    run_job(two_nights)
    from pipeline.report.pages import write_reports

    write_reports(Warehouse(two_nights.warehouse), two_nights.reports, two_nights.report_options())
    schema = json.loads(SCHEMA.read_text())
    document = json.loads((two_nights.reports / "2026-11-23" / "verdicts.json").read_text())
    jsonschema.validate(document, schema)
    assert document["schema_version"] == 1 and document["snapshot_date"] == "2026-11-23"
    assert {v["model"] for v in document["verdicts"]} == {"a", "b", "d"}
    assert document["changes"][0]["severity"] == REGRESSION
    first = json.loads((two_nights.reports / "2026-11-22" / "verdicts.json").read_text())
    jsonschema.validate(first, schema)
    assert first["changes"] == []  # the first night has nothing to compare with


def test_a_late_earlier_night_renders_the_night_after_it_again(tmp_path):
    """Nights 22 and 23 landed; night 21 arrives late: night 22's page and verdicts.json
    now compare with 21 (before, they said nothing changed: 22 was the first night)."""
    settings = Settings(
        inbox=tmp_path / "inbox", warehouse=tmp_path / "wh", reports=tmp_path / "reports"
    )
    arguments = ["run", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse),
                 "--reports", str(settings.reports)]  # fmt: skip
    write_night(settings.inbox, "2026-11-22", {"a": 0.3})
    write_night(settings.inbox, "2026-11-23", {"a": 0.3}, seed=1)
    assert CliRunner().invoke(app, arguments).exit_code == 0
    page = settings.reports / "2026-11-22" / "verdicts.json"
    assert json.loads(page.read_text())["changes"] == []
    write_night(settings.inbox, "2026-11-21", {"a": 6.0}, seed=2)  # it fitted then
    assert CliRunner().invoke(app, arguments).exit_code == 0
    changes = json.loads(page.read_text())["changes"]
    assert (changes[0]["kind"], changes[0]["severity"]) == ("verdict", REGRESSION)
