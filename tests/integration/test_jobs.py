"""The nightly job end to end: warehouse tables, idempotence, bad files, lock, crash safety."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.base.errors import WarehouseError
from pipeline.cli.app import app
from pipeline.cli.user_sql import run_user_query
from pipeline.contract import open_batch
from pipeline.ingest import compute, inbox
from pipeline.nightly import job_options
from pipeline.nightly.driver import rerun_job, run_job
from pipeline.settings import Settings
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.layout import DUMP_COLUMN
from tests.helpers.dumps import write_hive_split

DAY = "2026-11-20"
TABLES = ("histograms", "summaries", "verdicts")


def write_split(
    inbox: Path,
    model: str,
    split: str,
    n: int = 200,
    signal: float = 2.0,
    seed: int = 0,
    day: str = DAY,
) -> Path:
    return write_hive_split(inbox, day, model, split, n=n, signal=signal, seed=seed)


def write_flat_split(settings: Settings, split: str, model: str, **extra: object) -> Path:
    """DAY/<split>.parquet naming its split and model in columns (no key folders)."""
    path = settings.inbox / DAY / f"{split}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pl.DataFrame(
        {
            "sample_id": np.arange(50),
            "label": rng.integers(0, 3, 50),
            "logits": pl.Series(rng.normal(size=(50, 3)), dtype=pl.Array(pl.Float64, 3)),
            "split": split,
            "model": model,
            **extra,
        }
    ).write_parquet(path)
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh", lock_timeout=0)


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def snapshot_tables(settings: Settings) -> dict[str, list[tuple]]:
    # The numbers, not which run made them (run_id is lineage).
    tables = {
        name: query(settings, f"select * exclude (run_id) from {name} order by all")
        for name in TABLES
    }
    tables["losses"] = query(settings, "select * exclude (snapshot_date) from losses order by all")
    return tables


def test_run_fills_every_table(settings):
    write_split(settings.inbox, "mlp", "train", signal=6.0)
    write_split(settings.inbox, "mlp", "test", signal=1.0, seed=1)
    summary = run_job(settings)
    assert summary.status == "succeeded" and summary.files_ingested == 2
    assert summary.snapshot_dates == [dt.date.fromisoformat(DAY)]  # from the date folder
    assert query(settings, "select count(*) from losses")[0][0] == 400
    assert query(settings, "select count(*) from summaries")[0][0] == 2
    assert query(settings, "select sum(count) from histograms where label is null")[0][0] == 400
    verdict = query(settings, "select verdict, heldout_split from verdicts")
    assert verdict == [("overfit", "test")]
    assert summary.verdicts[0]["verdict"] == "overfit"
    files = query(settings, "select status, rows, length(sha256) from ingested_files")
    assert files == [("ingested", 200, 64)] * 2
    runs = query(settings, "select status, files_ingested from job_runs")
    assert runs == [("succeeded", 2)]
    # One kind of row per histogram view: summing count gives each sample once.
    assert query(settings, "select sum(count) from loss_histograms")[0][0] == 400
    per_class = query(
        settings, "select sum(count), count(distinct label) from class_loss_histograms"
    )
    assert per_class[0][0] == 400 and per_class[0][1] > 1


def test_every_table_column_and_view_says_what_it_is(settings):
    """COMMENT ON for each table and column (what mia_auc means, in the catalog itself),
    and each view; H has one name, label_entropy."""
    write_split(settings.inbox, "mlp", "train")
    write_split(settings.inbox, "mlp", "test", seed=1)
    run_job(settings)
    tables = query(
        settings,
        "select table_name, comment from duckdb_tables() where database_name = 'lossgram'",
    )
    views = query(
        settings,
        "select view_name, comment from duckdb_views() where database_name = 'lossgram'"
        " and not internal",
    )
    assert {name for name, _ in views} >= {"losses", "loss_histograms", "class_loss_histograms"}
    assert [name for name, comment in tables + views if not comment] == []
    columns = query(
        settings,
        "select table_name || '.' || column_name, comment from duckdb_columns()"
        " where database_name = 'lossgram' and table_name in"
        " (select table_name from duckdb_tables() where database_name = 'lossgram'"
        " and table_name <> 'loss_columns')",
    )
    assert len(columns) > 100
    assert [name for name, comment in columns if not comment] == []
    comments = dict(columns)
    assert "membership" in comments["verdicts.mia_auc"].lower()
    assert "verdicts.prior_entropy" not in comments
    assert "verdicts.label_entropy" in comments


def test_second_run_with_nothing_new_is_a_quick_no_op(settings, monkeypatch):
    write_split(settings.inbox, "mlp", "train")
    write_split(settings.inbox, "mlp", "test", seed=1)
    run_job(settings)
    before = snapshot_tables(settings)
    hashed, opened = [], []
    real_hash, real_open = inbox.file_sha256, compute.open_dump
    monkeypatch.setattr(inbox, "file_sha256", lambda *a: hashed.append(a[0]) or real_hash(*a))
    monkeypatch.setattr(compute, "open_dump", lambda *a: opened.append(a[0]) or real_open(*a))
    again = run_job(settings)
    assert again.files_unchanged == 2 and again.files_ingested == 0
    # Quick because it reads no dump: none hashed, none opened (~0.1 s here). The bound
    # is for a run that hangs, not a pace a loaded machine must keep.
    assert hashed == [] and opened == []
    assert again.seconds < 60.0
    assert snapshot_tables(settings) == before


def test_changed_dump_replaces_its_losses(settings):
    path = write_split(settings.inbox, "mlp", "test", n=100)
    run_job(settings)
    write_split(settings.inbox, "mlp", "test", n=50, seed=3)
    os.utime(path, (1, 1))
    summary = run_job(settings)
    assert summary.files_ingested == 1
    assert query(settings, "select count(*) from losses")[0][0] == 50


@pytest.mark.slow
def test_rerun_twice_gives_identical_tables(settings):
    write_split(settings.inbox, "mlp", "train", signal=5.0)
    write_split(settings.inbox, "mlp", "test", seed=1)
    write_split(settings.inbox, "tree", "train", signal=8.0, seed=2)
    write_split(settings.inbox, "tree", "test", seed=3)
    run_job(settings)
    first = snapshot_tables(settings)
    assert rerun_job(settings, dt.date.fromisoformat(DAY)).status == "succeeded"
    second = snapshot_tables(settings)
    assert rerun_job(settings, dt.date.fromisoformat(DAY), model="tree").status == "succeeded"
    assert first == second == snapshot_tables(settings)


def test_rerun_refuses_changed_dumps(settings):
    path = write_split(settings.inbox, "mlp", "test")
    run_job(settings)
    path.write_bytes(path.read_bytes() + b"")  # same bytes: fine
    assert rerun_job(settings, dt.date.fromisoformat(DAY)).status == "succeeded"
    write_split(settings.inbox, "mlp", "test", n=10, seed=9)
    summary = rerun_job(settings, dt.date.fromisoformat(DAY))
    assert summary.status == "failed" and "sha256 differs" in summary.error
    assert summary.exit_code == 2


def test_bad_file_is_rejected_good_files_land_run_is_partial(settings):
    write_split(settings.inbox, "mlp", "train")
    bad = write_split(settings.inbox, "mlp", "test", seed=1)
    frame = pl.read_parquet(bad).with_columns(label=pl.lit(9, dtype=pl.Int64))
    frame.write_parquet(bad)
    summary = run_job(settings)
    assert summary.status == "partial" and summary.exit_code == 1
    assert summary.files_ingested == 1 and summary.files_rejected == 1
    rejected = query(settings, "select path, error from ingested_files where status='rejected'")
    assert rejected[0][0] == str(bad)
    assert "column 'label': 200 rows: is outside [0, 4)" in rejected[0][1]
    assert query(settings, "select distinct split from losses") == [("train",)]
    # Unchanged, the bad file is not retried every night; fixed, it lands.
    assert run_job(settings).files_unchanged == 2
    write_split(settings.inbox, "mlp", "test", seed=1)
    assert run_job(settings).status == "succeeded"
    assert query(settings, "select count(*) from losses")[0][0] == 400


def test_skip_policy_records_each_dropped_row(settings):
    path = write_split(settings.inbox, "mlp", "test", n=50)
    frame = pl.read_parquet(path)
    labels = frame["label"].to_numpy().copy()
    labels[[3, 7]] = 11
    frame.with_columns(label=pl.Series(labels)).write_parquet(path)
    summary = run_job(Settings(**{**settings.__dict__, "bad_rows": "skip"}))
    assert summary.status == "succeeded"
    assert query(settings, "select count(*) from losses")[0][0] == 48
    rows = query(settings, "select sample_id, column_name, problem from rejected_rows order by 1")
    assert rows == [("3", "label", "is outside [0, 4)"), ("7", "label", "is outside [0, 4)")]


def test_second_concurrent_run_exits_with_a_clear_message(settings):
    write_split(settings.inbox, "mlp", "test")
    with Warehouse(settings.warehouse).lock(0), pytest.raises(WarehouseError, match="locked"):
        run_job(settings)
    result = CliRunner().invoke(app, ["history", "--warehouse", str(settings.warehouse)])
    assert result.exit_code == 2  # nothing ran, so no warehouse yet


def test_crash_mid_run_keeps_previous_state_and_next_run_completes(settings, monkeypatch):
    write_split(settings.inbox, "mlp", "train", signal=5.0)
    write_split(settings.inbox, "mlp", "test", seed=1)
    run_job(settings)
    before = snapshot_tables(settings)
    write_split(settings.inbox, "tree", "train", seed=2)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    engine = job_options.engine_for
    monkeypatch.setattr(
        job_options,
        "engine_for",
        lambda *args: dataclasses.replace(engine(*args), aggregate=crash),
    )
    with pytest.raises(RuntimeError):
        run_job(settings)
    after = snapshot_tables(settings)
    for table in TABLES:
        assert after[table] == before[table]
    assert query(settings, "select status from job_runs order by started_at")[-1][0] == "failed"
    assert query(settings, "select count(*) from ingested_files")[0][0] == 2

    monkeypatch.undo()
    assert run_job(settings).files_ingested == 1
    assert query(settings, "select count(distinct model) from summaries")[0][0] == 2


def test_newer_schema_is_a_clear_error(settings):
    write_split(settings.inbox, "mlp", "test")
    run_job(settings)
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb")) as con:
        con.execute("insert into schema_version (version, name) values (999, 'future')")
    with pytest.raises(WarehouseError, match="schema version 999, newer"):
        run_job(settings)


def test_stock_duckdb_cli_sees_the_losses_view_from_another_directory(settings, tmp_path):
    write_split(settings.inbox, "mlp", "test")
    run_job(settings)
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert cli, "the duckdb CLI (test extra duckdb-cli) is not installed next to this Python"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = settings.warehouse.resolve() / "lossgram.duckdb"
    out = subprocess.run(
        [cli, "-csv", "-noheader", str(database), "-c", "select count(*) from losses"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "200"


def test_a_copied_warehouse_reads_its_own_files(settings, tmp_path):
    """The stored view used to keep the old folder's absolute paths: the stock CLI read
    the original's rows from a copy, silently. Now lossgram reads the copy's own files,
    and the stock CLI says the catalog moved instead of reading the old folder."""
    write_split(settings.inbox, "mlp", "test")
    run_job(settings)
    copy = tmp_path / "copy"
    shutil.copytree(settings.warehouse, copy)
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert cli
    out = subprocess.run(
        [cli, str(copy / "lossgram.duckdb"), "-c", "select count(*) from losses"],
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and "copied or moved" in out.stdout + out.stderr
    shutil.rmtree(settings.warehouse / "losses")  # the original's files are gone
    counted = run_user_query(
        copy, "select count(*) as n from losses", timeout_seconds=60, limit=None
    )
    assert counted.frame["n"].to_list() == [200]
    assert run_job(Settings(inbox=settings.inbox, warehouse=copy)).status == "succeeded"
    fixed = subprocess.run(
        [
            cli,
            "-csv",
            "-noheader",
            str(copy / "lossgram.duckdb"),
            "-c",
            "select count(*) from losses",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert fixed.stdout.strip() == "200"


def test_cli_run_json_sql_and_history(settings):
    write_split(settings.inbox, "mlp", "train", signal=5.0)
    write_split(settings.inbox, "mlp", "test", seed=1)
    runner = CliRunner()
    where = ["--warehouse", str(settings.warehouse)]
    result = runner.invoke(app, ["run", "--inbox", str(settings.inbox), *where, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["status"] == "succeeded" and summary["verdicts"][0]["model"] == "mlp"

    result = runner.invoke(
        app,
        ["sql", "select model, count(*) as n from losses group by 1", *where, "--format", "json"],
    )
    assert json.loads(result.output) == [{"model": "mlp", "n": 400}]
    result = runner.invoke(
        app, ["sql", "select split from summaries order by 1", *where, "--format", "csv"]
    )
    assert result.output == "split\ntest\ntrain\n"
    result = runner.invoke(app, ["sql", "drop table verdicts", *where])
    assert result.exit_code == 2 and "read-only" in result.output
    result = runner.invoke(app, ["history", *where, "--format", "json"])
    assert json.loads(result.output)[0]["status"] == "succeeded"


def test_backfill_reads_only_date_folders_in_range(settings):
    write_split(settings.inbox, "mlp", "test", day="2026-11-01")
    write_split(settings.inbox, "mlp", "test", day="2026-11-05")
    summary = run_job(
        settings, date_range=(dt.date(2026, 11, 4), dt.date(2026, 11, 6)), command="backfill"
    )
    assert summary.snapshot_dates == [dt.date(2026, 11, 5)]


def test_model_names_survive_the_warehouse_exactly(settings):
    """Folder names are percent-encoded: names that differ only in unsafe characters stay
    apart, and the losses view returns them as written."""
    names = ["resnet 50", "resnet/50", "../../x", "Ünïcødé 模型"]
    for seed, name in enumerate(names):
        path = write_split(settings.inbox, f"m{seed}", "test", n=40, seed=seed)
        frame = pl.read_parquet(path).with_columns(model=pl.lit(name))
        frame.write_parquet(path)
    run_job(settings)
    models = [row[0] for row in query(settings, "select distinct model from losses order by 1")]
    assert models == sorted(names)
    assert sorted(row[0] for row in query(settings, "select model from summaries")) == sorted(names)
    day = settings.warehouse / "losses" / f"snapshot_date={DAY}"
    assert all(folder.parent == day for folder in day.iterdir())


def write_varied_night(inbox: Path) -> dict[str, Path]:
    """Small dumps of one schema that differ in what their paths and rows say."""
    files = {
        "epoch1": write_split(inbox, "mlp", "train", n=60, seed=1),
        "test": write_split(inbox, "mlp", "test", n=70, seed=2),
        "tree": write_split(inbox, "tree", "test", n=50, seed=3),
    }
    # Batches share hive keys: two files with each other set of keys.
    for name, folder in (
        ("fold", "fold=2/split=test"),
        ("fold3", "fold=3/split=test"),
        ("stem", "split=test"),
        ("other", "split=test"),
    ):
        source = write_split(inbox, "tmp", "test", n=40, seed=len(name))
        target = inbox / DAY / folder / f"{name}-model.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)
        files[name] = target
    shutil.rmtree(inbox / DAY / "model=tmp")
    for epoch in (3, 4):
        path = inbox / DAY / "model=mlp" / f"epoch={epoch}" / "split=test" / "part-0.parquet"
        path.parent.mkdir(parents=True)
        shutil.copy(files["test"], path)
        files[f"epoch{epoch}"] = path
    unsorted = write_split(inbox, "knn", "test", n=30, seed=5)  # unique ids, not in order
    frame = pl.read_parquet(unsorted)
    frame.with_columns(sample_id=frame["sample_id"].reverse()).write_parquet(unsorted)
    files["unsorted"] = unsorted
    duplicate = write_split(inbox, "svm", "test", n=30, seed=6)
    frame = pl.read_parquet(duplicate)
    frame.with_columns(sample_id=pl.Series(np.r_[np.arange(29), 5])).write_parquet(duplicate)
    files["duplicate"] = duplicate
    nan = write_split(inbox, "gbm", "test", n=30, seed=7)
    frame = pl.read_parquet(nan)
    logits = frame["logits"].to_numpy().copy()
    logits[[2, 4]] = np.nan
    frame.with_columns(logits=pl.Series(logits, dtype=pl.Array(pl.Float32, 4))).write_parquet(nan)
    files["nan"] = nan
    return files


@pytest.mark.parametrize("bad_rows", ["reject", "skip"])
def test_small_dumps_read_in_one_query_land_as_if_read_one_by_one(tmp_path, monkeypatch, bad_rows):
    """Batching is only a speed-up: every table, outcome and error is the same."""
    opened = []
    monkeypatch.setattr(compute, "open_batch", lambda *a: opened.append(a[0]) or open_batch(*a))
    results = {}
    for batched in (True, False):
        if not batched:
            monkeypatch.setattr(compute, "plan_batches", lambda *args: [])
        inbox = tmp_path / "inbox"  # the same paths both times: the losses keys depend on them
        shutil.rmtree(inbox, ignore_errors=True)
        files = write_varied_night(inbox)
        settings = Settings(
            inbox=inbox, warehouse=tmp_path / f"wh-{batched}", lock_timeout=0, bad_rows=bad_rows
        )
        summary = run_job(settings)
        outcomes = sorted(
            (str(o.path), o.status, o.rows, o.rows_rejected, o.error) for o in summary.outcomes
        )
        results[batched] = (summary.status, outcomes, snapshot_tables(settings))
        results[batched][2]["rejected_rows"] = query(
            settings, "select * exclude (run_id) from rejected_rows order by all"
        )
    # one batch per set of hive keys: (model, split), (fold, split), (split), (model, epoch, split)
    assert sorted(len(batch) for batch in opened) == [2, 2, 2, 6]
    assert results[True] == results[False]
    status, outcomes, tables = results[True]
    errors = {path: error for path, _, _, _, error in outcomes if error}
    if bad_rows == "reject":
        assert status == "partial"
        assert errors == {
            str(files["duplicate"]): f"{files['duplicate']}: column 'sample_id': 2 rows: "
            "sample_id repeats within (model, split, epoch)",
            str(files["nan"]): f"{files['nan']}: column 'logits': 2 rows: contains NaN or inf "
            "(or scores ~1e308 apart: the loss would overflow)",
        }
    else:
        assert status == "succeeded" and not errors
        assert len(tables["rejected_rows"]) == 4  # 2 duplicate rows, 2 NaN rows
    models = {row[0] for row in query(settings, "select distinct model from losses")}
    assert {"mlp", "tree", "knn", "stem-model", "other-model", "fold-model"} <= models
    folds = query(settings, "select distinct fold from losses where fold is not null order by 1")
    assert folds == [("2",), ("3",)]
    assert query(settings, "select distinct epoch from losses order by 1") == [(3,), (4,), (None,)]


def test_a_batch_is_one_file_and_a_dump_read_again_replaces_only_its_rows(settings, tmp_path):
    """Small dumps read in one query land as one file, listed once per dump; a dump that
    changes replaces its own rows, the others' move to a new file; a dump rejected after
    the batch was written (it repeats another's ids) leaves no row behind."""
    paths = {split: write_split(settings.inbox, "mlp", split, seed=i)
             for i, split in enumerate(("train", "test", "val"))}  # fmt: skip
    repeat = paths["test"].with_name("part-1.parquet")  # the same ids again: rejected
    shutil.copy(paths["test"], repeat)
    summary = run_job(settings)
    assert summary.status == "partial"
    [rejected] = [o for o in summary.outcomes if o.status == "rejected"]
    assert rejected.path == repeat and "already counted from" in rejected.error
    listed = query(settings, "select path, dump_path, rows from live_files order by dump_path")
    assert {path for path, _, _ in listed} == {listed[0][0]}  # one file
    assert [(dump, rows) for _, dump, rows in listed] == sorted(
        (str(path), 200) for path in paths.values()
    )
    assert query(settings, "select count(*) from losses") == [(600,)]
    columns = [name for (name, *_) in query(settings, "describe select * from losses")]
    assert DUMP_COLUMN not in columns
    manifest = json.loads((settings.warehouse / "losses" / "_manifest.json").read_text())
    assert [entry["rows"] for entry in manifest["files"]] == [600]

    repeat.unlink()
    write_split(settings.inbox, "mlp", "val", n=150, seed=9)  # changed: read again
    again = run_job(settings)
    assert [o.path for o in again.outcomes] == [paths["val"]]
    retired = query(settings, "select path from retired_files where path like 'losses/%'")
    assert retired == [(listed[0][0],)]  # the batch file went whole ...
    listed = query(settings, "select dump_path, rows from live_files order by dump_path")
    assert listed == sorted([(str(paths["train"]), 200), (str(paths["test"]), 200),
                             (str(paths["val"]), 150)])  # fmt: skip
    # ... and the night is what a fresh warehouse makes of today's inbox.
    fresh = settings.model_copy(update={"warehouse": tmp_path / "fresh"})
    run_job(fresh)
    assert query(settings, "select * from losses order by all") == query(
        fresh, "select * from losses order by all"
    )
    assert snapshot_tables(settings) == snapshot_tables(fresh)


def test_a_batch_with_a_corrupt_page_is_redone_file_by_file(settings):
    """A footer that reads but data that does not fails the batch's one query: every
    file is then read alone, so only the corrupt one is rejected."""
    good = [write_split(settings.inbox, name, "test", n=300, seed=i) for i, name in enumerate("ab")]
    corrupt = write_split(settings.inbox, "c", "test", n=300, seed=5)
    data = bytearray(corrupt.read_bytes())
    data[4:68] = b"\xff" * 64  # the first page header; the footer is intact
    corrupt.write_bytes(bytes(data))
    summary = run_job(settings)
    assert summary.status == "partial"
    assert [o.path for o in summary.outcomes if o.status == "ingested"] == good
    [rejected] = [o for o in summary.outcomes if o.status == "rejected"]
    assert rejected.path == corrupt and "unreadable" in rejected.error


def test_long_model_names_sharing_a_prefix_stay_apart(settings):
    """The staged file's model comes from footer statistics, which writers truncate."""
    path = write_split(settings.inbox, "tmp", "test", n=40)
    prefix = "m" * 100  # past the 64-byte statistics, within a folder name
    frame = pl.read_parquet(path)
    models = [prefix + ("a" if i % 2 else "b") for i in range(frame.height)]
    frame.with_columns(model=pl.Series(models)).write_parquet(path)
    run_job(settings)
    got = query(settings, "select model, count(*) from losses group by 1 order by 1")
    assert got == [(prefix + "a", 20), (prefix + "b", 20)]


def test_pages_and_sql_show_the_epoch_the_verdict_judged(tmp_path, settings):
    """Train dumped at epochs 1-3, test at 1-2: the verdict judges epoch 2 (the latest both
    have), and the model page, the night page's histograms and the nightly trend show
    epoch 2 too (the night page once took the model's latest epoch, 3, where test has no
    histogram)."""
    from pipeline.report.data import model_report, night_report

    for split, epochs in (("train", (1, 2, 3)), ("test", (1, 2))):
        for epoch in epochs:
            path = write_split(settings.inbox, "mlp", split, seed=epoch)
            moved = path.parent / f"epoch={epoch}" / "part-0.parquet"
            moved.parent.mkdir()
            path.rename(moved)
    run_job(settings)
    (verdict_epoch,) = query(settings, "select epoch from verdicts")[0]
    assert verdict_epoch == 2
    assert query(settings, "select epoch from judged_epochs") == [(2,)]
    day = dt.date.fromisoformat(DAY)
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        page = model_report(con, day, "mlp", settings.report_options())
        night = night_report(con, day)
    assert page.epoch == 2
    assert set(page.statistics["epoch"]) == {2}
    assert set(page.nights["epoch"]) == {2}
    assert sorted(set(night.histograms["split"])) == ["test", "train"]


def test_hidden_only_inbox_is_an_empty_night(settings):
    """Files the reader skips (hidden, `_temporary/`) do not count as dumps."""
    write_split(settings.inbox / "_temporary", "mlp", "test")
    summary = run_job(settings)
    assert (summary.status, summary.files_seen) == ("succeeded", 0)


def test_a_date_folder_that_is_no_date_is_skipped_and_the_night_lands(settings):
    """2026-02-30/ is skipped with a line, like other entries lossgram does not read; the
    good dumps land (it once stopped every run until the folder was removed)."""
    write_split(settings.inbox, "mlp", "test", day="2026-02-30")
    write_split(settings.inbox, "mlp", "test", day=DAY)
    summary = run_job(settings)
    assert (summary.status, summary.files_ingested) == ("succeeded", 1)
    [skipped] = summary.skipped
    assert skipped.path.name == "2026-02-30" and "not a valid date folder" in skipped.reason
    day = dt.date.fromisoformat(DAY)
    summary = run_job(settings, date_range=(day, day), command="backfill")
    assert (summary.status, summary.files_unchanged) == ("succeeded", 1)


def histograms_in_the_catalog(con: duckdb.DuckDBPyConnection) -> None:
    """The histograms back in a catalog table, as a lossgram before migration 015 kept
    them (the nights' files stay on disk, listed nowhere)."""
    con.execute("create table old_histograms as select * from histograms")
    for statement in (
        "drop view histograms",
        "drop view histogram_file_rows",
        "drop table histogram_rows",
        "drop table histogram_files",
        "alter table old_histograms rename to histograms",
    ):
        con.execute(statement)


def test_readers_refuse_a_warehouse_an_older_lossgram_made(settings):
    write_split(settings.inbox, "mlp", "test")
    run_job(settings)
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb")) as con:
        # The catalog as the lossgram before migration 005 left it.
        con.execute("DELETE FROM schema_version WHERE version > 4")
        con.execute("ALTER TABLE verdicts RENAME COLUMN label_entropy TO prior_entropy")
        histograms_in_the_catalog(con)
    with pytest.raises(WarehouseError, match="older lossgram: run `lossgram run`"):
        Warehouse(settings.warehouse).connect()
    run_job(settings)  # a writer upgrades it
    Warehouse(settings.warehouse).connect().close()
    assert query(settings, "select count(label_entropy) from verdicts") == [(0,)]  # no train


def test_key_folders_above_the_inbox_name_nothing(tmp_path):
    """An inbox under /srv/model=evil/inbox once renamed every dump without a model
    column to `evil`."""
    settings = Settings(inbox=tmp_path / "model=evil" / "inbox", warehouse=tmp_path / "wh")
    dump = settings.inbox / DAY / "resnet.parquet"  # no model column, no model= folder
    dump.parent.mkdir(parents=True)
    pl.DataFrame(
        {"sample_id": [1, 2], "label": [0, 1], "prob": [0.2, 0.9], "split": ["test"] * 2}
    ).write_parquet(dump)
    assert run_job(settings).status == "succeeded"
    assert query(settings, "select distinct model from losses") == [("resnet",)]


@pytest.mark.parametrize("name", ["é" * 41, "模型" * 14, "m" * 300, "a/b" * 90])
def test_long_model_names_land_whole(settings, name):
    """Names over the 255-byte folder limit once failed every run; the folder is hashed,
    the name is kept whole in the data, the catalog and the pages."""
    for split in ("train", "test"):
        write_flat_split(settings, split, name)
    assert run_job(settings).status == "succeeded"
    assert query(settings, "select distinct model from losses") == [(name,)]
    assert query(settings, "select distinct model from verdicts") == [(name,)]
    folders = [p.name for p in (settings.warehouse / "losses").glob("*/model=*")]
    assert len(folders) == 1 and len(folders[0].encode()) < 255


def test_a_dump_replaced_while_read_is_read_again_next_run(settings, monkeypatch):
    """The sha256 used to be taken after reading: a dump replaced in between was recorded
    as the new version with the old version's rows, and the new version never read."""
    path = write_split(settings.inbox, "mlp", "test", n=300)
    original = compute.dump_losses_to_parquet

    def read_then_replace(*args, **kwargs):
        counted = original(*args, **kwargs)
        write_split(settings.inbox, "mlp", "test", n=120, seed=7)  # the new version lands
        return counted

    monkeypatch.setattr(compute, "dump_losses_to_parquet", read_then_replace)
    summary = run_job(settings)
    assert summary.status == "partial"
    assert "changed while it was being read" in (summary.outcomes[0].error or "")
    assert query(settings, "select count(*) from ingested_files") == [(0,)]
    monkeypatch.setattr(compute, "dump_losses_to_parquet", original)
    assert run_job(settings).files_ingested == 1
    assert query(settings, "select count(*) from losses") == [(120,)]
    new_version = hashlib.sha256(path.read_bytes()).hexdigest()
    assert query(settings, "select sha256 from ingested_files") == [(new_version,)]


@pytest.mark.slow
def test_dumps_rewritten_in_place_during_runs_never_crash_a_run(settings):
    """A writer rewriting a dump in place, byte by byte, while runs read it: every run
    ends with a summary (exit 0 or 1), never an escaped decoder error."""
    import threading

    path = write_split(settings.inbox, "mlp", "test", n=5000)
    good = path.read_bytes()
    stop = threading.Event()

    def rewrite_in_place() -> None:
        while not stop.is_set():
            with path.open("r+b") as handle:
                for start in range(0, len(good), 4096):
                    handle.write(good[start : start + 4096])
                    handle.flush()

    writer = threading.Thread(target=rewrite_in_place)
    writer.start()
    try:
        codes = [run_job(settings).exit_code for _ in range(8)]
    finally:
        stop.set()
        writer.join()
    assert set(codes) <= {0, 1}


def test_a_sample_counts_once_per_night_whichever_dumps_bring_it(settings):
    """Two dumps of one (model, split, epoch) with the same sample_ids, or one dump under
    two paths, were both ingested: 200 samples counted twice."""
    first = write_split(settings.inbox, "mlp", "test", n=200)
    copy = first.parent / "part-1.parquet"  # the same dump under a second path
    shutil.copy(first, copy)
    write_split(settings.inbox, "mlp", "train", n=200)
    summary = run_job(settings)
    assert summary.status == "partial"
    [rejected] = [o for o in summary.outcomes if o.status == "rejected"]
    assert rejected.path == copy
    assert "200 sample_ids of (model=mlp, split=test, epoch=None) are already counted from" in (
        rejected.error or ""
    )
    assert query(settings, "select count(*) from losses where split = 'test'") == [(200,)]
    # a later night's dump that repeats a committed one's ids is caught too
    again = first.parent / "part-2.parquet"
    shutil.copy(first, again)
    summary = run_job(settings)
    assert [o.status for o in summary.outcomes] == ["rejected"]
    assert query(settings, "select sum(n) from summaries where split = 'test'") == [(200,)]


def test_a_slice_column_keeps_one_type_across_the_warehouse(settings):
    """A struct slice column in one dump and an integer one in another made `select *
    from losses` fail for the whole warehouse."""
    for split, extra in (("train", {"source": [1] * 50}), ("test", {"source": [{"a": 1}] * 50})):
        write_flat_split(settings, split, "m", **extra)
    summary = run_job(settings)
    [rejected] = [o for o in summary.outcomes if o.status == "rejected"]
    assert rejected.path.name == "train.parquet"  # test.parquet came first, by path
    assert "column 'source'" in (rejected.error or "") and "rename or cast" in rejected.error
    assert len(query(settings, "select * from losses")) == 50


def test_reports_that_cannot_be_written_make_the_run_partial_and_the_next_renders_them(
    settings, tmp_path
):
    """An unwritable reports folder made the run exit 2 "failed" though the data landed
    (job_runs said succeeded). The exit code and the ledger now both say partial, and the
    next run renders the missing pages."""
    write_split(settings.inbox, "mlp", "train", signal=5.0)
    write_split(settings.inbox, "mlp", "test", seed=1)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the reports folder should be")
    arguments = ["--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse)]
    result = CliRunner().invoke(app, ["run", *arguments, "--reports", str(blocked)])
    assert result.exit_code == 1, result.output
    assert f"reports not written to {blocked}: File exists: {blocked}" in result.output
    assert query(settings, "select status, reports_error is not null from job_runs") == [
        ("partial", True)
    ]
    assert query(settings, "select count(*) from losses") == [(400,)]  # the data landed
    reports = tmp_path / "reports"
    result = CliRunner().invoke(app, ["run", *arguments, "--reports", str(reports)])
    assert result.exit_code == 0, result.output
    assert (reports / DAY / "index.html").is_file() and (reports / DAY / "mlp.html").is_file()
    assert query(settings, "select count(*) from pending_reports") == [(0,)]


def test_lineage_every_number_names_the_run_and_settings_that_made_it(settings, tmp_path):
    """Runs keep their settings (JSON + fingerprint) and lossgram version; every aggregate
    row names its run; a run with other loss settings names the stale nights; rerun
    recomputes them; pages show the night's lineage and clip cap."""
    import pipeline
    from pipeline.report.data import model_report

    write_split(settings.inbox, "mlp", "train", signal=5.0)
    write_split(settings.inbox, "mlp", "test", seed=1)
    first = run_job(settings)
    [(version, stored, fingerprint)] = query(
        settings, "select lossgram_version, settings, settings_fingerprint from job_runs"
    )
    assert version == pipeline.__version__ and len(fingerprint) == 16
    assert json.loads(stored)["eps"] == 1e-12 and json.loads(stored)["bins"].startswith("log")
    assert json.loads(stored)["engine"] == "duckdb"
    for table in ("histograms", "summaries", "verdicts"):
        assert query(settings, f"select distinct run_id from {table}") == [(first.run_id,)]
    changed = settings.model_copy(update={"eps": 1e-6})
    write_split(changed.inbox, "mlp", "val", seed=2, day="2026-11-21")
    summary = run_job(changed)
    assert summary.stale_snapshots == [DAY]
    assert rerun_job(changed, dt.date.fromisoformat(DAY)).status == "succeeded"
    assert run_job(changed).stale_snapshots == []
    with duckdb.connect(str(settings.warehouse / "lossgram.duckdb"), read_only=True) as con:
        page = model_report(con, dt.date.fromisoformat(DAY), "mlp", settings.report_options())
    assert page.lineage["loss_settings"]["eps"] == 1e-6  # as computed, not as set now
    assert page.markers["clip cap -log(eps)"] == pytest.approx(-np.log(1e-6))
    history = CliRunner().invoke(
        app, ["history", "--warehouse", str(settings.warehouse), "--format", "json"]
    )
    assert json.loads(history.output)[0]["settings_fingerprint"] is not None


def test_an_older_warehouse_is_adopted_without_losing_a_row(settings):
    """A warehouse an older lossgram made (files visible by folder, named after their
    dump, without a snapshot_date column, no live_files) keeps every row on upgrade."""
    write_split(settings.inbox, "mlp", "train", signal=5.0)
    write_split(settings.inbox, "mlp", "test", seed=1)
    run_job(settings)
    before = query(settings, "select count(*), round(sum(ce), 9) from losses")
    histograms = query(settings, "select * from histograms order by all")
    database = settings.warehouse / "lossgram.duckdb"
    with duckdb.connect(str(database)) as con:  # as the older lossgram left it
        listed = con.execute("select path, dump_path from live_files").fetchall()
        for path, dump in listed:  # an older lossgram wrote a file per dump
            current = settings.warehouse / path
            legacy = current.with_name(hashlib.sha256(dump.encode()).hexdigest()[:20] + ".parquet")
            rows = pl.read_parquet(current)
            if DUMP_COLUMN in rows.columns:
                rows = rows.filter(pl.col(DUMP_COLUMN) == dump).drop(DUMP_COLUMN)
            rows.drop("snapshot_date").write_parquet(legacy)
        for path, _ in listed:
            (settings.warehouse / path).unlink(missing_ok=True)
        con.execute("delete from live_files; delete from schema_version where version >= 3")
        con.execute("alter table verdicts rename column label_entropy to prior_entropy")
        histograms_in_the_catalog(con)
    # An upgrade killed before its commit, then done again, adopts each file once.
    lossgram = str(Path(sys.executable).parent / "lossgram")
    locations = ["--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse)]
    killed = subprocess.run(
        [lossgram, "run", *locations, "--reports", str(settings.warehouse / "r")],
        env={**os.environ, "LOSSGRAM_KILL_AT": "before_catalog_swap:1"},
        capture_output=True,
    )
    assert killed.returncode == -9
    assert run_job(settings).status == "succeeded"
    assert query(settings, "select count(*), round(sum(ce), 9) from losses") == before
    # The catalog's histograms moved out to the night's file, every row the same.
    assert query(settings, "select * from histograms order by all") == histograms
    assert query(settings, "select count(*) from histogram_rows") == [(0,)]
    on_disk = sorted(p.parent.name for p in (settings.warehouse / "losses").rglob("*.parquet"))
    assert on_disk == ["adopted", "adopted"]
    assert query(settings, "select count(*) from live_files where dump_path like '%part-0%'") == [
        (2,)
    ]


def test_a_changed_dump_rejected_leaves_no_old_rows_to_count_twice(settings):
    """A dump whose new version is rejected kept its old rows live while the ledger said
    rejected; a new dump with the same ids then counted them twice."""
    first = write_split(settings.inbox, "mlp", "test", n=100)
    run_job(settings)
    bad = pl.read_parquet(first).with_columns(label=pl.lit(99))  # every label out of range
    bad.write_parquet(first)
    write_split(settings.inbox, "mlp", "test", n=100).rename(first.with_name("part-1.parquet"))
    bad.write_parquet(first)
    summary = run_job(settings)
    assert sorted(o.status for o in summary.outcomes) == ["ingested", "rejected"]
    assert query(settings, "select count(*), count(distinct sample_id) from losses") == [(100, 100)]
    assert query(settings, "select status from ingested_files order by path") == [
        ("rejected",),
        ("ingested",),
    ]


def test_placed_names_reach_the_disk_once_per_folder_before_the_commit(tmp_path, monkeypatch):
    """Each folder a night's files were placed in is fsynced once (not once per dump),
    and before the commit that lists the files."""
    from pipeline.nightly import landing
    from pipeline.warehouse import store as store_module

    events: list[tuple[str, Path]] = []
    real_flush, real_commit = store_module.flush, landing._commit_night
    monkeypatch.setattr(
        store_module, "flush", lambda path: (events.append(("flush", path)), real_flush(path))
    )

    def commit(*args, **kwargs):
        events.append(("commit", Path()))
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(landing, "_commit_night", commit)
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    for model in ("mlp", "forest"):
        for seed, split in enumerate(("train", "val", "test")):  # three dumps, one folder
            write_hive_split(settings.inbox, "2026-11-23", model, split, n=40, seed=seed)
    assert run_job(settings).files_ingested == 6
    flushed = [path for kind, path in events[: events.index(("commit", Path()))] if kind == "flush"]
    night = settings.warehouse / "losses" / "snapshot_date=2026-11-23"
    folders = [night / "model=forest", night / "model=mlp", night]
    assert sorted(p for p in flushed if p.is_dir()) == sorted(folders)


def test_exports_are_checked_in_one_statement_and_mended_when_cut(tmp_path):
    """A run checks every night's copy under tables/ against tables/_exported.json (the
    run each mirrors and its size; without the record, the footers in one DuckDB glob):
    current copies are left alone, a cut one is written again."""
    import pyarrow.parquet as pq

    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    for night in ("2026-11-22", "2026-11-23"):
        for seed, split in enumerate(("train", "test")):
            write_hive_split(settings.inbox, night, "mlp", split, n=40, seed=seed)
    assert run_job(settings).files_ingested == 4
    tables = settings.warehouse / "tables"
    first = sorted(tables.glob("*/snapshot_date=2026-11-22/data.parquet"))
    second = sorted(tables.glob("*/snapshot_date=2026-11-23/data.parquet"))
    assert len(first) == len(second) == 3
    untouched = {path: path.stat().st_mtime_ns for path in first + second}
    assert run_job(settings).files_unchanged == 4  # nothing new: every copy is current
    assert {path: path.stat().st_mtime_ns for path in untouched} == untouched

    cut = second[0]
    cut.write_bytes(cut.read_bytes()[:40])
    assert run_job(settings).status == "succeeded"
    assert {path: path.stat().st_mtime_ns for path in first} == {p: untouched[p] for p in first}
    run_id = pq.ParquetFile(second[1]).schema_arrow.metadata[b"lossgram.run_id"]
    assert pq.ParquetFile(cut).schema_arrow.metadata[b"lossgram.run_id"] == run_id
    # Without the record (an older lossgram's exports), the footers decide, once.
    (tables / "_exported.json").unlink()
    untouched = {path: path.stat().st_mtime_ns for path in first + second}
    assert run_job(settings).status == "succeeded"
    assert {path: path.stat().st_mtime_ns for path in untouched} == untouched
    record = json.loads((tables / "_exported.json").read_text())
    assert record["2026-11-23"]["run"] == run_id.decode()
    assert record["2026-11-23"]["sizes"]["histograms"] == second[0].stat().st_size
