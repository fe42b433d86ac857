"""The catalog: a commit is one transaction on a copy swapped in by a rename (all or
nothing; open readers keep what they opened), migrations bring a new file to the known
schema, a newer one is refused, the writer lock names its holder, and a copied
warehouse reads its own files."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import polars as pl
import pytest

from pipeline.base.errors import WarehouseError
from pipeline.contract.cross_entropy import LOSS_SCHEMA
from pipeline.warehouse.catalog import Warehouse, known_version, schema_version, transaction
from pipeline.warehouse.layout import PlacedFile
from pipeline.warehouse.ledger import commit_files

NIGHT = dt.date(2026, 11, 20)


def committed(tmp_path) -> Warehouse:
    """A warehouse with one committed losses file of three rows."""
    warehouse = Warehouse(tmp_path / "wh")
    relative = f"{warehouse.layout.partition(NIGHT, 'm')}/run0-0.parquet"
    path = warehouse.layout.root / relative
    path.parent.mkdir(parents=True)
    rows = {"sample_id": ["1", "2", "3"], "model": ["m"] * 3, "ce": [0.1, 0.2, 0.3]}
    frame = pl.DataFrame(rows).with_columns(
        pl.lit(None, dtype).alias(name) for name, dtype in LOSS_SCHEMA.items() if name not in rows
    )
    frame.select(LOSS_SCHEMA.names()).with_columns(snapshot_date=pl.lit(NIGHT)).write_parquet(path)
    with warehouse.commit() as catalog:
        commit_files(catalog, "run0", [PlacedFile(relative, NIGHT, "m", "/in/d.parquet", 3)], None)
        warehouse.bind_losses_view(catalog)
    return warehouse


def test_a_first_commit_makes_the_catalog_at_the_known_schema(tmp_path):
    warehouse = Warehouse(tmp_path / "wh")
    with pytest.raises(WarehouseError, match=r"no warehouse at .*run `lossgram run` first"):
        warehouse.connect()
    with warehouse.commit() as catalog:
        warehouse.bind_losses_view(catalog)
    with warehouse.reading() as connection:
        assert schema_version(connection, warehouse.catalog) == known_version()
        assert connection.sql("SELECT count(*) FROM losses").fetchall() == [(0,)]
    assert list(warehouse.layout.catalogs.iterdir()) == []  # no draft left behind


def test_a_failed_commit_changes_nothing(tmp_path):
    warehouse = committed(tmp_path)
    before = warehouse.catalog.read_bytes()
    with pytest.raises(RuntimeError, match="power cut"), warehouse.commit() as catalog:
        catalog.execute("DELETE FROM live_files")
        raise RuntimeError("power cut")
    assert warehouse.catalog.read_bytes() == before
    assert list(warehouse.layout.catalogs.iterdir()) == []
    with warehouse.reading() as connection:
        assert connection.sql("SELECT count(*) FROM losses").fetchall() == [(3,)]


def test_readers_keep_the_catalog_they_opened_while_a_commit_swaps_in(tmp_path):
    warehouse = committed(tmp_path)
    with warehouse.reading(losses_view=False) as reader:
        with warehouse.commit() as catalog:  # the writer never opens the committed file
            catalog.execute("DELETE FROM live_files")
        assert reader.sql("SELECT count(*) FROM live_files").fetchall() == [(1,)]
    with warehouse.reading(losses_view=False) as reader:  # a new reader sees the commit
        assert reader.sql("SELECT count(*) FROM live_files").fetchall() == [(0,)]


def test_a_catalog_a_newer_lossgram_made_is_refused(tmp_path):
    warehouse = committed(tmp_path)
    with duckdb.connect(str(warehouse.catalog)) as connection:
        connection.execute("INSERT INTO schema_version (version, name) VALUES (999, 'x')")
    with pytest.raises(WarehouseError, match="schema version 999, newer than this lossgram"):
        warehouse.connect()
    with pytest.raises(WarehouseError, match="newer"), warehouse.commit():
        pass


def test_a_transaction_is_all_or_nothing():
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(ValueError), transaction(connection):
            connection.execute("INSERT INTO t VALUES (1)")
            raise ValueError("half way")
        with transaction(connection):
            connection.execute("INSERT INTO t VALUES (2)")
        assert connection.sql("SELECT x FROM t").fetchall() == [(2,)]


def test_the_writer_lock_names_its_holder(tmp_path):
    import os

    warehouse = Warehouse(tmp_path / "wh")
    with warehouse.lock(0):
        assert warehouse.layout.lock_file.read_text() == f"pid {os.getpid()}"
        with (
            pytest.raises(
                WarehouseError, match=rf"locked by another lossgram run \(pid {os.getpid()}\)"
            ),
            Warehouse(tmp_path / "wh").lock(0),
        ):
            pass
    with Warehouse(tmp_path / "wh").lock(0):  # released: taken at once
        pass


def test_a_copied_warehouse_reads_its_own_files(tmp_path):
    original = committed(tmp_path)
    shutil.copytree(original.layout.root, tmp_path / "copy")
    shutil.rmtree(original.layout.root / "losses")  # the original's files are gone
    copy = Warehouse(tmp_path / "copy")
    with copy.reading() as connection:  # this session's view: the copy's files
        assert connection.sql("SELECT sum(ce) FROM losses").fetchall()[0][0] == pytest.approx(0.6)
    with duckdb.connect(str(copy.catalog), read_only=True) as plain, pytest.raises(duckdb.Error):
        plain.sql("SELECT count(*) FROM losses").fetchall()  # the stored view: moved, it says
    with copy.commit() as catalog:
        copy.follow_move(catalog)
    with duckdb.connect(str(copy.catalog), read_only=True) as plain:
        assert plain.sql("SELECT count(*) FROM losses").fetchall() == [(3,)]


def test_a_warehouse_name_with_glob_characters_is_refused(tmp_path):
    with pytest.raises(WarehouseError, match="rename it"):
        Warehouse(tmp_path / "wh[1]")


def test_a_commit_refuses_a_catalog_another_process_holds_read_write(tmp_path):
    """An analyst's read-write session open across a run once lost its writes silently
    (the run swapped the file under it): the commit refuses, and changes nothing."""
    import subprocess
    import sys
    import time

    warehouse = committed(tmp_path)
    ready = tmp_path / "holding"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, pathlib, sys\n"
            f"c = duckdb.connect({str(warehouse.catalog)!r})\n"
            f"pathlib.Path({str(ready)!r}).write_text('x')\n"
            "sys.stdin.read()\n",  # holds the catalog until its stdin closes
        ],
        stdin=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60  # a poll with a generous bound (a busy machine)
        while not ready.exists() and holder.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ready.exists(), "the holder never opened the catalog"
        before = warehouse.catalog.read_bytes()
        with (
            pytest.raises(WarehouseError, match="open read-write by another process"),
            warehouse.commit(),
        ):
            pass
        assert warehouse.catalog.read_bytes() == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    with warehouse.commit():  # closed: commits again
        pass
