"""Which committed rows a night keeps when it lands (nightly/landing.py): a dump read again
replaces its own rows, also under the path it had before the inbox moved; a batch file
holding it beside other dumps is retired whole and the others' rows carried over; a
rerun replaces the night, or one model of it, whole; a dump left for the next run keeps
its rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from pipeline.base.results import ComputedDump, FileOutcome, Fingerprint
from pipeline.nightly.landing import CommittedAtStart
from pipeline.warehouse.layout import PlacedFile

NIGHT, OTHER_NIGHT = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
COMMITTED = [
    PlacedFile("batch.parquet", NIGHT, "mlp", "/in/x.parquet", 10),
    PlacedFile("batch.parquet", NIGHT, "mlp", "/in/y.parquet", 10),
    PlacedFile("tree.parquet", NIGHT, "tree", "/in/t.parquet", 10),
    PlacedFile("later.parquet", OTHER_NIGHT, "mlp", "/in/later/x.parquet", 10),
]


def read(path: str, record: bool = True) -> ComputedDump:
    outcome = FileOutcome(Path(path), NIGHT, "ingested")
    return ComputedDump(outcome, Fingerprint(1, 1.0, "s"), pl.DataFrame(), None, record)


def at_start(rerun: bool = False, moved_from: dict[Path, str] | None = None) -> CommittedAtStart:
    return CommittedAtStart(COMMITTED, {}, rerun, moved_from or {})


def test_a_dump_read_again_replaces_its_rows_and_its_batch_file_is_carried_over():
    known, computed = at_start(), [read("/in/y.parquet")]
    assert known.read_again(computed) == {"/in/y.parquet"}
    staying = known.staying(NIGHT, computed, None)
    assert [(f.path, f.dump_path) for f in staying] == [
        ("batch.parquet", "/in/x.parquet"),  # until the batch file is retired ...
        ("tree.parquet", "/in/t.parquet"),
    ]
    assert known.carried(NIGHT, computed) == {"batch.parquet": ["/in/x.parquet"]}  # ... x moves


def test_a_batch_file_whose_dumps_are_all_read_again_is_not_carried():
    computed = [read("/in/x.parquet"), read("/in/y.parquet")]
    assert at_start().carried(NIGHT, computed) == {}
    assert [f.path for f in at_start().staying(NIGHT, computed, None)] == ["tree.parquet"]


def test_a_dump_found_at_a_new_place_replaces_the_rows_of_its_old_path():
    moved = {Path("/new/y.parquet"): "/in/y.parquet"}
    known, computed = at_start(moved_from=moved), [read("/new/y.parquet")]
    assert known.read_again(computed) == {"/new/y.parquet", "/in/y.parquet"}
    assert known.carried(NIGHT, computed) == {"batch.parquet": ["/in/x.parquet"]}


def test_a_dump_left_for_the_next_run_keeps_its_rows():
    computed = [read("/in/y.parquet", record=False)]  # it changed while it was read
    assert at_start().read_again(computed) == set()
    assert len(at_start().staying(NIGHT, computed, None)) == 3
    assert at_start().carried(NIGHT, computed) == {}


def test_a_rerun_replaces_the_night_or_one_model_whole():
    rerun = at_start(rerun=True)
    assert rerun.staying(NIGHT, [read("/in/x.parquet")], None) == []
    assert [f.model for f in rerun.staying(NIGHT, [], "mlp")] == ["tree"]
    assert rerun.carried(NIGHT, [read("/in/x.parquet")]) == {}  # whole files, no carry-over


def test_other_nights_are_never_touched():
    known = at_start()
    assert known.staying(OTHER_NIGHT, [read("/in/x.parquet")], None) == [COMMITTED[3]]
    assert known.carried(OTHER_NIGHT, [read("/in/x.parquet")]) == {}
