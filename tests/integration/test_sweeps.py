"""Sweeps: models of a night declaring the same hyperparameters, from real scikit-learn
models. The recommended configuration is checked against sklearn.metrics.log_loss (the
held-out mean loss, the outside oracle) and the verdicts; parameters from metadata and
from key=value folders; the sweep page."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.nightly.driver import run_job
from pipeline.settings import Settings
from pipeline.writer import write_dump
from tests.helpers.dumps import write_hive_split

NIGHT = "2026-11-23"
C_VALUES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, float]]:
    """Six logistic regressions on digits, C from 1e-4 to 10; and a model outside it.
    Returns the settings and sklearn's held-out log loss of each configuration."""
    root = tmp_path_factory.mktemp("sweep")
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y
    )
    held_out = {}
    for c in C_VALUES:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))
        model.fit(x_train, y_train)
        name = f"logreg-C{c:g}"
        for split, features, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
            probs = model.predict_proba(features)
            write_dump(root / "inbox" / NIGHT / f"{name}-{split}.parquet",
                       sample_ids=np.arange(len(labels)), labels=labels, probs=probs,
                       split=split, model=name, params={"C": c, "solver": "lbfgs"},
                       dtype="float64")  # fmt: skip
        held_out[name] = log_loss(y_test, model.predict_proba(x_test), labels=range(10))
    write_hive_split(root / "inbox", NIGHT, "alone", "train", n=60)
    write_hive_split(root / "inbox", NIGHT, "alone", "test", n=60, seed=1)
    settings = Settings(inbox=root / "inbox", warehouse=root / "wh", reports=root / "reports")
    arguments = ["run", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse)]
    done = CliRunner().invoke(app, [*arguments, "--reports", str(settings.reports)])
    assert done.exit_code == 0, done.output
    return settings, held_out


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_sweep_and_its_recommendation(sweep):
    settings, held_out = sweep
    rows = query(
        settings,
        "select model, value_number, heldout_mean_ce, verdict, recommended from sweeps"
        " where param = 'C' order by value_number",
    )
    assert [row[1] for row in rows] == list(C_VALUES)  # 'alone' declares none: not in it
    for model, _, mean, _, _ in rows:
        assert mean == pytest.approx(held_out[model], rel=1e-9)  # sklearn's log loss
    eligible = {m: held_out[m] for m, _, _, verdict, _ in rows
                if verdict not in ("overfit", "insufficient_data")}  # fmt: skip
    best = min(eligible, key=eligible.get)
    assert [model for model, *_, recommended in rows if recommended] == [best]
    assert query(settings, "select distinct sweep from sweeps") == [("C, solver",)]
    assert query(settings, "select count(*) from model_params where model = 'alone'") == [(0,)]


def test_the_sweep_page_is_linked_from_the_night_and_the_dashboard(sweep):
    settings, held_out = sweep
    night = settings.reports / NIGHT
    (page,) = night.glob("sweep-*.html")
    assert f'href="{page.name}"' in (night / "index.html").read_text()
    assert f'href="{NIGHT}/{page.name}"' in (settings.reports / "index.html").read_text()
    html = page.read_text()
    best = min(held_out, key=held_out.get)
    assert 'id="recommended"' in html and f">{best}</a>" in html.split('id="recommended"')[1]
    specs = json.loads(html.split("const lossgramCharts = ")[1].split(";\n")[0])
    assert set(specs) == {"sweep-1-loss", "sweep-1-gap", "overlay"}  # C varies, solver not
    assert specs["sweep-1-loss"]["encoding"]["x"]["scale"]["type"] == "log"  # 5 decades


def test_parameters_from_folders_named_by_param_keys(tmp_path):
    """wd=0.01/ folders are a model's parameter when param_keys names wd (and then not a
    slice column); the metadata wins where both name one."""
    inbox = tmp_path / "inbox"
    for index, wd in enumerate(("0.1", "0.01")):
        for split in ("train", "test"):
            path = write_hive_split(inbox, NIGHT, f"m{index}", split, n=60, seed=index)
            moved = path.parent.parent / f"wd={wd}" / path.parent.name / path.name
            moved.parent.mkdir(parents=True)
            path.rename(moved)
    settings = Settings(inbox=inbox, warehouse=tmp_path / "wh", param_keys=("wd",))
    assert run_job(settings).status == "succeeded"
    assert query(settings, "select model, param, value from model_params order by model") == [
        ("m0", "wd", "0.1"),
        ("m1", "wd", "0.01"),
    ]
    assert "wd" not in [name for (name,) in query(settings, "select name from slice_columns")]
    assert query(settings, "select count(distinct model) from sweeps") == [(2,)]


def test_write_dump_params_are_metadata_and_checked(tmp_path):
    arguments = dict(sample_ids=np.arange(4), labels=[0, 1, 0, 1],
                     probs=np.full((4, 2), 0.5), split="test", model="m")  # fmt: skip
    path = write_dump(tmp_path / "d.parquet", **arguments, params={"lr": 1e-3, "deep": True})
    metadata = pq.read_schema(path).metadata[b"lossgram.params"]
    assert json.loads(metadata) == {"lr": 0.001, "deep": True}
    with pytest.raises(TypeError, match="params must map names"):
        write_dump(tmp_path / "e.parquet", **arguments, params={"layers": [1, 2]})
    assert not (tmp_path / "e.parquet").exists()


def test_a_dump_with_unreadable_params_is_rejected_naming_them(tmp_path):
    table = pl.DataFrame(
        {"sample_id": [0, 1], "label": [0, 1], "prob": [0.2, 0.9], "split": ["test"] * 2,
         "model": ["m"] * 2}
    ).to_arrow()  # fmt: skip
    path = tmp_path / "inbox" / NIGHT / "d.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table.replace_schema_metadata({"lossgram.params": "[1, 2]"}), path)
    summary = run_job(Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh"))
    (outcome,) = summary.outcomes
    assert outcome.status == "rejected" and "lossgram.params is not a JSON object" in str(
        outcome.error
    )


def test_no_sweep_without_two_models_sharing_parameters(tmp_path: Path):
    inbox = tmp_path / "inbox"
    for split in ("train", "test"):
        write_dump(inbox / NIGHT / f"{split}.parquet", sample_ids=np.arange(40),
                   labels=np.arange(40) % 2, probs=np.full((40, 2), 0.5), split=split,
                   model="one", params={"lr": 0.1})  # fmt: skip
    settings = Settings(inbox=inbox, warehouse=tmp_path / "wh")
    assert run_job(settings).status == "succeeded"
    assert query(settings, "select count(*) from sweeps") == [(0,)]
    assert query(settings, "select param, value from model_params") == [("lr", "0.1")]
