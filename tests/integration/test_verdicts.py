"""Real scikit-learn models through the whole job get the right verdicts (the rules
alone: tests/unit/analysis/test_verdicts.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from pipeline.analysis.verdicts import GOOD_FIT, OVERFIT, UNDERFIT
from pipeline.nightly.driver import run_job
from pipeline.settings import Settings


def dump_model(inbox: Path, name: str, model, x_train, x_test, y_train, y_test) -> None:
    model.fit(x_train, y_train)
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        probs = model.predict_proba(x)
        path = inbox / f"model={name}" / f"split={split}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(
            {
                "sample_id": np.arange(len(y)),
                "label": y,
                "probs": pl.Series(probs, dtype=pl.Array(pl.Float64, probs.shape[1])),
            }
        ).write_parquet(path)


@pytest.mark.slow
def test_real_scikit_learn_models_get_the_right_verdicts(tmp_path):
    inbox = tmp_path / "inbox"
    digits_x, digits_y = load_digits(return_X_y=True)
    split = train_test_split(digits_x, digits_y, test_size=0.4, random_state=0, stratify=digits_y)
    dump_model(inbox, "deep_tree", DecisionTreeClassifier(random_state=0), *split)
    dump_model(
        inbox,
        "starved_logreg",
        make_pipeline(StandardScaler(), LogisticRegression(C=1e-4, max_iter=2000)),
        *split,
    )
    cancer_x, cancer_y = load_breast_cancer(return_X_y=True)
    cancer = train_test_split(cancer_x, cancer_y, test_size=0.4, random_state=0, stratify=cancer_y)
    dump_model(
        inbox,
        "tuned_logreg",
        make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
        *cancer,
    )

    summary = run_job(Settings(inbox=inbox, warehouse=tmp_path / "wh"))
    assert summary.status == "succeeded"
    database = str(tmp_path / "wh" / "lossgram.duckdb")
    with duckdb.connect(database, read_only=True) as con:
        verdicts = dict(con.execute("select model, verdict from verdicts").fetchall())
        tree = con.execute(
            "select mia_auc, normalised_gap from verdicts where model = 'deep_tree'"
        ).fetchone()
    assert verdicts == {"deep_tree": OVERFIT, "starved_logreg": UNDERFIT, "tuned_logreg": GOOD_FIT}
    assert tree[1] > 1.0  # huge gap...
    assert tree[0] > 0.5  # ...while AUC is only evidence
