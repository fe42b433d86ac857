"""The store seam: a folder (LocalStore) and an object store (ObjectStore, here moto's S3
server on 127.0.0.1) keep a warehouse's files alike: published whole under their final
name, listed relative to the root, removed; small text files; errors in one line."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.warehouse.store import (
    LocalStore,
    ObjectStore,
    StoreError,
    fetch,
    is_object_store,
    open_store,
    parse_location,
)


@pytest.mark.parametrize(
    ("location", "parsed"),
    [
        ("s3://bucket/prefix/", "s3://bucket/prefix"),  # a URI, without its trailing slash
        ("gs://bucket", "gs://bucket"),
        ("file:///srv/wh", Path("/srv/wh")),  # a folder
        ("data/warehouse", Path("data/warehouse")),
    ],
)
def test_a_location_is_a_uri_or_a_folder(location, parsed):
    assert parse_location(location) == parsed
    assert is_object_store(location) == isinstance(parsed, str)


def test_stores_that_would_lose_the_losses_are_refused(tmp_path):
    with pytest.raises(ValueError, match="memory:// is not durable storage"):
        parse_location("memory://wh")
    catalog = tmp_path / "lossgram.duckdb"
    catalog.write_bytes(b"")
    with pytest.raises(ValueError, match="is a file: the warehouse is the folder"):
        parse_location(catalog)


def exercise(store, local: Path) -> None:
    """What a run asks of any store, in order; the same answers from each."""
    assert store.list("losses") == [] and store.read_text("losses/_manifest.json") is None
    for name in ("b", "a"):
        staged = local / f"{name}.parquet"
        pl.DataFrame({"ce": [1.0, 2.0]}).write_parquet(staged)
        store.publish(staged, f"losses/snapshot_date=2026-11-20/model={name}/{name}.parquet")
        assert not staged.exists()  # published files leave the driver's disk
    store.sync_names(store.list("losses"))
    assert store.list("losses") == [
        "losses/snapshot_date=2026-11-20/model=a/a.parquet",
        "losses/snapshot_date=2026-11-20/model=b/b.parquet",
    ]
    location = store.location("losses/snapshot_date=2026-11-20/model=a/a.parquet")
    with store.open(location) as handle:
        assert pl.read_parquet(io.BytesIO(handle.read()))["ce"].to_list() == [1.0, 2.0]
    fetched = fetch(store, location, local)
    assert pl.read_parquet(fetched).height == 2
    with duckdb.connect() as connection:  # DuckDB reads the store's locations
        store.register(connection)
        assert connection.sql(f"SELECT count(*) FROM '{location}'").fetchall() == [(2,)]
    store.write_text("losses/_manifest.json", '{"version": 1}\n')
    store.write_text("losses/_manifest.json", '{"version": 2}\n')  # replaced whole
    assert store.read_text("losses/_manifest.json") == '{"version": 2}\n'
    store.remove(["losses/snapshot_date=2026-11-20/model=b/b.parquet", "losses/never.parquet"])
    assert store.list("losses/snapshot_date=2026-11-20") == [
        "losses/snapshot_date=2026-11-20/model=a/a.parquet"
    ]
    store.remove([])


def test_a_folder_store(tmp_path):
    root, local = tmp_path / "wh", tmp_path / "staging"
    local.mkdir()
    store = open_store(root)
    assert store == LocalStore(root.resolve()) and store.mounted
    assert store.name == str(root.resolve())
    exercise(store, local)
    gone = root / "losses" / "snapshot_date=2026-11-20" / "model=b"
    assert not gone.exists()  # a folder left empty goes with its last file
    location = store.location("losses/snapshot_date=2026-11-20/model=a/a.parquet")
    assert fetch(store, location, local) == Path(location)  # mounted: read where it is


@pytest.mark.s3
def test_an_object_store(tmp_path, bucket):
    local = tmp_path / "staging"
    local.mkdir()
    store = open_store(f"s3://{bucket}/wh/")
    assert isinstance(store, ObjectStore) and not store.mounted
    assert store.name == f"s3://{bucket}/wh"
    exercise(store, local)
    fetched = fetch(
        store, store.location("losses/snapshot_date=2026-11-20/model=a/a.parquet"), local
    )
    assert fetched.parent == local  # downloaded to the driver's disk


@pytest.mark.s3
def test_object_store_errors_are_one_line(s3_env):
    store = open_store("s3://no-such-bucket-here/wh")
    with pytest.raises(StoreError) as refused:
        store.write_text("catalog.location", "x\n")
    message = str(refused.value)
    assert message.startswith("warehouse s3://no-such-bucket-here/wh: ")
    assert "\n" not in message and "botocore" not in message
    assert store.read_text("catalog.location") is None  # a missing object is no error
    assert store.list("losses") == []
