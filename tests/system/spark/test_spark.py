"""The Spark engine gives the embedded engine's warehouse: the same per-sample losses
bit for bit, histogram counts, summaries, rejected dumps with their messages, and
verdicts; on a real standalone cluster too, where a lost executor's task is run again
and a driver killed mid-run leaves the warehouse as it was."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline.analysis.sketches import FINE_RELATIVE_WIDTH
from pipeline.base.results import RunSummary
from pipeline.nightly.driver import rerun_job, run_job
from pipeline.nightly.job_options import open_warehouse
from pipeline.report.writing import write_reports
from pipeline.settings import Settings
from pipeline.warehouse.catalog import reading
from pipeline.writer import write_dump
from tests.helpers.dumps import write_mixed_slice_night
from tests.helpers.spark_cluster import FAST_JVM, fast_conf_setting, spark_env, standalone_cluster

DAY = "2026-11-20"
CLASSES = ["cat", "dog", "cow", "emu"]


def write_night(inbox: Path, day: str = DAY, seed: int = 0) -> None:
    """Several models, epochs and both splits; string class names with weights; probs;
    a model in eight part files (Spark's out.parquet/ layout); one bad dump."""
    rng = np.random.default_rng(seed)
    folder = inbox / day

    def scores(n: int, classes: int, signal: float) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, classes, n)
        logits = rng.normal(size=(n, classes))
        logits[np.arange(n), labels] += signal
        return labels, logits

    for epoch in (1, 2, 3):
        for split, signal in (("train", 1.0 + epoch), ("test", 1.5)):
            labels, logits = scores(400, 5, signal)
            write_dump(
                folder / f"mlp-{split}-{epoch}.parquet",
                sample_ids=np.arange(400),
                labels=labels,
                logits=logits,
                split=split,
                model="mlp",
                epoch=epoch,
            )
    for split in ("train", "test"):
        labels, logits = scores(300, 4, 2.0)
        write_dump(
            folder / f"tree-{split}.parquet",
            sample_ids=[f"s{i}" for i in range(300)],
            labels=[CLASSES[k] for k in labels],
            logits=logits,
            classes=CLASSES,
            weights=rng.uniform(0.5, 2.0, 300),
            split=split,
            model="tree",
            dtype="float64",
        )
        labels, logits = scores(250, 3, 0.3)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        write_dump(
            folder / f"logreg-{split}.parquet",
            sample_ids=np.arange(250),
            labels=labels,
            probs=probs,
            split=split,
            model="logreg",
        )
    for part in range(8):
        labels, logits = scores(100, 3, 1.0)
        write_dump(
            folder / "lm.parquet" / f"part-{part:05d}.parquet",
            sample_ids=np.arange(part * 100, part * 100 + 100),
            labels=labels,
            logits=logits,
            split="test",
            model="lm",
        )
    labels, logits = scores(100, 3, 1.0)  # ids 50..149 of lm's test parts 0 and 1 again
    write_dump(
        folder / "lmx-again.parquet",
        sample_ids=np.arange(50, 150),
        labels=labels,
        logits=logits,
        split="test",
        model="lm",
    )
    labels, logits = scores(100, 3, 1.0)
    write_dump(
        folder / "lm-train.parquet",
        sample_ids=np.arange(100),
        labels=labels,
        logits=logits,
        split="train",
        model="lm",
    )
    bad = pl.read_parquet(folder / "mlp-test-1.parquet").with_columns(
        model=pl.lit("broken"), logits=pl.col("logits").arr.eval(pl.element() * float("nan"))
    )
    bad.write_parquet(folder / "broken.parquet")


TABLES = {
    "losses": "select * exclude (snapshot_date) from losses",
    "histograms": "select * exclude (run_id) from histograms",
    "summaries": "select * exclude (run_id) from summaries",
    "verdicts": "select * exclude (run_id) from verdicts",
    "ingested_files": "select path, status, rows, rows_ignored, rows_rejected, error, sha256 "
    "from ingested_files",
}


def tables(warehouse: Path) -> dict[str, pl.DataFrame]:
    with reading(warehouse) as con:
        frames = {name: con.sql(query).pl() for name, query in TABLES.items()}
    return {name: frame.sort(frame.columns, nulls_last=True) for name, frame in frames.items()}


QUANTILE_COLUMNS = ["median_ce", "p90_ce", "p99_ce"]
DISTANCE_COLUMNS = ["ks", "wasserstein", "mia_auc", "tpr_at_1pct_fpr", "gap_ci_low", "gap_ci_high"]
CI = re.compile(r"\[-?[0-9.]+, -?[0-9.]+\]")


def assert_same_warehouse(embedded: Path, spark: Path) -> None:
    """Losses bit for bit, histogram counts exact, summaries within 1e-9 (quantiles within
    one fine bin), verdicts the same with statistics within the sketches' bounds."""
    one, other = tables(embedded), tables(spark)
    assert_frame_equal(one["losses"], other["losses"])  # bit for bit
    assert_frame_equal(one["ingested_files"], other["ingested_files"])
    exact = ["model", "split", "epoch", "label", "scheme_id", "bin", "lower", "upper", "count"]
    assert_frame_equal(one["histograms"].select(exact), other["histograms"].select(exact))
    assert_frame_equal(one["histograms"], other["histograms"], rel_tol=1e-9, abs_tol=1e-12)
    assert_frame_equal(
        one["summaries"].drop(QUANTILE_COLUMNS),
        other["summaries"].drop(QUANTILE_COLUMNS),
        rel_tol=1e-9,
        abs_tol=1e-12,
    )
    for column in QUANTILE_COLUMNS:
        np.testing.assert_allclose(
            other["summaries"][column], one["summaries"][column], rtol=FINE_RELATIVE_WIDTH
        )
    left, right = one["verdicts"], other["verdicts"]
    same = ["model", "heldout_split", "verdict", "hints", "epoch", "n_reference", "n_heldout"]
    assert_frame_equal(left.select(same), right.select(same))
    assert left["reason"].str.replace_all(CI.pattern, "[CI]").to_list() == (
        right["reason"].str.replace_all(CI.pattern, "[CI]").to_list()
    )
    assert_frame_equal(
        left.drop(*DISTANCE_COLUMNS, "reason", "run_id", strict=False),
        right.drop(*DISTANCE_COLUMNS, "reason", "run_id", strict=False),
        rel_tol=1e-9,
        abs_tol=1e-12,
    )
    for column in DISTANCE_COLUMNS[:4]:  # within the sketch bounds (test_sketches.py)
        np.testing.assert_allclose(right[column], left[column], atol=0.02)
    # The bootstrap draws bins instead of losses: another random draw of the same CI.
    width = (left["gap_ci_high"] - left["gap_ci_low"]).to_numpy()
    for column in ("gap_ci_low", "gap_ci_high"):
        assert (np.abs((right[column] - left[column]).to_numpy()) <= 0.25 * width).all()


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, RunSummary]:
    """write_night's inbox and the embedded engine's warehouse of it, made once: what the
    Spark runs read (the same paths, so their ledgers match) and are held to."""
    root = tmp_path_factory.mktemp("night")
    write_night(root / "inbox")
    embedded = run_job(Settings(inbox=root / "inbox", warehouse=root / "duckdb"))
    return root / "inbox", root / "duckdb", embedded


def test_both_engines_give_the_same_warehouse(spark, night, tmp_path):
    inbox, reference, embedded = night
    on_spark = run_job(Settings(inbox=inbox, warehouse=tmp_path / "spark"), spark=spark)
    assert embedded.status == on_spark.status == "partial"
    broken, again = sorted(
        (o for o in on_spark.outcomes if o.status == "rejected"), key=lambda o: o.path.name
    )
    assert broken.path.name == "broken.parquet" and "contains NaN or inf" in str(broken.error)
    assert again.path.name == "lmx-again.parquet" and (
        "100 sample_ids of (model=lm, split=test, epoch=None) are already counted from "
        f"{inbox / DAY / 'lm.parquet' / 'part-00000.parquet'}"
    ) in str(again.error)
    assert [o.error for o in embedded.outcomes] == [o.error for o in on_spark.outcomes]
    assert on_spark.files_ingested == 6 + 4 + 8 + 1
    assert_same_warehouse(reference, tmp_path / "spark")
    with reading(tmp_path / "spark") as con:  # the night's lineage names the engine
        [(stored,)] = con.sql("select settings from job_runs").fetchall()
    assert json.loads(stored)["engine"] == "spark"
    verdicts = tables(tmp_path / "spark")["verdicts"]
    assert set(verdicts["model"]) == {"mlp", "tree", "logreg", "lm"}
    # The README's Spark SQL recipe over the Parquet copies of the aggregate tables.
    exported = tmp_path / "spark" / "tables"
    spark.sql(
        f"CREATE OR REPLACE TEMPORARY VIEW lossgram_verdicts USING parquet "
        f"OPTIONS (path '{exported / 'verdicts'}')"
    )
    rows = spark.sql("SELECT snapshot_date, model, verdict FROM lossgram_verdicts").collect()
    assert sorted((str(r.snapshot_date), r.model, r.verdict) for r in rows) == sorted(
        (str(d), m, v) for d, m, v in verdicts.select("snapshot_date", "model", "verdict").rows()
    )
    histograms = spark.read.parquet(str(exported / "histograms"))
    assert histograms.count() == tables(tmp_path / "spark")["histograms"].height

    # rerun and backfill take the same engine
    night = dt.date.fromisoformat(DAY)
    again = rerun_job(Settings(inbox=inbox, warehouse=tmp_path / "spark"), night, spark=spark)
    assert again.status == "partial" and again.files_ingested == on_spark.files_ingested
    assert_same_warehouse(reference, tmp_path / "spark")
    backfill = Settings(inbox=inbox, warehouse=tmp_path / "backfill")
    filled = run_job(backfill, date_range=(night, night), command="backfill", spark=spark)
    assert filled.status == "partial"
    assert_same_warehouse(reference, tmp_path / "backfill")


def test_a_night_of_mixed_slice_columns_gets_every_page_on_spark(spark, tmp_path):
    """One model with a slice column, one without, landed by Spark: both pages render."""
    write_mixed_slice_night(tmp_path / "inbox", DAY)
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    assert run_job(settings, spark=spark).status == "succeeded"
    pages = write_reports(open_warehouse(settings), tmp_path / "r", settings.report_options())
    night = tmp_path / "r" / DAY
    assert {night / "sliced.html", night / "plain.html"} <= set(pages)
    assert 'id="slices"' in (night / "sliced.html").read_text()
    assert 'id="slices"' not in (night / "plain.html").read_text()


def test_engine_setting_and_errors(tmp_path, monkeypatch):
    from pipeline.settings import SettingsError, load_settings
    from pipeline.spark.session import EngineError, spark_session

    config = tmp_path / "lossgram.toml"
    config.write_text(
        'engine = "spark"\nspark_master = "local[1]"\n'
        '[spark]\nexecutor.memory = "2g"\n"spark.sql.shuffle.partitions" = 4\n'
    )
    settings = load_settings(config_file=config, env={})
    assert settings.engine == "spark" and settings.spark_master == "local[1]"
    assert settings.spark == {"spark.executor.memory": "2g", "spark.sql.shuffle.partitions": "4"}
    from_env = load_settings(env={"LOSSGRAM_SPARK": "spark.executor.cores=2"}, config_file=None)
    assert from_env.spark == {"spark.executor.cores": "2"}
    with pytest.raises(SettingsError, match="engine must be duckdb or spark"):
        Settings(engine="flink")
    with pytest.raises(EngineError, match=r"no Spark master answers at spark://127\.0\.0\.1:1"):
        spark_session("spark://127.0.0.1:1", {})
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(EngineError, match="needs Java 17"):
        spark_session("local[1]", {})


def spark_test_env(**variables: str) -> dict[str, str]:
    """spark_env() with the test JVM settings (LOSSGRAM_SPARK) and variables."""
    return {**spark_env(), "LOSSGRAM_SPARK": fast_conf_setting(), **variables}


def lossgram(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env=env or spark_test_env(),
        check=False,
    )


@pytest.mark.slow
def test_a_standalone_cluster_runs_the_night_and_survives_a_lost_executor(night, tmp_path):
    """Executors are separate JVMs on two workers; the first task's executor is killed
    (SIGKILL) mid-task, Spark runs the task again, and the warehouse equals the embedded
    engine's."""
    inbox, reference, embedded = night
    assert embedded.status == "partial"
    marker = tmp_path / "executor-killed"
    with standalone_cluster(tmp_path, daemon_java_opts=FAST_JVM) as master:
        kill_once = {
            "spark.executorEnv.LOSSGRAM_KILL_EXECUTOR_ONCE": str(marker),
            "spark.task.maxFailures": "4",
        }
        env = {**spark_env(), "LOSSGRAM_SPARK": fast_conf_setting(kill_once)}
        done = lossgram(
            "run", "--engine", "spark", "--spark-master", master, "--inbox", str(inbox),
            "--warehouse", str(tmp_path / "spark"), "--reports", str(tmp_path / "r"),
            env=env,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]  # partial: the broken dump
    assert marker.exists()  # an executor was killed mid-task ...
    assert "Lost executor" in done.stderr  # ... and Spark saw it go
    assert_same_warehouse(reference, tmp_path / "spark")


@pytest.mark.slow
def test_a_driver_killed_mid_run_leaves_the_warehouse_and_the_next_run_completes(spark, tmp_path):
    """The driver, a `lossgram run --engine spark` process of its own, is killed before its
    commit. The night before and the next run (which clears what the killed one left) go
    through the shared session: exit code 1 each, for the night's broken dump."""
    inbox = tmp_path / "inbox"
    write_night(inbox, "2026-11-19", seed=1)
    spark_run = [
        "run", "--engine", "spark", "--spark-master", "local[2]", "--inbox", str(inbox),
        "--warehouse", str(tmp_path / "spark"), "--reports", str(tmp_path / "r"),
    ]  # fmt: skip
    settings = Settings(inbox=inbox, warehouse=tmp_path / "spark")
    assert run_job(settings, spark=spark).exit_code == 1
    before = tables(tmp_path / "spark")
    write_night(inbox, DAY, seed=2)
    killed = lossgram(*spark_run, env=spark_test_env(LOSSGRAM_KILL_AT="before_commit"))
    assert killed.returncode == -9
    after = tables(tmp_path / "spark")
    for name, frame in before.items():
        assert_frame_equal(frame, after[name])  # readers see the night before, whole
    assert run_job(settings, spark=spark).exit_code == 1
    run_job(Settings(inbox=inbox, warehouse=tmp_path / "duckdb"))
    assert_same_warehouse(tmp_path / "duckdb", tmp_path / "spark")
