"""Histograms, summaries, verdict numbers and the bootstrap CI against outside oracles, on
real warehouses (the statistics alone: tests/unit/analysis/test_statistics.py).

Oracles: numpy.histogram / numpy.percentile, scipy.stats (ks_2samp, wasserstein_distance,
entropy), sklearn.metrics (roc_auc_score, roc_curve) and hand-written numpy formulas.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax, softmax
from scipy.stats import entropy, ks_2samp, wasserstein_distance
from sklearn.metrics import roc_auc_score, roc_curve

from pipeline.analysis.aggregates import aggregate_snapshot, register_bin_scheme
from pipeline.analysis.bins import BinScheme, log_bin_scheme
from pipeline.base.options import ReportOptions
from pipeline.nightly.driver import rerun_job, run_job
from pipeline.report.data import model_report
from pipeline.report.pages import render_model_page
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.layout import PlacedFile
from pipeline.warehouse.ledger import commit_files
from tests.helpers.dumps import write_dump, write_hive_split

DATE = "2026-11-20"
EPS_CAP = 27.631021115928547  # -log(1e-12), the default eps cap
LOG_EDGES = log_bin_scheme().edges


# -- helpers ------------------------------------------------------------------------------


def loss_frame(
    ce: Any,
    split: str,
    labels: Any,
    *,
    epoch: int | None = None,
    weight: Any = None,
    model: str = "m",
    prefix: str = "",
) -> pl.DataFrame:
    """Per-sample loss rows as the warehouse stores them, with chosen ce values."""
    ce = np.asarray(ce, dtype=np.float64)
    n = len(ce)
    weights = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    return pl.DataFrame(
        {
            "sample_id": [f"{prefix}{split}-{i}" for i in range(n)],
            "model": [model] * n,
            "split": [split] * n,
            "epoch": pl.Series([epoch] * n, dtype=pl.Int64),
            "label": pl.Series(np.asarray(labels), dtype=pl.Int64),
            "weight": weights,
            "n_classes": pl.Series([3] * n, dtype=pl.Int32),
            "ce": ce,
            "p_true": np.exp(-ce),
            "pred": pl.Series([0] * n, dtype=pl.Int64),
            "correct": [True] * n,
            "confidence": np.full(n, 0.5),
            "clipped": [False] * n,
            "brier": np.full(n, 0.25),
        }
    )


@contextlib.contextmanager
def aggregated(
    root: Path, snapshots: dict[str, list[tuple[str, pl.DataFrame]]], config: Settings
) -> Iterator[tuple[duckdb.DuckDBPyConnection, BinScheme]]:
    """A warehouse whose losses Parquet is written by hand, then aggregated per snapshot.

    snapshots: date -> [(file name, loss rows of one model)].
    """
    warehouse = Warehouse(root)
    scheme = config.bin_scheme()
    placed = []
    for day, files in snapshots.items():
        snapshot_date = dt.date.fromisoformat(day)
        for name, frame in files:
            model = frame["model"][0]
            relative = f"{warehouse.layout.partition(snapshot_date, model)}/{name}"
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.with_columns(snapshot_date=pl.lit(snapshot_date)).write_parquet(path)
            placed.append(PlacedFile(relative, snapshot_date, model, name, frame.height))
    with warehouse.commit() as catalog:
        commit_files(catalog, "test", placed, None)
        warehouse.bind_losses_view(catalog)
        register_bin_scheme(catalog, scheme)
        for day in snapshots:
            analysis = config.analysis_options()
            aggregate_snapshot(catalog, dt.date.fromisoformat(day), analysis, scheme)
    connection = warehouse.connect()
    try:
        yield connection, scheme
    finally:
        connection.close()


def frame_of(connection: duckdb.DuckDBPyConnection, query: str, **params: Any) -> pl.DataFrame:
    frame = pl.from_arrow(connection.sql(query, params=params).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def stored_edges(connection: duckdb.DuckDBPyConnection, scheme_id: str) -> np.ndarray:
    """Lower edges from bin_schemes, plus +inf: the numpy.histogram bins."""
    rows = connection.execute(
        "SELECT bin, lower, upper FROM bin_schemes WHERE scheme_id = ? ORDER BY bin", [scheme_id]
    ).fetchall()
    assert [row[0] for row in rows] == list(range(len(rows)))
    assert all(upper == following[1] for (_, _, upper), following in itertools.pairwise(rows))
    assert rows[-1][2] == math.inf
    return np.array([row[1] for row in rows] + [math.inf])


Key = tuple[str, str, int | None, int | None]  # model, split, epoch, label (None = all)


def dense_histograms(
    connection: duckdb.DuckDBPyConnection, day: str, n_bins: int
) -> dict[Key, dict[str, np.ndarray]]:
    """histograms rows of one snapshot as dense count / weight_sum / fraction vectors."""
    frame = frame_of(
        connection,
        "SELECT model, split, epoch, label, bin, count, weight_sum, fraction FROM histograms "
        "WHERE snapshot_date = $day::DATE",
        day=day,
    )
    out: dict[Key, dict[str, np.ndarray]] = {}
    for row in frame.iter_rows(named=True):
        key = (row["model"], row["split"], row["epoch"], row["label"])
        vectors = out.setdefault(
            key, {name: np.zeros(n_bins) for name in ("count", "weight_sum", "fraction")}
        )
        assert vectors["count"][row["bin"]] == 0, f"bin {row['bin']} of {key} stored twice"
        for name in vectors:
            vectors[name][row["bin"]] = row[name]
    return out


def edge_values(edges: tuple[float, ...]) -> np.ndarray:
    """Every edge, its neighbours one ulp either side, 0, the eps cap, 100 and beyond."""
    finite = np.array(edges, dtype=np.float64)
    values = np.concatenate(
        [
            finite,
            np.nextafter(finite[1:], -np.inf),
            np.nextafter(finite, np.inf),
            [0.0, 1e-4, 0.1 * 3, EPS_CAP, 27.63, 100.0, 250.0, 1e6, 1e-300],
        ]
    )
    rng = np.random.default_rng(7)
    spread = np.exp(rng.uniform(np.log(1e-6), np.log(400.0), 500))
    return np.concatenate([values, spread])


def write_logit_dump(
    path: Path,
    logits: np.ndarray,
    labels: np.ndarray,
    split: str,
    model: str = "m",
    first_id: int = 0,
) -> Path:
    n, n_classes = logits.shape
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "sample_id": np.arange(first_id, first_id + n),
            "label": labels,
            "logits": pl.Series(logits, dtype=pl.Array(pl.Float64, n_classes)),
            "split": [split] * n,
            "model": [model] * n,
        }
    ).write_parquet(path)
    return path


def write_prob_dump(
    path: Path, probs: np.ndarray, labels: np.ndarray, split: str, model: str
) -> Path:
    n, n_classes = probs.shape
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "sample_id": np.arange(n),
            "label": labels,
            "probs": pl.Series(probs, dtype=pl.Array(pl.Float64, n_classes)),
            "split": [split] * n,
            "model": [model] * n,
        }
    ).write_parquet(path)
    return path


def open_read_only(root: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(root / "lossgram.duckdb"), read_only=True)


def check_histograms(
    connection: duckdb.DuckDBPyConnection, scheme: BinScheme, day: str = DATE
) -> int:
    """Every stored histogram of `day` against numpy.histogram of the losses view's ce.

    Returns the number of groups checked.
    """
    edges = stored_edges(connection, scheme.scheme_id)
    np.testing.assert_array_equal(edges[:-1], np.array(scheme.edges))
    n_bins = len(edges) - 1
    stored = dense_histograms(connection, day, n_bins)
    losses = frame_of(
        connection,
        "SELECT model, split, epoch, label, ce, weight FROM losses "
        "WHERE snapshot_date = $day::DATE",
        day=day,
    )
    expected_keys = set()
    for (model, split, epoch), group in losses.group_by(
        "model", "split", "epoch", maintain_order=True
    ):
        per_label = [(None, group)] + [
            (label, part) for (label,), part in group.group_by("label") if label is not None
        ]
        for label, part in per_label:
            key = (model, split, epoch, label)
            expected_keys.add(key)
            ce, weight = part["ce"].to_numpy(), part["weight"].to_numpy()
            counts, _ = np.histogram(ce, bins=edges)
            weights, _ = np.histogram(ce, bins=edges, weights=weight)
            assert key in stored, f"no histogram for {key}"
            np.testing.assert_array_equal(stored[key]["count"], counts, err_msg=str(key))
            np.testing.assert_allclose(stored[key]["weight_sum"], weights, rtol=1e-12)
            np.testing.assert_allclose(stored[key]["fraction"], counts / len(ce), rtol=1e-12)
            assert stored[key]["fraction"].sum() == pytest.approx(1.0, abs=1e-12)
        # per-class histograms add up to the all-classes one
        classes = [
            v for k, v in stored.items() if k[:3] == (model, split, epoch) and k[3] is not None
        ]
        total = np.sum([v["count"] for v in classes], axis=0)
        np.testing.assert_array_equal(total, stored[(model, split, epoch, None)]["count"])
    assert set(stored) == expected_keys
    return len(expected_keys)


# -- 1. histograms vs numpy.histogram ------------------------------------------------------


@pytest.mark.parametrize("bins", ["log", "linear"])
def test_histogram_counts_match_numpy_on_edges(tmp_path: Path, bins: str) -> None:
    config = Settings(bins=bins)
    values = edge_values(config.bin_scheme().edges)
    rng = np.random.default_rng(11)
    rng.shuffle(values)
    half = len(values) // 2
    labels = rng.integers(0, 3, len(values))
    weights = rng.uniform(0.0, 3.0, len(values))
    snapshot = [
        ("train.parquet", loss_frame(values[:half], "train", labels[:half], weight=weights[:half])),
        ("test.parquet", loss_frame(values[half:], "test", labels[half:], weight=weights[half:])),
        ("train5.parquet", loss_frame(values[:50], "train", labels[:50], epoch=5, prefix="e5")),
    ]
    with aggregated(tmp_path / "wh", {DATE: snapshot}, config) as (connection, scheme):
        assert check_histograms(connection, scheme) == 3 * 4
        # the rows really cover the awkward values: the first and last bins are used
        row = connection.execute(
            "SELECT min(bin), max(bin), sum(count) FROM histograms WHERE label IS NULL"
        ).fetchone()
        assert row == (0, len(scheme.edges) - 1, len(values) + 50)


def test_histogram_bins_of_exact_edges(tmp_path: Path) -> None:
    """A value on an edge opens the upper bin: [lower, upper)."""
    edges = LOG_EDGES
    picks = [0.0, 1e-4, 1e-3, 1.0, EPS_CAP, 100.0, 250.0]
    ce = np.array(picks)
    with aggregated(
        tmp_path / "wh", {DATE: [("t.parquet", loss_frame(ce, "test", [0] * len(ce)))]}, Settings()
    ) as (connection, _):
        got = connection.execute(
            "SELECT lower, upper, count FROM histograms WHERE label IS NULL ORDER BY bin"
        ).fetchall()
    expected_bins = {edges.index(v) for v in (0.0, 1e-4, 1e-3, 1.0, 100.0)}
    cap_bin = int(np.searchsorted(edges, EPS_CAP, side="right") - 1)
    assert edges[cap_bin] <= EPS_CAP < edges[cap_bin + 1]
    expected = sorted(expected_bins | {cap_bin})
    assert [lower for lower, _, _ in got] == [edges[b] for b in expected]
    assert got[-1] == (100.0, math.inf, 2)  # 100 and 250
    assert got[0] == (0.0, 1e-4, 1)


def test_histograms_end_to_end_match_numpy(tmp_path: Path) -> None:
    """Through run_job: logits (incl. exact-zero losses) and probs (incl. the eps cap)."""
    rng = np.random.default_rng(3)
    inbox = tmp_path / "inbox" / DATE
    n = 300
    logits = rng.normal(size=(n, 4)) * rng.choice([0.5, 3.0, 40.0], size=(n, 1))
    labels = rng.integers(0, 4, n)
    logits[:10] = 0.0
    logits[:10, 0] = 1000.0  # ce exactly 0 for label 0 rows
    labels[:10] = 0
    write_logit_dump(inbox / "train.parquet", logits, labels, "train")
    write_logit_dump(inbox / "test.parquet", logits[::-1] * 0.5, labels, "test")
    probs = softmax(rng.normal(size=(80, 3)), axis=1)
    plabels = rng.integers(0, 3, 80)
    probs[:7] = 0.5
    probs[np.arange(7), plabels[:7]] = 0.0  # clipped at eps: ce = -log(1e-12)
    write_prob_dump(inbox / "p-train.parquet", probs, plabels, "train", "p")
    config = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    summary = run_job(config)
    assert summary.status == "succeeded", summary.error
    with contextlib.closing(open_read_only(tmp_path / "wh")) as connection:
        assert check_histograms(connection, log_bin_scheme()) == 2 * 5 + 4
        capped = connection.execute(
            "SELECT count FROM histograms WHERE model = 'p' AND label IS NULL "
            "AND lower <= ? AND ? < upper",
            [EPS_CAP, EPS_CAP],
        ).fetchone()
        assert capped is not None and capped[0] >= 7
        zero = connection.execute(
            "SELECT count FROM histograms WHERE model = 'm' AND split = 'train' "
            "AND label IS NULL AND bin = 0"
        ).fetchone()
        assert zero is not None and zero[0] >= 10


# -- 2. merging ------------------------------------------------------------------------------

ce_values = st.one_of(
    st.sampled_from(LOG_EDGES), st.floats(0.0, 400.0, allow_nan=False, allow_infinity=False)
)
shard = st.lists(
    st.tuples(ce_values, st.integers(0, 2), st.floats(0.0, 5.0)), min_size=1, max_size=30
)


def shard_frame(rows: list[tuple[float, int, float]], split: str, prefix: str) -> pl.DataFrame:
    ce, labels, weights = zip(*rows, strict=True)
    return loss_frame(ce, split, labels, weight=weights, prefix=prefix)


@pytest.mark.slow
@settings(max_examples=20)  # deadline: none, from the profile in tests/conftest.py
@given(first=shard, second=shard, other=shard)
def test_histograms_of_shards_add_up_to_the_union(first, second, other) -> None:
    a = shard_frame(first, "train", "a")
    b = shard_frame(second, "train", "b")
    t = shard_frame(other, "test", "t")
    snapshots = {
        "2026-11-01": [("a.parquet", a), ("t.parquet", t)],
        "2026-11-02": [("b.parquet", b)],
        "2026-11-03": [("a.parquet", a), ("b.parquet", b), ("t.parquet", t)],
    }
    n_bins = len(LOG_EDGES)
    with (
        tempfile.TemporaryDirectory() as folder,
        aggregated(Path(folder), snapshots, Settings()) as (connection, _),
    ):
        one = dense_histograms(connection, "2026-11-01", n_bins)
        two = dense_histograms(connection, "2026-11-02", n_bins)
        union = dense_histograms(connection, "2026-11-03", n_bins)
    assert set(union) == set(one) | set(two)
    zeros = {name: np.zeros(n_bins) for name in ("count", "weight_sum")}
    for key, merged in union.items():
        left, right = one.get(key, zeros), two.get(key, zeros)
        np.testing.assert_array_equal(merged["count"], left["count"] + right["count"])
        np.testing.assert_allclose(
            merged["weight_sum"], left["weight_sum"] + right["weight_sum"], rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(merged["fraction"], merged["count"] / merged["count"].sum())


def test_two_dump_files_and_two_snapshots_merge_end_to_end(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    first = (rng.normal(size=(120, 3)) * 2, rng.integers(0, 3, 120))
    second = (rng.normal(size=(90, 3)) * 5, rng.integers(0, 3, 90))
    inbox = tmp_path / "inbox"
    write_logit_dump(inbox / "2026-11-20" / "a.parquet", *first, "train")
    # Two shards of one split: their samples are distinct (a sample counts once a night).
    write_logit_dump(inbox / "2026-11-21" / "b.parquet", *second, "train", first_id=1000)
    write_logit_dump(inbox / "2026-11-22" / "a.parquet", *first, "train")
    write_logit_dump(inbox / "2026-11-22" / "b.parquet", *second, "train", first_id=1000)
    summary = run_job(Settings(inbox=inbox, warehouse=tmp_path / "wh"))
    assert summary.status == "succeeded", summary.error
    n_bins = len(LOG_EDGES)
    with contextlib.closing(open_read_only(tmp_path / "wh")) as connection:
        one = dense_histograms(connection, "2026-11-20", n_bins)
        two = dense_histograms(connection, "2026-11-21", n_bins)
        union = dense_histograms(connection, "2026-11-22", n_bins)
    assert set(union) == set(one) == set(two)
    assert sum(v["count"].sum() for k, v in union.items() if k[3] is None) == 210
    for key, merged in union.items():
        np.testing.assert_array_equal(merged["count"], one[key]["count"] + two[key]["count"])


# -- 3. summaries vs numpy -------------------------------------------------------------------


def ece_oracle(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error, Guo et al. 2017: sum_b |acc_b - conf_b| * n_b / n."""
    bounds = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(bounds):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            gap = abs(correct[inside].mean() - confidence[inside].mean())
            total += gap * inside.sum() / len(confidence)
    return total


def summary_oracle(probs: np.ndarray, labels: np.ndarray, eps: float = 1e-12) -> dict[str, Any]:
    n, n_classes = probs.shape
    p_true = probs[np.arange(n), labels]
    ce = -np.log(np.maximum(p_true, eps))
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    onehot = np.eye(n_classes)[labels]
    return {
        "n": n,
        "mean_ce": ce.mean(),
        "std_ce": ce.std(ddof=0),
        "median_ce": np.percentile(ce, 50),
        "p90_ce": np.percentile(ce, 90),
        "p99_ce": np.percentile(ce, 99),
        "max_ce": ce.max(),
        "accuracy": correct.mean(),
        "mean_confidence": confidence.mean(),
        "ece": ece_oracle(confidence, correct),
        "brier": ((probs - onehot) ** 2).sum(axis=1).mean(),
        "clipped": int((p_true < eps).sum()),
        "n_classes": n_classes,
        "ln_c": math.log(n_classes),
        "label_entropy": entropy(np.bincount(labels, minlength=n_classes)),
    }


def test_summaries_match_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(17)
    inbox = tmp_path / "inbox" / DATE
    cases: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for split, n, scale in (("train", 500, 4.0), ("test", 350, 1.0)):
        logits = rng.normal(size=(n, 5)) * scale
        labels = rng.choice(5, size=n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
        write_logit_dump(inbox / f"{split}.parquet", logits, labels, split)
        cases[("m", split)] = (softmax(logits, axis=1), labels)
    probs = softmax(rng.normal(size=(200, 3)) * 2, axis=1)
    labels = rng.integers(0, 3, 200)
    probs[:9, :] = 0.5
    probs[np.arange(9), labels[:9]] = 0.0  # nine rows clipped at eps
    write_prob_dump(inbox / "p.parquet", probs, labels, "train", "p")
    cases[("p", "train")] = (probs, labels)

    assert run_job(Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")).status == (
        "succeeded"
    )
    with contextlib.closing(open_read_only(tmp_path / "wh")) as connection:
        summaries = frame_of(connection, "SELECT * FROM summaries")
    assert summaries.height == len(cases)
    for row in summaries.iter_rows(named=True):
        assert row["snapshot_date"] == dt.date.fromisoformat(DATE)
        assert row["epoch"] is None
        expected = summary_oracle(*cases[(row["model"], row["split"])])
        for name, value in expected.items():
            if isinstance(value, int):
                assert row[name] == value, (row["model"], row["split"], name)
            else:
                assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-12), (
                    row["model"],
                    row["split"],
                    name,
                )
    clipped = summaries.filter(pl.col("model") == "p")
    assert clipped["clipped"][0] == 9
    assert clipped["max_ce"][0] == pytest.approx(EPS_CAP, rel=1e-15)


# -- 4. verdict numbers vs scipy / sklearn ---------------------------------------------------


def tpr_at_fpr_oracle(member: np.ndarray, ce: np.ndarray, max_fpr: float = 0.01) -> float:
    fpr, tpr, _ = roc_curve(member, -ce, drop_intermediate=False)
    return float(tpr[fpr <= max_fpr].max())


def verdict_case(kind: str, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, ...]]:
    """Logits and labels for train and test; 'ties' repeats a small pool of rows."""
    n_train, n_test, n_classes = 400, 300, 3
    if kind == "ties":
        pool = rng.integers(-2, 3, size=(12, n_classes)).astype(np.float64)
        pool_labels = rng.integers(0, n_classes, 12)
        train = rng.integers(0, 12, n_train)
        test = rng.integers(0, 8, n_test)  # overlapping, not identical, pools
        return {
            "train": (pool[train], pool_labels[train]),
            "test": (pool[test], pool_labels[test]),
        }
    if kind == "identical":
        labels = rng.integers(0, n_classes, n_train)
        logits = rng.normal(size=(n_train, n_classes)) * 2
        logits[np.arange(n_train), labels] += 3.0
        return {"train": (logits, labels), "test": (logits.copy(), labels.copy())}
    # an overfitting model: confident and right on train, much less so on test
    labels = rng.integers(0, n_classes, n_train)
    logits = rng.normal(size=(n_train, n_classes))
    logits[np.arange(n_train), labels] += 4.0
    test_labels = rng.integers(0, n_classes, n_test)
    test_logits = rng.normal(size=(n_test, n_classes)) * 2
    test_logits[np.arange(n_test), test_labels] += 1.0
    return {"train": (logits, labels), "test": (test_logits, test_labels)}


@pytest.mark.parametrize("kind", ["ties", "identical", "overfit"])
def test_verdict_numbers_match_scipy_and_sklearn(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(23)
    data = verdict_case(kind, rng)
    inbox = tmp_path / "inbox" / DATE
    for split, (logits, labels) in data.items():
        write_logit_dump(inbox / f"{split}.parquet", logits, labels, split)
    config = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh", seed=42)
    assert run_job(config).status == "succeeded"

    with contextlib.closing(open_read_only(tmp_path / "wh")) as connection:
        verdict = frame_of(connection, "SELECT * FROM verdicts").row(0, named=True)
        losses = frame_of(connection, "SELECT split, ce FROM losses")
    train = losses.filter(pl.col("split") == "train")["ce"].to_numpy()
    test = losses.filter(pl.col("split") == "test")["ce"].to_numpy()
    if kind == "ties":
        assert len(np.intersect1d(train, test)) >= 5  # ties across splits
        assert len(np.unique(train)) < 20
    ce = np.concatenate([train, test])
    member = np.concatenate([np.ones(len(train)), np.zeros(len(test))])
    prior = entropy(np.bincount(data["train"][1], minlength=3))

    assert verdict["heldout_split"] == "test" and verdict["reference_split"] == "train"
    assert (verdict["n_reference"], verdict["n_heldout"]) == (len(train), len(test))
    assert verdict["mean_reference"] == pytest.approx(train.mean(), rel=1e-12)
    assert verdict["mean_heldout"] == pytest.approx(test.mean(), rel=1e-12)
    gap = test.mean() - train.mean()
    assert verdict["gap"] == pytest.approx(gap, rel=1e-9, abs=1e-12)
    assert verdict["label_entropy"] == pytest.approx(prior, rel=1e-12)
    assert verdict["normalised_gap"] == pytest.approx(gap / prior, rel=1e-9, abs=1e-12)
    assert verdict["ln_c"] == pytest.approx(math.log(3))
    assert verdict["ks"] == pytest.approx(ks_2samp(train, test).statistic, abs=1e-12)
    assert verdict["wasserstein"] == pytest.approx(wasserstein_distance(train, test), abs=1e-9)
    assert verdict["mia_auc"] == pytest.approx(roc_auc_score(member, -ce), abs=1e-12)
    assert verdict["tpr_at_1pct_fpr"] == pytest.approx(tpr_at_fpr_oracle(member, ce), abs=1e-12)
    assert verdict["gap_ci_low"] <= verdict["gap"] <= verdict["gap_ci_high"]
    if kind == "identical":
        assert verdict["ks"] == 0 and verdict["mia_auc"] == 0.5
        assert verdict["gap"] == pytest.approx(0.0, abs=1e-12)
        assert verdict["verdict"] == "good_fit"
    if kind == "overfit":
        assert verdict["gap_ci_low"] > 0 and verdict["verdict"] == "overfit"

    # the CI is seeded: a rerun of the date gives the very same interval
    again = rerun_job(config, dt.date.fromisoformat(DATE))
    assert again.status == "succeeded", again.error
    with contextlib.closing(open_read_only(tmp_path / "wh")) as connection:
        rerun = frame_of(connection, "SELECT gap_ci_low, gap_ci_high FROM verdicts").row(0)
    assert rerun == (verdict["gap_ci_low"], verdict["gap_ci_high"])


def test_tpr_at_1pct_fpr_on_a_hand_case(tmp_path: Path) -> None:
    """100 held-out losses 1..100 and members at 0.5, 1 (a tie), 1.5, 50: at <= 1% FPR the
    threshold may pass one held-out sample (loss 1) and so reach loss 1.5: TPR = 3/4."""
    test = np.arange(1.0, 101.0)
    train = np.array([0.5, 1.0, 1.5, 50.0])
    snapshot = [
        ("train.parquet", loss_frame(train, "train", [0, 1, 2, 0])),
        ("test.parquet", loss_frame(test, "test", np.arange(100) % 3)),
    ]
    with aggregated(tmp_path / "wh", {DATE: snapshot}, Settings(min_samples=1)) as (
        connection,
        _,
    ):
        row = connection.execute("SELECT tpr_at_1pct_fpr, mia_auc, ks FROM verdicts").fetchone()
    member = np.r_[np.ones(4), np.zeros(100)]
    ce = np.r_[train, test]
    assert row is not None
    assert row[0] == pytest.approx(tpr_at_fpr_oracle(member, ce)) == pytest.approx(0.75)
    assert row[1] == pytest.approx(roc_auc_score(member, -ce))
    assert row[2] == pytest.approx(ks_2samp(train, test).statistic)


def test_gap_ci_does_not_depend_on_file_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(29)
    a = loss_frame(rng.exponential(0.3, 200), "train", rng.integers(0, 3, 200), prefix="a")
    b = loss_frame(rng.exponential(0.3, 200), "train", rng.integers(0, 3, 200), prefix="b")
    t = loss_frame(rng.exponential(0.6, 300), "test", rng.integers(0, 3, 300))
    intervals = []
    for name, (first, second) in {"one": (a, b), "two": (b, a)}.items():
        files = [("1.parquet", first), ("2.parquet", second), ("t.parquet", t)]
        with aggregated(tmp_path / name, {DATE: files}, Settings(seed=3)) as (connection, _):
            intervals.append(
                connection.execute("SELECT gap_ci_low, gap_ci_high FROM verdicts").fetchone()
            )
    assert intervals[0] == pytest.approx(intervals[1], rel=1e-12)


# -- the weighted mean ------------------------------------------------------------------


def torch_weighted_mean(logits, labels, weights, smoothing=0.0, soft=None):
    """PyTorch's cross_entropy(reduction='mean', weight=w, label_smoothing=e), written
    out from its documentation with scipy: hard targets divide the summed loss by the
    sum of w_y, class-probability targets by N."""
    log_p = log_softmax(logits, axis=1)
    c = logits.shape[1]
    if soft is not None:
        target = (1 - smoothing) * soft + smoothing / c
        return float((-(target * weights * log_p).sum(axis=1)).sum() / len(logits))
    w_y = weights[labels]
    nll = -log_p[np.arange(len(labels)), labels]
    smooth = -(weights * log_p).sum(axis=1)
    per_sample = (1 - smoothing) * w_y * nll + smoothing / c * smooth
    return float(per_sample.sum() / w_y.sum())


@pytest.mark.parametrize(
    ("smoothing", "soft"), [(0.0, False), (0.1, False), (0.0, True), (0.2, True)]
)
def test_weighted_mean_is_pytorchs_mean_with_class_weights(tmp_path, smoothing, soft):
    """summaries.mean_ce is the plain mean of the stored w_y * ce; weighted_mean_ce is
    the number a training loop's loss shows. Once only the former: 37% apart on a
    weighted night."""
    rng = np.random.default_rng(11)
    weights = np.array([0.2, 1.0, 3.0])
    settings = Settings(
        inbox=tmp_path / "inbox",
        warehouse=tmp_path / "wh",
        class_weights=tuple(weights),
        label_smoothing=smoothing,
    )
    expected = {}
    for split, n in (("train", 300), ("test", 200)):
        labels = rng.choice(3, n, p=[0.6, 0.3, 0.1])
        logits = rng.normal(size=(n, 3)) * 2
        columns = {"sample_id": np.arange(n), "logits": logits, "split": [split] * n}
        targets = None
        if soft:
            targets = softmax(rng.normal(size=(n, 3)) * 3, axis=1)
            columns["label_probs"] = targets
        else:
            columns["label"] = labels
        write_dump(settings.inbox / DATE / f"{split}.parquet", {**columns, "model": ["m"] * n})
        expected[split] = torch_weighted_mean(logits, labels, weights, smoothing, targets)
    assert run_job(settings).status == "succeeded"
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select split, weighted_mean_ce, mean_ce, n from summaries order by split"
        ).fetchall()
        total = dict(con.execute("select split, sum(ce) from losses group by split").fetchall())
    for split, weighted, plain, n in rows:
        assert weighted == pytest.approx(expected[split], rel=1e-9, abs=1e-12)
        assert plain == pytest.approx(total[split] / n, rel=1e-12)  # the stored ce's mean
        if soft:  # class-probability targets: PyTorch divides by N
            assert weighted == pytest.approx(plain, rel=1e-12)
        else:
            assert abs(weighted - plain) > 0.05 * plain  # they do differ
    assert ('<th class="">weighted_mean_ce</th>' in model_page(settings)) is not soft


def test_without_class_weights_the_two_means_agree(tmp_path):
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    for seed, split in enumerate(("train", "test")):
        write_hive_split(settings.inbox, DATE, "m", split, n=120, seed=seed)
    assert run_job(settings).status == "succeeded"
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        pairs = con.execute("select weighted_mean_ce, mean_ce from summaries").fetchall()
    assert len(pairs) == 2 and all(w == pytest.approx(m, rel=1e-12) for w, m in pairs)
    assert "weighted_mean_ce" not in model_page(settings)  # the same number, shown once


def model_page(settings: Settings) -> str:
    with Warehouse(settings.warehouse).reading() as connection:
        report = model_report(connection, dt.date.fromisoformat(DATE), "m", ReportOptions())
    return render_model_page(report)
