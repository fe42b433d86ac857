"""The runs' notes: what a run says on the driver's disk before it writes, so that it
needs no catalog commit of its own at its start (each commit copies the catalog).

A run keeps one small JSON file, <root>/.runs/<run_id>.json, written whole and flushed
(file and folder) when it starts and again once it knows the nights it lands, before it
places a file: the job_runs row it would record (run, command, start, version, settings)
and the folders of the store it may write data files into. The next run reads the notes
left there (pipeline/nightly/recovery.py):

- a run its catalog records as ended (succeeded, partial or failed) wrote data files
  only into the folders it named, so the clean-up lists those alone, not every night;
- a run that died (no job_runs row, or one still `running`) is recorded as failed from
  its note, and the clean-up lists every folder, as before notes were kept (a crash is
  rare; the clean-up then does not rest on how far the note got). So does a note that
  cannot be read, or no `.runs` folder at all (the first run of a lossgram that keeps
  notes, or a folder someone removed);

then deletes the notes once its own first commit has recorded what they said.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.base.files import atomic_write_text, flush
from pipeline.warehouse.layout import HISTOGRAMS_FOLDER, LOSSES_FOLDER, Layout

NOTES_FOLDER = ".runs"
# A note's `folders` entry for "anywhere in the store": the clean-up lists everything.
EVERYWHERE = ""


@dataclass(frozen=True)
class RunNote:
    """One run's note: the job_runs row it would record (None: a note that cannot be
    read) and the store folders it may have written data files into."""

    name: str  # the note's file name, <run_id>.json
    run: dict[str, Any] | None
    folders: tuple[str, ...] = field(default=(EVERYWHERE,))

    @property
    def run_id(self) -> str | None:
        return None if self.run is None else str(self.run.get("run_id"))


def notes_folder(layout: Layout) -> str:
    return str(layout.root / NOTES_FOLDER)


def read_notes(layout: Layout) -> list[RunNote] | None:
    """The notes earlier runs left, oldest name first; None when there is no notes folder
    (nothing is known of the runs before: the clean-up lists everything)."""
    folder = notes_folder(layout)
    try:
        listed = os.listdir(folder)
    except FileNotFoundError:
        return None
    for partial in (name for name in listed if name.startswith(".") and name.endswith(".tmp")):
        with contextlib.suppress(FileNotFoundError):  # a note cut short by a crash
            os.unlink(os.path.join(folder, partial))
    names = sorted(name for name in listed if name.endswith(".json") and not name.startswith("."))
    notes = []
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                notes.append(_checked(name, json.load(handle)))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # cut short
            notes.append(RunNote(name, None))
    return notes


# What a note's run must hold for the next run to record it (ledger.record_dead_runs).
RUN_KEYS = ("run_id", "command", "started_at", "lossgram_version", "settings")
DATA_FOLDERS = (LOSSES_FOLDER, HISTOGRAMS_FOLDER)


def _checked(name: str, data: dict[str, Any]) -> RunNote:
    """A note as read, or as unreadable (ValueError, KeyError, TypeError) when it is not
    what write_note writes: a run the next commit could not record would fail every
    run after it. A folder outside losses/ and histograms/ (a hand-edited note) reads as
    everywhere, so the clean-up never deletes beyond the data folders."""
    run = dict(data["run"])
    if not all(isinstance(run.get(key), str) for key in RUN_KEYS):
        raise ValueError(f"run note {name}: not a run's record")
    dt.datetime.fromisoformat(run["started_at"])
    folders = tuple(data["folders"])
    if not all(isinstance(folder, str) and _in_data(folder) for folder in folders):
        folders = (EVERYWHERE,)
    return RunNote(name, run, folders)


def _in_data(folder: str) -> bool:
    parts = folder.split("/")
    inside = parts[0] in DATA_FOLDERS and "\\" not in folder
    return folder == EVERYWHERE or (inside and all(part not in ("", ".", "..") for part in parts))


def write_note(layout: Layout, run: dict[str, Any], folders: Iterable[str]) -> None:
    """This run's note, replaced whole and on disk before the call returns (a file placed
    after it is never in a folder the note does not name)."""
    folder = layout.root / NOTES_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"run": run, "folders": sorted(set(folders))}, sort_keys=True, default=str)
    atomic_write_text(folder / f"{run['run_id']}.json", text)
    flush(folder)


def forget_notes(layout: Layout, notes: Sequence[RunNote]) -> None:
    """Delete notes whose runs the catalog now records and whose folders were cleaned."""
    for note in notes:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(notes_folder(layout), note.name))
