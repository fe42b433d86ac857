"""The CLI through CliRunner, plus one real subprocess of the installed command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.special import log_softmax
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.report.writing import PNG_WIDTH
from tests.helpers.paths import README

runner = CliRunner()


def make_dumps(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """Two hive-partitioned dumps of one model: train and test."""
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(40, 4))
    labels = rng.integers(0, 4, 40)
    for split, rows in (("train", slice(0, 20)), ("test", slice(20, 40))):
        folder = root / "model=mlp" / f"split={split}"
        folder.mkdir(parents=True)
        pl.DataFrame(
            {
                "sample_id": np.arange(20),
                "target": labels[rows],
                "logits": pl.Series(logits[rows], dtype=pl.Array(pl.Float32, 4)),
            }
        ).write_parquet(folder / "part-0.parquet")
    return logits.astype(np.float32).astype(np.float64), labels


def test_losses_command_writes_and_summarises(tmp_path):
    logits, labels = make_dumps(tmp_path / "dumps")
    out = tmp_path / "losses.parquet"
    result = runner.invoke(
        app,
        [
            "losses",
            str(tmp_path / "dumps"),
            "-o",
            str(out),
            "--map",
            "label=target",
            "--label-smoothing",
            "0.1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "mlp" in result.output and "train" in result.output and "test" in result.output
    assert f"wrote {out} (40 rows)" in result.output

    written = pl.read_parquet(out).sort(
        "split", pl.col("sample_id").cast(pl.Int64), descending=[True, False]
    )
    assert written["model"].unique().to_list() == ["mlp"]
    neg_logp = -log_softmax(logits, axis=1)
    expected = 0.9 * neg_logp[np.arange(40), labels] + 0.1 * neg_logp.mean(1)
    np.testing.assert_allclose(written["ce"].to_numpy(), expected, atol=1e-6)


def test_losses_command_reports_settings_errors(tmp_path):
    make_dumps(tmp_path / "dumps")
    result = runner.invoke(
        app,
        [
            "losses",
            str(tmp_path / "dumps"),
            "-o",
            str(tmp_path / "o.parquet"),
            "--label-smoothing",
            "1.5",
        ],
    )
    assert result.exit_code == 2
    assert "label_smoothing must be in [0, 1)" in result.output


def test_class_weights_of_wrong_length_name_the_file(tmp_path):
    make_dumps(tmp_path / "dumps")
    result = runner.invoke(
        app,
        [
            "losses",
            str(tmp_path / "dumps"),
            "-o",
            str(tmp_path / "o.parquet"),
            "--map",
            "label=target",
            "--class-weights",
            "1,2",
        ],
    )
    assert result.exit_code == 2
    assert "part-0.parquet" in result.output and "class_weights has 2 entries" in result.output


def test_missing_dump_path(tmp_path):
    result = runner.invoke(app, ["losses", str(tmp_path / "nope"), "-o", str(tmp_path / "o.pq")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("lossgram ")


def test_installed_command_in_a_real_subprocess(tmp_path):
    executable = shutil.which("lossgram", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.fail("the lossgram console script is not installed next to this Python")
    make_dumps(tmp_path / "dumps")
    out = tmp_path / "losses.parquet"
    env = {**os.environ, "LOSSGRAM_COLUMN_MAP": "label=target"}
    completed = subprocess.run(
        [executable, "losses", str(tmp_path / "dumps"), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "wrote" in completed.stdout
    assert pl.read_parquet(out).height == 40


@pytest.mark.slow
def test_demo_then_sql_with_default_locations(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOSSGRAM_CONFIG", raising=False)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    index = tmp_path / "reports" / "2026-11-23" / "index.html"
    assert f"report: {index}" in result.output
    assert (tmp_path / "reports" / "index.html").is_file()
    result = runner.invoke(
        app, ["sql", "select distinct verdict from verdicts order by 1", "--format", "csv"]
    )
    assert result.output.split() == ["verdict", "good_fit", "overfit", "underfit"]


def test_every_command_is_documented_in_the_readme():
    readme = README.read_text()
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert f"lossgram {name}" in readme, f"command {name} missing from README"
        assert command.callback.__doc__ and "Example:" in command.callback.__doc__


@pytest.mark.slow
def test_report_png_and_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["demo"]).exit_code == 0
    result = runner.invoke(app, ["report", "--date", "2026-11-23", "--model", "tree", "--png"])
    assert result.exit_code == 0, result.output
    pngs = sorted(path.name for path in (tmp_path / "reports" / "2026-11-23").glob("*.png"))
    assert pngs == ["tree-histogram-log.png", "tree-trend-nights.png"]
    png = (tmp_path / "reports" / "2026-11-23" / "tree-histogram-log.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    width = int.from_bytes(png[16:20], "big")  # the IHDR chunk, at scale 2
    assert width >= 2 * PNG_WIDTH  # as wide as the page's chart (once ~300 px)
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert "# label_smoothing = 0.0" in (tmp_path / "lossgram.toml").read_text()
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 2 and "exists" in again.output


def test_unexpected_errors_are_one_line_unless_debug(tmp_path):
    executable = shutil.which("lossgram", path=str(Path(sys.executable).parent))
    assert executable
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the warehouse folder should be")
    inbox = tmp_path / "inbox"
    make_dumps(inbox)
    command = [executable, "run", "--inbox", str(inbox), "--warehouse", str(blocker / "wh")]
    plain = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr
    assert plain.stderr.strip().startswith("error:") and "--debug" in plain.stderr
    debug = subprocess.run(
        [executable, "--debug", *command[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" in debug.stderr


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["run", "--date", "2026-13-01"], "Invalid value for '--date'"),
        (["history", "--limit", "-1"], "Invalid value for '--limit'"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["nosuch"], "No such command 'nosuch'"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, arguments, said):
    executable = shutil.which("lossgram", path=str(Path(sys.executable).parent))
    assert executable
    completed = subprocess.run(
        [executable, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], lines
    assert "--help" in lines[0] and completed.stdout == ""
    assert not (tmp_path / "data").exists()
