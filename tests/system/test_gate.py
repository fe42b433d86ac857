"""The fail_on gate is visible where people look: the summary line, `lossgram history`
and job_runs (it once showed only on stderr, the run recorded as plainly succeeded)."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.cli.demo import copy_demo_dumps


def test_a_tripped_gate_is_said_in_the_summary_history_and_job_runs(tmp_path):
    copy_demo_dumps(tmp_path / "inbox")
    where = ["--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "wh")]
    runner = CliRunner()
    result = runner.invoke(
        app, ["run", *where, "--reports", str(tmp_path / "r"), "--fail-on", "overfit"]
    )
    assert result.exit_code == 3, result.output
    assert "succeeded, gate tripped (exit 3):" in result.output
    history = runner.invoke(
        app, ["history", "--warehouse", str(tmp_path / "wh"), "--format", "json"]
    )
    assert '"status": "succeeded, gate tripped"' in history.output
    assert "tree test: overfit" in history.output
    gate = runner.invoke(
        app,
        ["sql", "select len(gate) as reasons from job_runs", "--warehouse", str(tmp_path / "wh"),
         "--format", "csv"],
    )  # fmt: skip
    assert gate.output.splitlines()[1] != "0", gate.output
    calm = runner.invoke(app, ["run", *where, "--reports", str(tmp_path / "r")])
    assert calm.exit_code == 0 and "gate tripped" not in calm.output
