"""The stored `losses` view reads one view per month of committed files: a commit makes
again its night's month alone (binding a view over every file of a year took ~0.2 s a
commit), and the `losses` view itself only when a month comes; what readers see is every
committed row, as before."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.nightly.driver import run_job
from pipeline.settings import Settings
from pipeline.warehouse import losses_view
from tests.helpers.dumps import write_hive_split


def land(settings: Settings, day: str, n: int) -> None:
    for split, seed in (("train", 0), ("test", 1)):
        write_hive_split(settings.inbox, day, "mlp", split, n=n, seed=seed)
    assert run_job(settings).status == "succeeded"


def views(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select view_name, sql from duckdb_views() where not internal"
            " and (view_name = 'losses' or view_name like 'losses_of_%')"
        ).fetchall()
    return dict(rows)


def rows_by_night(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select snapshot_date::VARCHAR, count(*), count(p_true), count(correct)"
            " from losses group by 1 order by 1"
        ).fetchall()


def test_a_commit_makes_again_its_month_and_the_losses_view_only_for_a_new_month(tmp_path):
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    database = settings.warehouse / "lossgram.duckdb"
    land(settings, "2026-11-29", 50)
    first = views(database)
    assert set(first) == {"losses", "losses_of_2026_11"}
    land(settings, "2026-11-30", 60)  # the same month: its view alone is made again
    second = views(database)
    assert second["losses"] == first["losses"]
    assert second["losses_of_2026_11"] != first["losses_of_2026_11"]
    assert rows_by_night(database) == [("2026-11-29", 100, 100, 100), ("2026-11-30", 120, 120, 120)]
    land(settings, "2026-12-01", 70)  # a new month: the losses view reads it too
    third = views(database)
    assert set(third) == {"losses", "losses_of_2026_11", "losses_of_2026_12"}
    assert third["losses"] != second["losses"]
    assert [rows for _, rows, _, _ in rows_by_night(database)] == [100, 120, 140]


def test_a_commit_lists_the_files_of_its_month_alone(tmp_path, monkeypatch):
    """Binding the views of a night's commit reads the committed files of the months
    whose views it makes again, not every night's (a year is ~12,000 files)."""
    settings = Settings(inbox=tmp_path / "inbox", warehouse=tmp_path / "wh")
    database = settings.warehouse / "lossgram.duckdb"
    land(settings, "2026-11-29", 50)
    land(settings, "2026-11-30", 50)
    asked: list[list[str] | None] = []
    listed = losses_view.live_listed

    def recorded(connection, months=None):
        asked.append(months)
        found = listed(connection, months)
        asked.append(sorted({str(day)[:7] for _, day, _ in found}))
        return found

    monkeypatch.setattr(losses_view, "live_listed", recorded)
    land(settings, "2026-12-01", 70)  # a new month: its files alone, the losses view again
    assert asked == [["losses_of_2026_12"], ["2026-12"]]
    asked.clear()
    land(settings, "2026-12-02", 80)
    assert asked == [["losses_of_2026_12"], ["2026-12"]]
    assert [rows for _, rows, _, _ in rows_by_night(database)] == [100, 100, 140, 160]
    assert set(views(database)) == {"losses", "losses_of_2026_11", "losses_of_2026_12"}
