"""A full disk under the warehouse: the run stops naming the file and the space, nothing
half-written is committed or left behind, and once there is room the next run lands
everything exactly once. The warehouse lives on a real, small tmpfs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app

MIB = 2**20


def mount_tmpfs(folder: Path, size_bytes: int, remount: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    options = ("remount," if remount else "") + f"size={size_bytes}"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def small_disk(tmp_path: Path):
    folder = tmp_path / "wh"
    mount_tmpfs(folder, 256 * MIB)
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def write_night(inbox: Path, night: str, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for split in ("train", "test"):
        path = inbox / night / "model=mlp" / f"split={split}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(
            {
                "sample_id": np.arange(n),
                "label": rng.integers(0, 10, n),
                "logits": pl.Series(rng.normal(size=(n, 10)), dtype=pl.Array(pl.Float64, 10)),
            }
        ).write_parquet(path)


def used_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@pytest.mark.slow
def test_a_full_disk_stops_the_run_cleanly_and_the_next_run_lands_it(tmp_path, small_disk):
    inbox = tmp_path / "inbox"
    arguments = ["--inbox", str(inbox), "--warehouse", str(small_disk)]
    arguments += ["--reports", str(tmp_path / "reports")]
    write_night(inbox, "2026-11-20", 2_000, seed=0)
    assert CliRunner().invoke(app, ["run", *arguments]).exit_code == 0
    catalog = (small_disk / "lossgram.duckdb").stat().st_size
    # Room for the catalog's copies, not for the next night's losses.
    mount_tmpfs(small_disk, used_bytes(small_disk) + 2 * catalog + 2 * MIB, remount=True)
    write_night(inbox, "2026-11-21", 400_000, seed=1)
    result = CliRunner().invoke(app, ["run", *arguments])
    assert result.exit_code == 2
    assert "no space left on the device to write" in result.output
    assert str(small_disk) in result.output and "MiB free" in result.output
    assert "Traceback" not in result.output
    leftovers = [p for p in small_disk.rglob("*.parquet") if "2026-11-21" in str(p)]
    assert leftovers == []  # nothing half-written is left
    with duckdb.connect(str(small_disk / "lossgram.duckdb"), read_only=True) as connection:
        nights = connection.execute("select count(*), min(snapshot_date) from losses").fetchall()
    assert nights[0][0] == 4_000  # readers see night 1 whole and night 2 not at all
    mount_tmpfs(small_disk, 512 * MIB, remount=True)
    assert CliRunner().invoke(app, ["run", *arguments]).exit_code == 0
    with duckdb.connect(str(small_disk / "lossgram.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            "select snapshot_date::VARCHAR, count(*) from losses group by all order by 1"
        ).fetchall()
        samples = connection.execute("select sum(n) from summaries").fetchall()
    assert rows == [("2026-11-20", 4_000), ("2026-11-21", 800_000)]
    assert samples == [(804_000,)]
