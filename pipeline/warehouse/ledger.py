"""The ledger: runs (job_runs), the dumps each run read (ingested_files) and the rows it
dropped (rejected_rows), and the outcome of a run as it is printed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline.base.errors import InboxError
from pipeline.base.results import (
    ComputedDump,
    Fingerprint,
    KnownDump,
    RunSummary,
    Skipped,
)
from pipeline.warehouse.layout import PlacedFile, placed_frame
from pipeline.warehouse.queries import execute, query_frame, registered
from pipeline.warehouse.store import Store

if TYPE_CHECKING:  # imported where frames are made: a run with nothing new goes without
    import polars as pl


@dataclass(frozen=True)
class Lineage:
    """What made a run's numbers: the lossgram version and the settings that shape them
    (loss_settings: those that shape the per-sample losses themselves)."""

    version: str
    settings: dict[str, Any]
    loss_settings: dict[str, Any]

    @staticmethod
    def fingerprint_of(values: dict[str, Any]) -> str:
        text = json.dumps(values, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def fingerprint(self) -> str:
        return self.fingerprint_of({"version": self.version, **self.settings})

    @property
    def loss_fingerprint(self) -> str:
        return self.fingerprint_of(self.loss_settings)


def run_record(
    run_id: str, command: str, lineage: Lineage, started_at: dt.datetime
) -> dict[str, Any]:
    """What job_runs records of a run when it starts (also its note: warehouse/journal.py)."""
    return {
        "run_id": run_id,
        "command": command,
        "started_at": started_at.isoformat(),
        "lossgram_version": lineage.version,
        "settings": json.dumps(lineage.settings, sort_keys=True, default=str),
        "settings_fingerprint": lineage.fingerprint,
    }


def start_run(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    command: str,
    lineage: Lineage,
    started_at: dt.datetime | None = None,
) -> None:
    """Mark runs that died mid-way as failed, then record this one as running (started
    at started_at: its first commit may come long after its start)."""
    execute(connection, "abandon_stale_runs")
    started = started_at or dt.datetime.now(dt.UTC)
    record = run_record(run_id, command, lineage, started)
    execute(connection, "start_job_run", _started(record))


def record_dead_runs(connection: duckdb.DuckDBPyConnection, runs: Sequence[dict[str, Any]]) -> None:
    """Runs that died before any commit recorded them (`runs`: the run_record of each,
    from its note), as running: start_run then marks them failed."""
    for run in runs:
        execute(connection, "record_dead_run", _started(run))


def _started(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("run_id", "command", "lossgram_version", "settings", "settings_fingerprint")
    return {
        **{key: record.get(key) for key in keys},
        "started_at": dt.datetime.fromisoformat(str(record["started_at"])),
    }


def ended_runs(connection: duckdb.DuckDBPyConnection, run_ids: Sequence[str]) -> set[str]:
    """Those of these runs the catalog records as ended (not running)."""
    return {run for (run,) in execute(connection, "ended_runs", {"run_ids": list(run_ids)})}


def runs_running(connection: duckdb.DuckDBPyConnection) -> int:
    """How many runs job_runs still marks running (runs that died)."""
    return int(execute(connection, "running_runs")[0][0])


def stale_snapshots(connection: duckdb.DuckDBPyConnection, lineage: Lineage) -> list[str]:
    """Nights whose losses were computed with other loss settings than this run's."""
    rows = execute(connection, "stale_snapshots", {"loss_fingerprint": lineage.loss_fingerprint})
    return [day.isoformat() for (day,) in rows]


def record_snapshot(
    connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date, run_id: str, lineage: Lineage
) -> None:
    """Note the run that committed a night and the loss settings of its losses."""
    execute(
        connection,
        "record_snapshot",
        {
            "snapshot_date": snapshot_date,
            "run_id": run_id,
            "loss_settings": json.dumps(lineage.loss_settings, sort_keys=True, default=str),
            "loss_fingerprint": lineage.loss_fingerprint,
        },
    )


def commit_files(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    placed: Sequence[PlacedFile],
    lineage: Lineage | None,
    replaced: pl.DataFrame | None = None,
    rerun: tuple[dt.date, list[str]] | None = None,
) -> None:
    """Make placed files live (noting the loss settings they were computed with) and
    retire the ones they replace: the live files of the dumps read again
    (`replaced`: path, snapshot_date), or of a rerun's night
    (`rerun`: the date and its models, [] for all)."""
    if rerun is not None:
        snapshot_date, models = rerun
        scope = {"run_id": run_id, "snapshot_date": snapshot_date, "models": models}
        execute(connection, "retire_snapshot_files", scope)
    if replaced is not None and replaced.height:
        with registered(connection, replaced_dumps=replaced):
            execute(connection, "retire_dump_files", {"run_id": run_id})
    execute(connection, "drop_retired_live_files", {"run_id": run_id})
    fingerprint = lineage.loss_fingerprint if lineage is not None else None
    with registered(connection, placed_files=placed_frame(placed)):
        execute(connection, "add_live_files", {"run_id": run_id, "loss_fingerprint": fingerprint})
        execute(connection, "record_file_sizes")
        execute(connection, "record_file_columns")


def changed_files(connection: duckdb.DuckDBPyConnection, store: Store) -> list[str]:
    """The committed files whose size differs from the one committed (rewritten, cut or
    gone since), each said in one line with the rerun that rebuilds its night."""
    committed = execute(connection, "committed_file_sizes")
    now = store.sizes_of(path for path, _, _ in committed)
    changed = []
    for path, night, size in committed:
        if now.get(path) != size:
            was = "gone" if path not in now else f"{now[path]} bytes, committed {size}"
            changed.append(
                f"{path} ({was}) changed since its commit: its night's numbers may be wrong; "
                f"`lossgram rerun --date {night}` rebuilds them"
            )
    return changed


def manifest_text(connection: duckdb.DuckDBPyConnection, commit: str) -> str:
    """The manifest of the committed files (layout.write_manifest writes it)."""
    return str(execute(connection, "manifest_json", {"commit": commit})[0][0])


def live_files(
    connection: duckdb.DuckDBPyConnection, nights: Sequence[dt.date] | None = None
) -> list[PlacedFile]:
    """The committed per-sample files, of some nights (those a run lands) or all."""
    if nights is None:
        listed = execute(connection, "live_files_listed")
    else:
        listed = execute(connection, "live_files_of_nights", {"nights": list(nights)})
    return [
        PlacedFile(path, snapshot_date, model, dump_path, rows)
        for path, snapshot_date, model, dump_path, rows in listed
    ]


def expired_files(connection: duckdb.DuckDBPyConnection, retired_after_seconds: float) -> list[str]:
    """The files retired more than retired_after_seconds ago: a run deletes them (by
    path: no listing), then its first commit forgets them (forget_retired)."""
    rows = execute(connection, "expired_files", {"seconds": retired_after_seconds})
    return [path for (path,) in rows]


def kept_files(connection: duckdb.DuckDBPyConnection, expired: Sequence[str]) -> set[str]:
    """The files the catalog references (live, or retired), but those expired."""
    return {path for (path,) in execute(connection, "kept_files")} - set(expired)


def forget_retired(connection: duckdb.DuckDBPyConnection, paths: Sequence[str]) -> None:
    """Within a commit: forget retired files whose files were deleted."""
    if paths:
        execute(connection, "forget_retired_files", {"paths": list(paths)})


def finish_run(
    connection: duckdb.DuckDBPyConnection,
    summary: RunSummary,
    nights: Sequence[dt.date] | None = None,
) -> None:
    """The run's outcome in job_runs, with the nights it committed (`nights`, when its
    summary does not list them yet: they commit with this)."""
    execute(
        connection,
        "finish_job_run",
        {
            "run_id": summary.run_id,
            "status": summary.status,
            "snapshot_dates": list(summary.snapshot_dates if nights is None else nights),
            "files_seen": summary.files_seen,
            "files_ingested": summary.files_ingested,
            "files_rejected": summary.files_rejected,
            "files_unchanged": summary.files_unchanged,
            "rows_ingested": summary.rows_ingested,
            "rows_rejected": summary.rows_rejected,
            "seconds": summary.seconds,
            "error": summary.error,
        },
    )


def record_skipped(
    connection: duckdb.DuckDBPyConnection, run_id: str, skipped: Sequence[Skipped]
) -> None:
    """Keep the inbox entries a run did not read, with the reason."""
    import polars as pl

    frame = pl.DataFrame(
        {"path": [str(s.path) for s in skipped], "reason": [s.reason for s in skipped]},
        schema={"path": pl.String, "reason": pl.String},
    )
    with registered(connection, skipped=frame):
        execute(connection, "record_skipped_entries", {"run_id": run_id})


def known_dumps(connection: duckdb.DuckDBPyConnection) -> list[KnownDump]:
    """The latest record of every dump the ledger has read, oldest first."""
    return _known(execute(connection, "known_files"))


def _known(rows: Sequence[tuple[Any, ...]]) -> list[KnownDump]:
    return [
        KnownDump(path, inbox, Fingerprint(size, mtime, sha256), *rejection)
        for path, inbox, size, mtime, sha256, *rejection in rows
    ]


def recorded_inboxes(connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date) -> list[str]:
    """The inbox folders a date's dumps were read from (one, unless the setting moved)."""
    rows = execute(connection, "inboxes_of_date", {"snapshot_date": snapshot_date})
    return [inbox for (inbox,) in rows if inbox is not None]


def dumps_of_model(
    connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date, model: str
) -> list[str]:
    """The dumps holding rows of one model on a night; an InboxError naming the models
    there when it has none."""
    scope = {"snapshot_date": snapshot_date, "model": model}
    dumps = [path for (path,) in execute(connection, "dumps_of_model", scope)]
    if not dumps:
        rows = execute(connection, "models_of_date", {"snapshot_date": snapshot_date})
        there = ", ".join(name for (name,) in rows) or "none"
        raise InboxError(f"no model {model!r} on {snapshot_date}; models there: {there}")
    return dumps


def recorded_dumps(
    connection: duckdb.DuckDBPyConnection, snapshot_date: dt.date
) -> list[KnownDump]:
    """The dumps recorded for a date (what `rerun` re-reads)."""
    return _known(execute(connection, "files_of_date", {"snapshot_date": snapshot_date}))


def run_verdicts(
    connection: duckdb.DuckDBPyConnection, snapshot_dates: Sequence[dt.date]
) -> list[dict[str, Any]]:
    """The verdicts of the snapshots a run wrote, for its summary."""
    dates = {"snapshot_dates": list(snapshot_dates)}
    return query_frame(connection, "run_verdicts", dates).to_dicts()


def record_dumps(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    computed: Sequence[ComputedDump],
    inbox: Path | None,
    replaced: pl.DataFrame,
) -> None:
    """Record every dump of a snapshot (and its dropped rows) with a few statements, in
    place of the records of the dumps read again (`replaced`: path, snapshot_date); the
    inbox they were read from names their key=value folders for a rerun."""
    kept = [c for c in computed if c.record]
    files, dropped = _recorded_files(kept, run_id, inbox), _dropped_rows(kept)
    with registered(
        connection, recorded_files=files, dropped_rows=dropped, replaced_dumps=replaced
    ):
        for statement in ("forget_rejected_rows", "forget_files", "record_files"):
            execute(connection, statement)
        execute(connection, "record_rejected_rows", {"run_id": run_id})


def _recorded_files(
    computed: Sequence[ComputedDump], run_id: str, inbox: Path | None
) -> pl.DataFrame:
    """One ingested_files row per dump: its fingerprint and its outcome."""
    import polars as pl

    schema = pl.Schema(
        {  # type: ignore[arg-type]  # a List dtype beside plain ones: mypy infers object
            "path": pl.String,
            "size": pl.Int64,
            "mtime": pl.Float64,
            "sha256": pl.String,
            "snapshot_date": pl.Date,
            "status": pl.String,
            "rows": pl.Int64,
            "rows_ignored": pl.Int64,
            "rows_rejected": pl.Int64,
            "error": pl.String,
            "run_id": pl.String,
            "inbox": pl.String,
            "classes": pl.List(pl.String),
            "param_names": pl.List(pl.String),
            "param_values": pl.List(pl.String),
        }
    )
    rows = [
        {
            "path": str(c.outcome.path),
            "size": c.fingerprint.size,
            "mtime": c.fingerprint.mtime,
            "sha256": c.fingerprint.sha256,
            "snapshot_date": c.outcome.snapshot_date,
            "status": c.outcome.status,
            "rows": c.outcome.rows,
            "rows_ignored": c.outcome.rows_ignored,
            "rows_rejected": c.outcome.rows_rejected,
            "error": c.outcome.error,
            "run_id": run_id,
            "inbox": None if inbox is None else str(inbox),
            "classes": None if c.outcome.classes is None else list(c.outcome.classes),
            "param_names": [n for n, _ in c.outcome.params] if c.outcome.params else None,
            "param_values": [v for _, v in c.outcome.params] if c.outcome.params else None,
        }
        for c in computed
    ]
    return pl.DataFrame(rows, schema=schema)


def _dropped_rows(computed: Sequence[ComputedDump]) -> pl.DataFrame:
    """The rows bad_rows = skip dropped, each naming its dump."""
    import polars as pl

    schema = {
        "sample_id": pl.String,
        "column_name": pl.String,
        "problem": pl.String,
        "path": pl.String,
        "snapshot_date": pl.Date,
    }
    found = (
        c.dropped.with_columns(
            path=pl.lit(str(c.outcome.path)), snapshot_date=pl.lit(c.outcome.snapshot_date)
        )
        for c in computed
        if c.dropped.height
    )
    return pl.concat([pl.DataFrame(schema=schema), *found], how="diagonal_relaxed")


def job_history(connection: duckdb.DuckDBPyConnection, limit: int) -> pl.DataFrame:
    """The most recent job runs, newest first."""
    return query_frame(connection, "job_history", {"limit": limit})
