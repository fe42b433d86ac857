"""The catalog: one DuckDB file of aggregate tables, the ledger, the committed list of
per-sample files and the `losses` view over them (file layout: pipeline/warehouse/layout.py).

Readers never block the writer: the writer never opens the committed file. Each commit
copies it, applies one transaction to the copy and swaps the copy in by an atomic rename;
open readers keep the snapshot they opened, new readers see the new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote

import duckdb

from pipeline.base.errors import WarehouseError
from pipeline.base.faults import fault_point
from pipeline.base.files import NoSpaceError, atomic_output, flush, is_no_space
from pipeline.warehouse.histogram_files import bind_histogram_views
from pipeline.warehouse.layout import Layout, PlacedFile, locate_catalog, placed_frame
from pipeline.warehouse.losses_view import (
    bind_stored_view,
    bind_temp_view,
    entries_listed,
    files_to_bind,
    sign_unrecorded,
)
from pipeline.warehouse.queries import execute, registered, sql_dir
from pipeline.warehouse.store import open_store

if TYPE_CHECKING:  # imported where used: `lossgram sql` starts without Polars
    import polars as pl

# Storage readable by DuckDB 1.4+ too, so the stock `duckdb` CLI (1.5 on PyPI today)
# opens the file; fixed when the file is created.
STORAGE_VERSION = "v1.4.0"
# Readers load or install no extension on their own (a query could ask for one).
READER_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
# The migration that brought live_files: older warehouses' files are adopted then.
LIVE_FILES_VERSION = 3


def migrations() -> list[tuple[int, Path]]:
    """(version, file) of sql/schema/NNN_*.sql, in order."""
    return [
        (int(path.name[:3]), path)
        for path in sorted((sql_dir() / "schema").glob("[0-9][0-9][0-9]_*.sql"))
    ]


def known_version() -> int:
    return max(version for version, _ in migrations())


class Warehouse:
    """One warehouse folder: its layout, read-only connections to its committed catalog,
    and commits (a transaction on a copy, swapped in)."""

    def __init__(
        self, root: Path | str, memory_limit: str | None = None, catalog: Path | None = None
    ) -> None:
        store = open_store(root)
        if any(character in store.name for character in "*?[]{}"):
            # DuckDB reads every listed file name as a pattern: another folder could match.
            raise WarehouseError(f"warehouse {root} has one of * ? [ ] {{ }}: rename it")
        # A folder warehouse keeps its lock, staging and spill inside; an object store's
        # stay beside its catalog, on this machine's disk.
        local_root = Path(store.name) if store.mounted else None
        catalog_file = locate_catalog(store, local_root or Path("."), catalog)
        self.layout = Layout(local_root or catalog_file.parent, store, catalog_file)
        self.name = self.layout.name
        self.catalog = self.layout.catalog
        self.memory_limit = memory_limit  # a writer's; None leaves DuckDB's default

    def connect(self, *, losses_view: bool = True) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the committed catalog, with its own `losses` view
        over the committed files under this folder (wherever the folder now is), made when
        the catalog was copied or moved since its last commit (it lists every file):
        callers that read only tables go without."""
        if not self.catalog.exists():
            raise WarehouseError(
                f"no warehouse at {self.name}: run `lossgram run` first, or point at one "
                "with --warehouse, LOSSGRAM_WAREHOUSE or `warehouse` in lossgram.toml"
            )
        connection = duckdb.connect(str(self.catalog), read_only=True, config=READER_CONFIG)
        try:
            self.register_store(connection)
            if schema_version(connection, self.catalog) < known_version():
                raise WarehouseError(
                    f"{self.catalog} was made by an older lossgram: run `lossgram run` "
                    "once to upgrade it"
                )
            if not self._stored_view_current(connection):
                # Moved or copied since its last commit: read the files where they are now.
                bind_histogram_views(connection, self.layout, stored=False)
                if losses_view:
                    self._bind_losses_view(connection, stored=False)
        except BaseException:
            connection.close()
            raise
        return connection

    @contextlib.contextmanager
    def reading(self, *, losses_view: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection (connect()), closed afterwards."""
        connection = self.connect(losses_view=losses_view)
        try:
            yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def commit(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction on a private copy of the catalog. When the
        block succeeds the copy is checkpointed, flushed and renamed over the catalog (the
        commit point); when it fails, or the process dies, the catalog is as it was."""
        self._absorb_stray_wal()
        self.layout.catalogs.mkdir(parents=True, exist_ok=True)
        draft = self.layout.catalogs / f"next-{uuid.uuid4().hex[:12]}.duckdb"
        try:
            if self.catalog.exists():
                shutil.copyfile(self.catalog, draft)
            connection = self._open_writer(draft)
            try:
                with transaction(connection):
                    yield connection
                connection.execute("CHECKPOINT")
            finally:
                connection.close()
            flush(draft)
            fault_point("before_catalog_swap")
            os.replace(draft, self.catalog)
            flush(self.catalog.parent)
            fault_point("after_catalog_swap")
        except (OSError, duckdb.Error) as error:
            if is_no_space(error):
                size = self.catalog.stat().st_size if self.catalog.exists() else None
                raise NoSpaceError(draft, size) from error
            raise
        finally:
            draft.unlink(missing_ok=True)
            draft.with_name(draft.name + ".wal").unlink(missing_ok=True)

    def register_store(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Let the connection read the losses where the store keeps them."""
        self.layout.store.register(connection)

    def committed_paths(self) -> set[str] | None:
        """The files the committed catalog lists (None if it cannot be read)."""
        try:
            with self.reading(losses_view=False) as connection:
                return {path for (path,) in execute(connection, "live_file_paths")}
        except (duckdb.Error, WarehouseError):
            return None

    def bind_losses_view(
        self, connection: duckdb.DuckDBPyConnection, night: dt.date | None = None
    ) -> None:
        """Within a commit: the stored `losses` view over the files live_files lists (for
        the stock duckdb CLI), and this session's own, over `night`'s files alone when
        given (what its aggregates read), else over all."""
        self._bind_losses_view(connection, stored=True, night=night)
        execute(connection, "clear_catalog_location")
        execute(connection, "set_catalog_location", {"path": str(self.catalog)})

    def scope_losses(
        self, connection: duckdb.DuckDBPyConnection, entries: Sequence[tuple[dt.date, str]]
    ) -> None:
        """Point this session's `losses` view at the files of some (night, model) entries:
        a report page reads those alone, instead of every file's footer of every night
        (a year of nights is thousands of files; on an object store each is a request)."""
        listed = sign_unrecorded(
            connection, self.layout, entries_listed(connection, entries), record=False
        )
        bind_temp_view(connection, self.layout, listed)

    def _stored_view_current(self, connection: duckdb.DuckDBPyConnection) -> bool:
        """The stored `losses` view names this catalog's files where they are (one view,
        so `show tables` lists losses once)."""
        rows = execute(connection, "catalog_location")
        return bool(rows) and rows[0][0] == str(self.catalog)

    def follow_move(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Within a commit: make the stored view again if the warehouse was copied or
        moved since it was made (its absolute paths name the old folder), or if an older
        lossgram made it."""
        if not self._stored_view_current(connection):
            # The histogram files' view too (a commit that writes one makes it again).
            bind_histogram_views(connection, self.layout, stored=True)
            self.bind_losses_view(connection)

    def _bind_losses_view(
        self, connection: duckdb.DuckDBPyConnection, *, stored: bool, night: dt.date | None = None
    ) -> None:
        found, months = files_to_bind(connection, night if stored else None)
        listed = sign_unrecorded(connection, self.layout, found, record=stored)
        if stored:
            bind_stored_view(connection, self.layout, listed, str(self.catalog), night, months)
        if night is not None:
            listed = [entry for entry in listed if entry[1] == night]
        bind_temp_view(connection, self.layout, listed)

    def _open_writer(self, path: Path) -> duckdb.DuckDBPyConnection:
        config: dict[str, str | bool | int | float | list[str]] = {
            # Bounded memory: big aggregations spill to a folder inside the warehouse.
            "temp_directory": str(self.layout.spill),
            # One thread: parallel float sums depend on scheduling, and a rerun must
            # give bit-identical tables.
            "threads": 1,
            # Hand freed memory back to the OS in the background, so the quantiles'
            # memory does not stay resident under the statistics step that follows.
            "allocator_background_threads": True,
            "storage_compatibility_version": STORAGE_VERSION,
        }
        if self.memory_limit is not None:
            config["memory_limit"] = self.memory_limit
        connection = duckdb.connect(str(path), config=config)
        try:
            self.register_store(connection)
            execute(connection, "session_settings")
            self._migrate(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _absorb_stray_wal(self) -> None:
        """A write-ahead log beside the catalog: commits an older lossgram's writer or an
        analyst's read-write session made to this file (fold them in before the file is
        copied, or they would be lost), or the log of a catalog since replaced (it no
        longer matches: set it aside, or nobody could open the catalog)."""
        wal = self.catalog.with_name(self.catalog.name + ".wal")
        if not wal.exists():
            self._refuse_open_writer()
            return
        try:
            with contextlib.closing(duckdb.connect(str(self.catalog))) as connection:
                connection.execute("CHECKPOINT")
        except duckdb.Error as error:
            if "does not match" in str(error):  # a log of a replaced generation
                self.layout.catalogs.mkdir(parents=True, exist_ok=True)
                os.replace(wal, self.layout.catalogs / f"stale-{uuid.uuid4().hex[:8]}.wal")
                return
            raise WarehouseError(
                f"{self.catalog} is open read-write by another process (a {wal.name} "
                "exists): close that session; open the catalog read-only (lossgram sql, "
                "duckdb -readonly)"
            ) from error

    def _refuse_open_writer(self) -> None:
        """A read-write session holds the catalog (an analyst's duckdb without -readonly):
        a commit would swap the file under it and its later writes would be lost, so the
        run refuses, as it does when that session has written. Its lock on the file keeps
        a reader out: a read-only probe tells."""
        if not self.catalog.exists():
            return
        try:
            duckdb.connect(str(self.catalog), read_only=True, config=READER_CONFIG).close()
        except duckdb.Error as error:
            if "lock" not in str(error).lower():
                return  # not a lock (this process's own readers, say): nobody else writes
            raise WarehouseError(
                f"{self.catalog} is open read-write by another process: close that session; "
                "open the catalog read-only (lossgram sql, duckdb -readonly)"
            ) from error

    def _migrate(self, connection: duckdb.DuckDBPyConnection) -> None:
        execute(connection, "create_schema_version")
        current = schema_version(connection, self.catalog)
        pending = [(version, path) for version, path in migrations() if version > current]
        for version, path in pending:
            with transaction(connection):
                connection.execute(path.read_text())
                execute(connection, "record_migration", {"version": version, "name": path.name})
        if pending:
            # The per-sample schema lives in pipeline/contract/cross_entropy.py; a change to
            # it comes with a migration, which brings this table along.
            with registered(connection, empty_losses=_empty_losses()):
                execute(connection, "create_loss_columns")
            execute(connection, "comment_loss_columns")
        if current and current < LIVE_FILES_VERSION <= known_version():
            self._adopt_legacy_files(connection)

    def _adopt_legacy_files(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Files an older lossgram wrote (visible by folder, without a snapshot_date
        column) become live files of the new layout, so the upgrade loses none."""
        import polars as pl

        if execute(connection, "live_file_count")[0][0]:
            return
        dumps = {
            hashlib.sha256(path.encode()).hexdigest()[:20]: path
            for (path,) in execute(connection, "legacy_dump_paths")
        }
        adopted = []
        for key in sorted(self.layout.data_files()):
            old = PurePosixPath(key)
            if old.parent.name == "adopted":
                continue  # an adoption that died before its commit: done again below
            snapshot_date = dt.date.fromisoformat(old.parent.parent.name.partition("=")[2])
            with self.layout.store.open(self.layout.location(key)) as handle:
                frame = pl.read_parquet(handle).with_columns(snapshot_date=pl.lit(snapshot_date))
            model = str(frame["model"][0]) if frame.height else unquote(old.parent.name[6:])
            # A folder the older lossgram's view (model=*/*.parquet) does not read, so its
            # readers never see a row twice while the upgrade commits.
            new = (old.parent / "adopted" / old.name).as_posix()
            staged = self.layout.catalogs / f"adopted-{old.name}"
            with atomic_output(staged) as partial:
                frame.write_parquet(partial)
            self.layout.store.publish(staged, new)
            dump = dumps.get(old.stem, self.layout.location(key))
            adopted.append(PlacedFile(new, snapshot_date, model, dump, frame.height))
        with registered(connection, placed_files=placed_frame(adopted)):
            # Computed by an older lossgram with settings nobody recorded: stale until rerun.
            no_fingerprint = {"run_id": "adopted", "loss_fingerprint": None}
            execute(connection, "add_live_files", no_fingerprint)
        self.bind_losses_view(connection)

    @contextlib.contextmanager
    def lock(self, timeout_seconds: float) -> Iterator[None]:
        """Hold the warehouse's writer lock, waiting up to timeout_seconds for it. The
        lock file says who holds it (pid), for the message a waiter gives up with."""
        from filelock import FileLock, Timeout

        def name_the_holder(descriptor: int) -> None:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"pid {os.getpid()}".encode(), 0)

        self.layout.root.mkdir(parents=True, exist_ok=True)
        path = self.layout.lock_file
        writer_lock = FileLock(
            path, poll_interval=0.2, preserve_lock_file=True, on_acquired=name_the_holder
        )
        try:
            writer_lock.acquire(timeout=timeout_seconds)
        except Timeout:
            holder = path.read_text().strip() if path.exists() else ""
            raise WarehouseError(
                f"{self.name} is locked by another lossgram run ({holder or 'another process'}); "
                f"gave up after {timeout_seconds:g} s (setting lock_timeout)"
            ) from None
        try:
            yield
        finally:
            os.truncate(path, 0)
            writer_lock.release()


def _empty_losses() -> pl.DataFrame:
    """No rows, the columns of every losses file (pipeline/contract/cross_entropy.py) and
    snapshot_date."""
    import polars as pl

    from pipeline.contract.cross_entropy import LOSS_SCHEMA

    return pl.DataFrame(schema={**LOSS_SCHEMA, "snapshot_date": pl.Date()})


def schema_version(connection: duckdb.DuckDBPyConnection, catalog: Path) -> int:
    """The file's schema version (0 for a new file); a WarehouseError if a newer lossgram
    made it."""
    current = 0
    if execute(connection, "schema_version_exists")[0][0]:
        current = execute(connection, "schema_version")[0][0] or 0
    if current > known_version():
        raise WarehouseError(
            f"{catalog} has schema version {current}, newer than this lossgram "
            f"knows ({known_version()}): upgrade lossgram"
        )
    return int(current)


@contextlib.contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Everything in the block commits together, or not at all."""
    connection.execute("BEGIN")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@contextlib.contextmanager
def reading(root: Path | str, *, losses_view: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a warehouse, closed afterwards."""
    with Warehouse(root).reading(losses_view=losses_view) as connection:
        yield connection
