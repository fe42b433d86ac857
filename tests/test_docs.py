"""The docs stay true: the quick start commands and what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "pip install" in commands[0] and "lossgram" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert quick_start_commands()[1] in ci.splitlines()
    assert "mypy pipeline" in ci and "ruff check pipeline" in ci


def test_readme_sql_examples_run(tmp_path):
    """Every ```sql example in the README runs on a real warehouse."""
    import numpy as np
    import polars as pl

    from pipeline.cli.user_sql import run_user_query
    from pipeline.nightly.driver import run_job
    from pipeline.settings import Settings

    rng = np.random.default_rng(0)
    for day in ("2026-11-20", "2026-11-21"):
        for split in ("train", "test"):
            folder = tmp_path / "inbox" / day / "model=mlp" / f"split={split}"
            folder.mkdir(parents=True)
            pl.DataFrame(
                {
                    "sample_id": np.arange(50),
                    "label": rng.integers(0, 3, 50),
                    "logits": pl.Series(rng.normal(size=(50, 3)), dtype=pl.Array(pl.Float64, 3)),
                }
            ).write_parquet(folder / "part-0.parquet")
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    run_job(settings)
    examples = re.findall(r"```sql\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert len(examples) >= 3
    for example in examples:
        run_user_query(settings.warehouse, example, timeout_seconds=60, limit=None)
    night_over_night = run_user_query(
        settings.warehouse, examples[1], timeout_seconds=60, limit=None
    ).frame
    assert night_over_night.height == 2


def test_readme_scikit_learn_writer_example_runs(tmp_path, monkeypatch):
    """The write_dump example with scikit-learn runs and its dumps pass `lossgram losses`."""
    from pipeline.cli.losses_command import losses_to_parquet
    from pipeline.settings import Settings

    blocks = re.findall(r"```python\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    example = next(block for block in blocks if "predict_proba" in block)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    written = losses_to_parquet(
        ["data/inbox/2026-11-23"], tmp_path / "o.parquet", Settings().reader_options()
    )
    assert written.rows == 1797


def test_readme_recipes_without_lossgram_write_valid_dumps(tmp_path, monkeypatch):
    """The plain pyarrow and plain Polars recipes import no lossgram, and their dumps pass
    `lossgram losses` with the losses numpy gives."""
    import numpy as np
    import polars as pl
    from scipy.special import log_softmax

    from pipeline.cli.losses_command import losses_to_parquet
    from pipeline.settings import Settings

    blocks = re.findall(r"```python\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    recipes = [block for block in blocks if "os.replace" in block]
    assert len(recipes) == 2
    monkeypatch.chdir(tmp_path)
    for recipe in recipes:
        assert "pipeline" not in recipe and "lossgram" not in recipe.replace("lossgram.classes", "")
        exec(compile(recipe, "README.md", "exec"), {})
    inbox = tmp_path / "data" / "inbox" / "2026-11-23"
    assert sorted(path.name for path in inbox.iterdir()) == [
        "logreg-train.parquet",
        "resnet18-test.parquet",
    ]
    out = tmp_path / "o.parquet"
    written = losses_to_parquet([inbox], out, Settings().reader_options())
    assert written.rows == 300
    losses = pl.read_parquet(out)
    dump = pl.read_parquet(inbox / "resnet18-test.parquet")
    # The two dumps' ids (integers, strings) are read together as text.
    test = dump.select(pl.col("sample_id").cast(pl.String)).join(
        losses.filter(pl.col("model") == "resnet18"), on="sample_id", maintain_order="left"
    )
    classes = ["cat", "dog", "bird"]
    labels = np.array([classes.index(name) for name in dump["label"]])
    logits = np.stack(dump["logits"].to_numpy()).astype(np.float64)
    expected = -log_softmax(logits, axis=1)[np.arange(100), labels]
    np.testing.assert_allclose(test["ce"].to_numpy(), expected, atol=1e-6)


def test_deploy_recipes_exist():
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    for recipe in ("crontab", "systemd", "CronJob", "Airflow", "concurrencyPolicy: Forbid"):
        assert recipe in deploy
