"""The inbox: which dumps a run reads and into which night, what the ledger's fingerprints
decide (new, unchanged, changed, moved), and what a rerun finds again."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from pipeline.base.errors import InboxError
from pipeline.base.files import file_sha256
from pipeline.base.results import Fingerprint, KnownDump
from pipeline.ingest.inbox import date_folder_of, is_unchanged, plan_inbox, verify_recorded

TODAY = dt.date(2026, 11, 25)


def dump(inbox: Path, relative: str, content: bytes = b"PAR1 rows PAR1") -> Path:
    """A file named like a dump (the plan reads names and bytes, not Parquet)."""
    path = inbox / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def known(path: Path, inbox: Path, sha256: str | None = None) -> KnownDump:
    """The ledger's record of a dump as it is now."""
    stat = path.stat()
    fingerprint = Fingerprint(stat.st_size, stat.st_mtime, sha256 or file_sha256(path))
    return KnownDump(str(path), str(inbox), fingerprint)


@pytest.mark.parametrize(
    ("relative", "night"),
    [
        ("2026-11-20/m.parquet", dt.date(2026, 11, 20)),
        ("date=2026-11-20/model=m/split=test/part-0.parquet", dt.date(2026, 11, 20)),
        ("m.parquet", None),  # a dump at the top: the run's date
        ("models/m.parquet", None),
        ("2026-11-20.parquet", None),  # a file, not a folder
    ],
)
def test_the_top_folder_names_the_night(tmp_path, relative, night):
    assert date_folder_of(tmp_path / relative, tmp_path) == night


def test_a_folder_that_looks_like_a_date_but_is_none_is_an_error(tmp_path):
    with pytest.raises(InboxError, match="2026-02-30: not a valid date folder"):
        date_folder_of(tmp_path / "2026-02-30" / "m.parquet", tmp_path)


def test_a_plan_sorts_new_dumps_into_nights_and_lists_what_it_skips(tmp_path):
    inbox = tmp_path / "inbox"
    first = dump(inbox, "2026-11-20/a.parquet")
    second = dump(inbox, "2026-11-21/model=m/b.parquet")
    top = dump(inbox, "c.parquet")
    dump(inbox, "2026-02-30/d.parquet")  # waits until the folder is renamed
    dump(inbox, "notes.txt")
    plan = plan_inbox(inbox, [], TODAY)
    assert plan.by_date == {
        dt.date(2026, 11, 20): [first],
        dt.date(2026, 11, 21): [second],
        TODAY: [top],
    }
    assert (plan.files_seen, plan.files_unchanged, plan.inbox) == (3, 0, inbox.resolve())
    assert {(entry.path.name, entry.reason) for entry in plan.skipped} == {
        ("2026-02-30", "not a valid date folder (YYYY-MM-DD)"),
        ("notes.txt", "not a .parquet file"),
    }
    assert plan.moved_from == {}


def test_a_backfill_reads_only_date_folders_in_its_range(tmp_path):
    inbox = tmp_path / "inbox"
    dump(inbox, "2026-11-19/a.parquet")
    inside = dump(inbox, "2026-11-20/a.parquet")
    dump(inbox, "2026-11-22/a.parquet")
    dump(inbox, "top.parquet")  # no date folder: never part of a backfill
    days = (dt.date(2026, 11, 20), dt.date(2026, 11, 21))
    plan = plan_inbox(inbox, [], TODAY, date_range=days)
    assert plan.by_date == {dt.date(2026, 11, 20): [inside]}
    assert plan.files_seen == 1


def test_the_ledger_decides_what_is_read_again(tmp_path):
    inbox = (tmp_path / "inbox").resolve()
    same = dump(inbox, "2026-11-20/same.parquet")
    touched = dump(inbox, "2026-11-20/touched.parquet")
    changed = dump(inbox, "2026-11-20/changed.parquet", b"version 1")
    records = [known(path, inbox) for path in (same, touched, changed)]
    os.utime(touched, (1, 1))  # a new mtime, the same bytes: hashed, unchanged
    changed.write_bytes(b"version 2")  # the same size, other bytes
    new = dump(inbox, "2026-11-20/new.parquet")
    plan = plan_inbox(inbox, records, TODAY)
    assert plan.by_date == {dt.date(2026, 11, 20): [changed, new]}
    assert (plan.files_seen, plan.files_unchanged) == (4, 2)
    assert plan.moved_from == {}  # read again at the place it was read before


def test_a_moved_inbox_reads_nothing_again_and_a_changed_dump_names_its_old_place(tmp_path):
    old = (tmp_path / "old").resolve()
    records = [
        known(dump(old, "2026-11-20/kept.parquet", b"kept"), old),
        known(dump(old, "2026-11-20/edited.parquet", b"before"), old),
    ]
    new = (tmp_path / "new").resolve()
    dump(new, "2026-11-20/kept.parquet", b"kept")
    edited = dump(new, "2026-11-20/edited.parquet", b"after!")
    plan = plan_inbox(new, records, TODAY)
    assert plan.by_date == {dt.date(2026, 11, 20): [edited]}
    assert plan.files_unchanged == 1
    assert plan.moved_from == {edited: str(old / "2026-11-20" / "edited.parquet")}


def test_size_and_mtime_decide_at_the_same_place_and_the_hash_elsewhere(tmp_path):
    path = dump(tmp_path, "a.parquet", b"12345")
    # Same place, size and mtime: unchanged without reading the bytes (the hash is not
    # looked at, so even a wrong one does not matter).
    assert is_unchanged(path, known(path, tmp_path, sha256="not-read"))
    elsewhere = KnownDump("/gone/a.parquet", "/gone", known(path, tmp_path).fingerprint)
    assert is_unchanged(path, elsewhere)  # read before at another place: the hash decides
    wrong = KnownDump("/gone/a.parquet", "/gone", Fingerprint(5, 0.0, "0" * 64))
    assert not is_unchanged(path, wrong)
    grown = known(path, tmp_path)
    path.write_bytes(b"123456")
    assert not is_unchanged(path, grown)  # another size: changed, nothing hashed


def test_a_rerun_finds_its_dumps_where_they_were_or_in_todays_inbox(tmp_path):
    day = dt.date(2026, 11, 20)
    old = (tmp_path / "old").resolve()
    here = dump(old, "2026-11-20/here.parquet", b"here")
    moved = dump(old, "2026-11-20/moved.parquet", b"moved")
    records = [known(here, old), known(moved, old)]
    new = (tmp_path / "new").resolve()
    moved_now = dump(new, "2026-11-20/moved.parquet", b"moved")
    moved.unlink()
    paths, moved_from = verify_recorded(day, records, new)
    assert paths == [here, moved_now]
    assert moved_from == {moved_now: str(moved)}


def test_a_rerun_refuses_missing_or_changed_dumps_naming_each(tmp_path):
    day = dt.date(2026, 11, 20)
    with pytest.raises(InboxError, match="no dumps were recorded for 2026-11-20: nothing"):
        verify_recorded(day, [], tmp_path)
    gone = dump(tmp_path, "2026-11-20/gone.parquet", b"gone")
    edited = dump(tmp_path, "2026-11-20/edited.parquet", b"before")
    records = [known(gone, tmp_path), known(edited, tmp_path)]
    gone.unlink()
    edited.write_bytes(b"after!")
    with pytest.raises(InboxError) as refused:
        verify_recorded(day, records, tmp_path / "elsewhere")
    message = str(refused.value)
    assert message.startswith("cannot rerun 2026-11-20, recorded dumps changed: ")
    assert f"{gone}: missing" in message
    assert f"{edited}: sha256 differs from the one recorded" in message
