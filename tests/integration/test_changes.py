"""What changed since the previous night, on real warehouses: regressions first, a
held-out split that went missing, the run's exit code as a gate, verdicts.json against
its documented schema, a late earlier night rendering the night after it again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.analysis.changes import IMPROVEMENT, NOTE, REGRESSION, night_changes
from pipeline.cli.app import app
from pipeline.nightly.driver import run_job
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse, reading
from tests.helpers.dumps import write_dump
from tests.helpers.paths import ROOT

SCHEMA = ROOT / "docs" / "verdicts.schema.json"


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
    from pipeline.report.writing import write_reports

    write_reports(Warehouse(two_nights.warehouse), two_nights.reports, two_nights.report_options())
    schema = json.loads(SCHEMA.read_text())
    document = json.loads((two_nights.reports / "2026-11-23" / "verdicts.json").read_text())
    jsonschema.validate(document, schema)
    assert document["schema_version"] == 2 and document["snapshot_date"] == "2026-11-23"
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
