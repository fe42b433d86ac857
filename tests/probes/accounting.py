"""Exact row accounting of a warehouse after a recovered run, shared by the fault tests
and bench/kill_soak.py. `root` holds the warehouse in root/"wh"."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "wh" / "lossgram.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def check_accounting(root: Path) -> None:
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
            root, "SELECT path FROM live_files UNION ALL SELECT path FROM retired_files"
        )
    }
    on_disk = {
        path.relative_to(root / "wh").as_posix()
        for path in (root / "wh" / "losses").rglob("*.parquet")
    }
    assert on_disk == referenced, f"orphans: {sorted(on_disk - referenced)}"
    manifest = json.loads((root / "wh" / "losses" / "_manifest.json").read_text())
    live = {p for (p,) in query(root, "SELECT path FROM live_files")}
    assert {"losses/" + f["path"] for f in manifest["files"]} == live
    check_exports(root)


def check_exports(root: Path) -> None:
    """tables/<table>/snapshot_date=D/data.parquet mirrors the catalog's last commit of
    every night: the same rows, and the committing run named in its metadata."""
    import polars as pl
    import pyarrow.parquet as pq

    for snapshot_date, run_id in query(root, "SELECT snapshot_date, run_id FROM snapshots"):
        for table in ("histograms", "summaries", "verdicts"):
            path = (
                root / "wh" / "tables" / table / f"snapshot_date={snapshot_date}" / "data.parquet"
            )
            exported = pq.read_table(path)
            assert exported.schema.metadata[b"lossgram.run_id"].decode() == run_id, path
            rows = query(
                root, f"SELECT count(*) FROM {table} WHERE snapshot_date = '{snapshot_date}'"
            )
            assert exported.num_rows == rows[0][0], path
            assert pl.from_arrow(exported).height == rows[0][0]
