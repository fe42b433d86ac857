"""A rejected dump is read again when its rejection was the environment's (permission,
I/O, a time limit), and otherwise the summary says it is left as it was and how to redo
it (a fixed column_map once gave '0 ingested, 7 unchanged' with nothing said)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from pipeline.nightly.driver import rerun_job, run_job
from pipeline.nightly.job_options import open_warehouse
from pipeline.settings import Settings
from pipeline.warehouse.queries import execute
from tests.helpers.dumps import write_hive_split

NIGHT = "2026-11-20"


def write_unlabelled(settings: Settings) -> None:
    """A dump with its label under another name: rejected until column_map names it."""
    rng = np.random.default_rng(0)
    path = settings.inbox / NIGHT / "model=mlp" / "split=test" / "part-0.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "sample_id": np.arange(40),
            "target": rng.integers(0, 3, 40),
            "logits": pl.Series(rng.normal(size=(40, 3)), dtype=pl.Array(pl.Float64, 3)),
        }
    ).write_parquet(path)


def test_an_unchanged_rejected_dump_is_named_with_the_command_that_redoes_it(tmp_path):
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    write_hive_split(settings.inbox, NIGHT, "mlp", "train", n=40)
    write_unlabelled(settings)
    assert run_job(settings).files_rejected == 1
    again = run_job(settings)
    assert (again.files_rejected, again.files_unchanged) == (0, 2)
    assert again.rejected_unchanged == {dt.date.fromisoformat(NIGHT): 1}
    assert again.to_json()["rejected_unchanged"] == {NIGHT: 1}
    fixed = settings.model_copy(update={"column_map": {"label": "target"}})
    redone = run_job(fixed, snapshot_date=dt.date.fromisoformat(NIGHT))
    assert redone.files_ingested == 0  # a run leaves it: the rerun the note names redoes it
    rerun = rerun_job(fixed, dt.date.fromisoformat(NIGHT))
    assert (rerun.files_ingested, rerun.files_rejected) == (2, 0)


def test_a_dump_rejected_for_the_environment_is_read_again_unchanged(tmp_path):
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    write_hive_split(settings.inbox, NIGHT, "mlp", "train", n=40)
    write_hive_split(settings.inbox, NIGHT, "mlp", "test", n=40, seed=1)
    assert run_job(settings).files_ingested == 2
    warehouse = open_warehouse(settings)
    with warehouse.commit() as catalog:  # as a run that met a permission error left it
        catalog.execute(
            "UPDATE ingested_files SET status = 'rejected', error = 'unreadable Parquet: "
            "[Errno 13] Permission denied' WHERE path LIKE '%split=test%'"
        )
    again = run_job(settings)
    assert (again.files_ingested, again.files_unchanged) == (1, 1)
    assert again.rejected_unchanged == {}
    with warehouse.reading(losses_view=False) as catalog:
        assert execute(catalog, "known_files")[-1][-1] is False  # ingested now: no retry


def test_a_committed_file_changed_since_its_commit_is_named_with_its_rerun(tmp_path):
    """`EXPLAIN ANALYZE COPY ... TO` once rewrote a committed file and no run noticed:
    each run checks the committed files' sizes against the catalog."""
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    write_hive_split(settings.inbox, NIGHT, "mlp", "train", n=40)
    write_hive_split(settings.inbox, NIGHT, "mlp", "test", n=40, seed=1)
    assert run_job(settings).files_ingested == 2 and run_job(settings).changed_files == []
    [committed, *_] = sorted((settings.warehouse / "losses").rglob("*.parquet"))
    with committed.open("ab") as handle:
        handle.write(b"tampered")
    [said] = run_job(settings).changed_files
    relative = committed.relative_to(settings.warehouse).as_posix()
    assert said.startswith(f"{relative} (") and f"lossgram rerun --date {NIGHT}" in said
    assert rerun_job(settings, dt.date.fromisoformat(NIGHT)).changed_files == [said]
    assert run_job(settings).changed_files == []  # rebuilt by the rerun


def test_an_unknown_class_name_is_named_in_its_own_dump_of_a_batch(tmp_path):
    """Small dumps are read together in one query: the names found are the bad dump's,
    not its batch neighbours'."""
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    rng = np.random.default_rng(0)
    for split, labels in (("train", ["a", "b", "c"] * 10), ("test", ["a", "d", "e"] * 10)):
        path = settings.inbox / NIGHT / "model=mlp" / f"split={split}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = pl.DataFrame(
            {
                "sample_id": np.arange(30),
                "label": labels,
                "logits": pl.Series(rng.normal(size=(30, 3)), dtype=pl.Array(pl.Float64, 3)),
            }
        )
        table = frame.to_arrow().replace_schema_metadata({"lossgram.classes": '["a", "b", "c"]'})
        pq.write_table(table, path)
    summary = run_job(settings)
    assert (summary.files_ingested, summary.files_rejected) == (1, 1)
    [rejected] = [outcome for outcome in summary.outcomes if outcome.status == "rejected"]
    assert "split=test" in str(rejected.path)
    assert rejected.error.endswith(
        "column 'label': 20 rows: is not one of the 3 classes (a, b, c) (found 'd', 'e')"
    )
