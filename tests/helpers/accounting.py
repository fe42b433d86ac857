"""Exact row accounting of a warehouse after a recovered run, shared by the fault tests
and bench/kill_soak.py. `root` holds the warehouse in root/"wh", or is a Stored
warehouse (an object store, its catalog on this disk)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import fsspec
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Stored:
    """A warehouse at a folder or URI, its catalog file, read through fsspec."""

    location: str
    catalog: Path

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        protocol = self.location.partition("://")[0] if "://" in self.location else "file"
        return fsspec.filesystem(protocol, use_listings_cache=False, skip_instance_cache=True)

    def parquet_files(self, folder: str) -> set[str]:
        base = self.fs._strip_protocol(self.location).rstrip("/") + "/"
        found = self.fs.find(base + folder) if self.fs.exists(base + folder) else []
        return {key[len(base) :] for key in found if key.endswith(".parquet")}

    def read_bytes(self, relative: str) -> bytes:
        return self.fs.cat_file(self.location.rstrip("/") + "/" + relative)


def stored(root: Path | Stored) -> Stored:
    if isinstance(root, Stored):
        return root
    return Stored(str(root / "wh"), root / "wh" / "lossgram.duckdb")


def query(root: Path | Stored, sql: str) -> list[tuple]:
    where = stored(root)
    with duckdb.connect(str(where.catalog), read_only=True) as connection:
        if "://" in where.location:
            connection.register_filesystem(where.fs)
        return connection.execute(sql).fetchall()


def check_accounting(root: Path | Stored) -> None:
    """Exact row accounting after a recovered run."""
    losses = dict(query(root, "SELECT snapshot_date, count(*) FROM losses GROUP BY ALL"))
    accepted = dict(
        query(
            root,
            "SELECT snapshot_date, sum(rows) FROM ingested_files"
            " WHERE status = 'ingested' GROUP BY ALL",
        )
    )
    assert losses == accepted, "rows in losses differ from the rows of accepted dumps"
    per_group = query(
        root,
        "SELECT s.n, (SELECT count(*) FROM losses l WHERE l.snapshot_date = s.snapshot_date"
        " AND l.model = s.model AND l.split = s.split), (SELECT sum(count) FROM histograms h"
        " WHERE h.snapshot_date = s.snapshot_date AND h.model = s.model AND h.split = s.split"
        " AND h.label IS NULL) FROM summaries s",
    )
    assert per_group and all(n == rows == binned for n, rows, binned in per_group)
    duplicates = query(
        root,
        "SELECT snapshot_date, model, split, sample_id, count(*) FROM losses"
        " GROUP BY ALL HAVING count(*) > 1",
    )
    assert duplicates == []
    referenced = {
        p
        for (p,) in query(
            root,
            "SELECT path FROM live_files UNION ALL SELECT path FROM histogram_files"
            " UNION ALL SELECT path FROM retired_files",
        )
    }
    on_disk = stored(root).parquet_files("losses") | stored(root).parquet_files("histograms")
    assert on_disk == referenced, f"orphans: {sorted(on_disk - referenced)}"
    # Each night's histograms are one committed file, and the catalog holds no row of them.
    nights = query(root, "SELECT count(*) FROM snapshots")[0][0]
    assert query(root, "SELECT count(*) FROM histogram_files") == [(nights,)]
    assert query(root, "SELECT count(*) FROM histogram_rows") == [(0,)]
    manifest = json.loads(stored(root).read_bytes("losses/_manifest.json"))
    live = dict(query(root, "SELECT path, sum(rows) FROM live_files GROUP BY path"))
    assert {"losses/" + f["path"]: f["rows"] for f in manifest["files"]} == live
    for path, rows in live.items():  # a batch file's rows: those of the dumps it holds
        footer = pq.ParquetFile(io.BytesIO(stored(root).read_bytes(path))).metadata
        assert footer.num_rows == rows, path
    check_exports(root)


def check_exports(root: Path | Stored) -> None:
    """tables/<table>/snapshot_date=D/data.parquet mirrors the catalog's last commit of
    every night: the same rows, and the committing run named in its metadata."""
    import io

    import polars as pl
    import pyarrow.parquet as pq

    for snapshot_date, run_id in query(root, "SELECT snapshot_date, run_id FROM snapshots"):
        for table in ("histograms", "summaries", "verdicts"):
            path = f"tables/{table}/snapshot_date={snapshot_date}/data.parquet"
            exported = pq.read_table(io.BytesIO(stored(root).read_bytes(path)))
            assert exported.schema.metadata[b"lossgram.run_id"].decode() == run_id, path
            rows = query(
                root, f"SELECT count(*) FROM {table} WHERE snapshot_date = '{snapshot_date}'"
            )
            assert exported.num_rows == rows[0][0], path
            assert pl.from_arrow(exported).height == rows[0][0]
