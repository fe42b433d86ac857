"""The warehouse's file layout: folder names for models, placing staged losses (one file
per model, a batch file's kept dumps alone), carrying a batch file's other dumps over,
the manifest, cleaning up after a dead run, and finding the catalog."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import unquote

import duckdb
import polars as pl
import pytest

from pipeline.base.errors import WarehouseError
from pipeline.warehouse.layout import (
    CATALOG_POINTER,
    DUMP_COLUMN,
    MAX_FOLDER_VALUE,
    Layout,
    PlacedFile,
    carry_over,
    clear_work_in_progress,
    locate_catalog,
    model_folder_value,
    place,
    remove_unreferenced,
    write_manifest,
)
from pipeline.warehouse.ledger import manifest_text
from pipeline.warehouse.store import LocalStore

NIGHT = dt.date(2026, 11, 20)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    root = tmp_path / "wh"
    root.mkdir()
    return Layout(root, LocalStore(root), root / "lossgram.duckdb")


def losses(path: Path, rows: dict[str, list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_parquet(path)
    return path


@pytest.mark.parametrize(
    "name", ["resnet 50", "resnet/50", "../../x", "a=b", "Ünïcødé 模型", "%2F"]
)
def test_a_model_folder_is_its_name_percent_encoded(name):
    value = model_folder_value(name)
    assert "/" not in value and value not in (".", "..")
    assert unquote(value) == name  # as DuckDB, Polars and pyarrow decode hive folders


def test_a_long_model_name_gets_a_short_hashed_folder():
    long, other = "m" * 300, "m" * 299 + "n"
    value = model_folder_value(long)
    assert len(value.encode()) <= MAX_FOLDER_VALUE < 255 and "~" in value
    assert value != model_folder_value(other)  # names that differ late stay apart
    assert model_folder_value("m" * 10) == "m" * 10


def test_partitions(layout):
    assert layout.partition(NIGHT) == "losses/snapshot_date=2026-11-20"
    assert layout.partition(NIGHT, "a/b") == "losses/snapshot_date=2026-11-20/model=a%2Fb"
    assert layout.location("losses/x.parquet") == str(layout.root / "losses" / "x.parquet")


def test_a_dumps_file_of_one_model_is_moved_whole(layout, tmp_path):
    staged = losses(tmp_path / "staging" / "0.parquet", {"model": ["m"] * 3, "ce": [1.0] * 3})
    placed = place(layout, NIGHT, staged, ["/inbox/d.parquet"], "run1-000000")
    target = "losses/snapshot_date=2026-11-20/model=m/run1-000000-0.parquet"
    assert placed == [PlacedFile(target, NIGHT, "m", "/inbox/d.parquet", 3)]
    assert not staged.exists() and (layout.root / target).is_file()
    assert layout.data_files() == [target]


def test_a_file_of_two_models_is_placed_as_one_file_per_model(layout, tmp_path):
    staged = losses(tmp_path / "0.parquet", {"model": ["b", "a", "b"], "ce": [1.0, 2.0, 3.0]})
    placed = place(layout, NIGHT, staged, ["/inbox/d.parquet"], "run1-000000")
    assert [(p.model, p.rows) for p in placed] == [("a", 1), ("b", 2)]
    for file in placed:
        rows = pl.read_parquet(layout.root / file.path)
        assert rows["model"].to_list() == [file.model] * file.rows


def test_a_batch_file_keeps_the_rows_of_the_dumps_it_is_placed_for(layout, tmp_path):
    staged = losses(
        tmp_path / "batch.parquet",
        {"model": ["m"] * 5, "ce": [1.0, 2.0, 3.0, 4.0, 5.0], DUMP_COLUMN: list("xxyzz")},
    )
    placed = place(layout, NIGHT, staged, ["x", "z"], "run1-000000")  # y was rejected since
    assert [(p.dump_path, p.rows) for p in placed] == [("x", 2), ("z", 2)]
    assert {p.path for p in placed} == {placed[0].path}  # one file, listed once per dump
    kept = pl.read_parquet(layout.root / placed[0].path)
    assert sorted(kept[DUMP_COLUMN].to_list()) == ["x", "x", "z", "z"]


def test_carrying_over_copies_the_other_dumps_rows(layout, tmp_path):
    committed = "losses/snapshot_date=2026-11-20/model=m/run0-000000-0.parquet"
    losses(layout.root / committed, {"model": ["m"] * 3, "ce": [1.0, 2.0, 3.0],
                                     DUMP_COLUMN: ["x", "y", "z"]})  # fmt: skip
    staging = tmp_path / "staging"
    staging.mkdir()
    carried = carry_over(layout, committed, ["x", "z"], staging)
    assert carried.parent == staging
    assert pl.read_parquet(carried)[DUMP_COLUMN].to_list() == ["x", "z"]
    assert (layout.root / committed).is_file()  # the committed file is left alone


def test_the_manifest_lists_each_file_once_with_the_rows_of_its_dumps(layout):
    path = "losses/snapshot_date=2026-11-20/model=m/run1-000000-0.parquet"
    with duckdb.connect() as connection:  # the catalog's live_files, a batch file twice
        connection.execute(
            "create table live_files as select * from (values (?, ?::DATE, 'm', 'x', 2),"
            " (?, ?::DATE, 'm', 'z', 3)) t(path, snapshot_date, model, dump_path, rows)",
            [path, NIGHT, path, NIGHT],
        )
        write_manifest(layout, manifest_text(connection, "run1:2026-11-20"))
    manifest = json.loads((layout.root / "losses" / "_manifest.json").read_text())
    assert manifest == {
        "version": 1,
        "commit": "run1:2026-11-20",
        "files": [
            {
                "path": "snapshot_date=2026-11-20/model=m/run1-000000-0.parquet",
                "snapshot_date": "2026-11-20",
                "model": "m",
                "rows": 5,
            }
        ],
    }


def test_files_no_commit_lists_are_removed_and_listed_ones_kept(layout):
    night = layout.root / "losses" / "snapshot_date=2026-11-20"
    listed = losses(night / "model=m" / "listed.parquet", {"ce": [1.0]})
    losses(night / "model=m" / "orphan.parquet", {"ce": [1.0]})
    losses(night / "model=gone" / "orphan.parquet", {"ce": [1.0]})
    (night / "model=m" / ".half-written.tmp").write_bytes(b"cut")
    (night / "model=m" / "notes.txt").write_text("not ours to remove")
    kept = [listed.relative_to(layout.root).as_posix()]
    assert remove_unreferenced(layout, kept) == 2  # data files removed (the .tmp too)
    assert sorted(p.name for p in night.rglob("*")) == ["listed.parquet", "model=m", "notes.txt"]


def test_what_a_dead_run_left_beside_its_files_is_cleared(layout):
    (layout.staging / "run1" / "2026-11-20").mkdir(parents=True)
    (layout.staging / "run1" / "2026-11-20" / "000000.parquet").write_bytes(b"staged")
    layout.catalogs.mkdir()
    (layout.catalogs / "next-abc.duckdb").write_bytes(b"unfinished")
    # A partition an older lossgram's rerun had moved aside goes back first.
    aside = layout.staging / "old" / "2026-11-20" / "trash" / "snapshot_date=2026-11-20+model=m"
    aside.mkdir(parents=True)
    (aside / "kept.parquet").write_bytes(b"rows")
    clear_work_in_progress(layout)
    assert not layout.staging.exists() and not layout.catalogs.exists()
    back = layout.root / "losses" / "snapshot_date=2026-11-20" / "model=m" / "kept.parquet"
    assert back.read_bytes() == b"rows"


def test_the_catalog_of_a_folder_is_found_and_never_silently_changes(tmp_path):
    root = tmp_path / "wh"
    root.mkdir()
    store = LocalStore(root)
    assert locate_catalog(store, root, None) == root / "lossgram.duckdb"
    elsewhere = tmp_path / "driver" / "lossgram.duckdb"
    assert locate_catalog(store, root, elsewhere) == elsewhere.resolve()  # a new warehouse
    assert store.read_text(CATALOG_POINTER) == f"{elsewhere.resolve()}\n"  # recorded
    assert locate_catalog(store, root, None) == elsewhere.resolve()  # readers find it
    with pytest.raises(WarehouseError, match=r"the warehouse's catalog is .*driver"):
        locate_catalog(store, root, tmp_path / "other.duckdb")


def test_a_catalog_apart_belongs_to_one_warehouse(tmp_path):
    """Two warehouse folders naming one catalog once shared its ledger silently (the
    second ingested nothing): the second is refused, naming both."""
    from pipeline.warehouse.layout import locate_catalog

    catalog = tmp_path / "disk" / "lossgram.duckdb"
    first, second = tmp_path / "wh1", tmp_path / "wh2"
    assert locate_catalog(LocalStore(first), first, catalog) == catalog
    assert locate_catalog(LocalStore(first), first, catalog) == catalog  # again: its own
    with pytest.raises(WarehouseError, match=f"belongs to the warehouse {first}, not {second}"):
        locate_catalog(LocalStore(second), second, catalog)
