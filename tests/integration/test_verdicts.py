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
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from pipeline.analysis.verdicts import GOOD_FIT, OVERFIT, POSSIBLE_OVERFIT, UNDERFIT
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


def test_a_gap_over_the_threshold_without_evidence_is_possible_overfit_not_good_fit(tmp_path):
    """A 1-NN on digits with a 100-sample validation split: gap / H = 0.24 (over 0.10)
    but its interval reaches 0, and every wrong held-out sample sits at the clip cap
    (hard 0/1 probabilities). Once good_fit; now possible_overfit, saying both."""
    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=100, random_state=0, stratify=y
    )
    model = KNeighborsClassifier(n_neighbors=1).fit(x_train, y_train)
    inbox = tmp_path / "inbox"
    for split, features, labels in (("train", x_train, y_train), ("val", x_val, y_val)):
        path = inbox / "model=knn1" / f"split={split}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        probs = model.predict_proba(features)
        pl.DataFrame(
            {
                "sample_id": np.arange(len(labels)),
                "label": labels,
                "probs": pl.Series(probs, dtype=pl.Array(pl.Float64, 10)),
            }
        ).write_parquet(path)
    settings = Settings(inbox=inbox, warehouse=tmp_path / "wh")
    assert run_job(settings).status == "succeeded"
    with duckdb.connect(str(tmp_path / "wh" / "lossgram.duckdb"), read_only=True) as con:
        verdict, reason, low, gap, error_gap = con.execute(
            "select verdict, reason, gap_ci_low, gap, error_gap from verdicts"
        ).fetchone()
    errors = 1 - accuracy_score(y_val, model.predict(x_val))  # sklearn, the oracle
    assert errors == pytest.approx(0.02)
    assert verdict == POSSIBLE_OVERFIT and low <= 0 < gap
    assert gap == pytest.approx(errors * -np.log(settings.eps), rel=1e-9)
    assert error_gap == pytest.approx(
        errors - (1 - accuracy_score(y_train, model.predict(x_train)))
    )
    assert "reaches 0" in reason and "0 train and 2 held-out losses sit at the clip cap" in reason
    assert "a gap of +2.0 points" in reason
