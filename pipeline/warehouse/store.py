"""Where a warehouse's data files live: one seam, two stores.

`LocalStore` is a folder on a file system (a local disk, or NFS / EFS / HDFS mounts that
every Spark executor sees): a finished file is renamed into place and its folder fsynced.
`ObjectStore` is a prefix on an object store (s3://bucket/prefix, gs://, az://...),
reached through fsspec: it has no rename and no folders, but a PUT is atomic (an object
is whole or absent), so a file is uploaded under its final name. Either way a data file
counts only once a catalog commit lists it; a run that dies leaves files no commit lists,
and the next run removes them. The catalog, the lock, staging and DuckDB's spill always
stay on the driver's disk.

`open_store` picks one from the location, once, where a command starts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from pipeline.base.errors import LossgramError
from pipeline.base.files import atomic_write_bytes, atomic_write_text, flush

if TYPE_CHECKING:
    import duckdb
    from fsspec import AbstractFileSystem

# fsspec's packages per scheme, named in the error when one is missing.
PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
}


class StoreError(LossgramError, RuntimeError):
    """The object store cannot be reached or used as asked."""


class Store(Protocol):
    """Where the data files of one warehouse live; paths are relative to its root."""

    @property
    def name(self) -> str:
        """The store as its user named it: a folder or a URI."""

    @property
    def mounted(self) -> bool:
        """Whether every process can open its files by path (a Spark executor must)."""

    def location(self, relative: str) -> str:
        """A file's path as readers open it: an absolute path or a URI."""

    def publish(self, local: Path, relative: str) -> None:
        """A finished local file to its place, whole (the local file is gone after)."""

    def remove(self, relatives: Iterable[str]) -> None:
        """Delete files (one already gone is fine)."""

    def list(self, relative_folder: str) -> list[str]:
        """Every file below a folder, relative to the root, sorted."""

    def sizes(self, relative_folder: str) -> dict[str, int]:
        """Every file below a folder, relative to the root, with its size in bytes."""

    def sizes_of(self, relatives: Iterable[str]) -> dict[str, int]:
        """The size in bytes of each of these files that exists (relative paths)."""

    def open(self, location: str) -> IO[bytes]:
        """A location() of this store, or a local path, opened for reading."""

    def read_text(self, relative: str) -> str | None:
        """A small file's text, or None when there is none."""

    def write_text(self, relative: str, text: str) -> None:
        """A small file written whole (readers see the old text or the new)."""

    def put_bytes(self, relative: str, data: bytes, content_type: str) -> None:
        """A file written whole, with its Content-Type where the store keeps one."""

    def sync_names(self, relatives: Iterable[str]) -> None:
        """Make newly published names durable before a commit lists them."""

    def register(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Let a DuckDB connection read this store's locations."""


def is_object_store(location: str | os.PathLike[str]) -> bool:
    """A scheme://... location other than file://: an object store."""
    text = str(location)
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.isidentifier() and scheme != "file"


def parse_location(location: str | os.PathLike[str]) -> Path | str:
    """A warehouse location as given by a user: an object store's URI kept as text
    (without a trailing slash), a folder as a Path (file:// taken off). A scheme that is
    no durable store (memory://, zip://...) is refused: the losses would vanish while the
    ledger kept them as ingested. So is an existing file (the catalog, say)."""
    if is_object_store(location):
        scheme = str(location).partition("://")[0]
        if scheme not in PACKAGES:
            known = ", ".join(f"{name}://" for name in PACKAGES)
            raise ValueError(
                f"{scheme}:// is not durable storage for a warehouse: use a folder or an "
                f"object store ({known})"
            )
        return str(location).rstrip("/")
    path = local_path(location)
    if path.is_file():
        raise ValueError(
            f"{path} is a file: the warehouse is the folder that holds lossgram.duckdb and losses/"
        )
    return path


def local_path(location: str | os.PathLike[str]) -> Path:
    """A location that is not an object store, as a path (file:// taken off)."""
    return Path(str(location).removeprefix("file://"))


def open_store(location: Path | str) -> Store:
    """The store at a location: an object store for a URI, else a folder (resolved)."""
    if is_object_store(location):
        return ObjectStore.at(str(location))
    return LocalStore(local_path(location).resolve())


@dataclass(frozen=True)
class LocalStore:
    """A folder on a file system: a file is published by an atomic rename, then fsynced."""

    root: Path

    @property
    def name(self) -> str:
        return str(self.root)

    @property
    def mounted(self) -> bool:
        return True

    def location(self, relative: str) -> str:
        return str(self.root / relative)

    def publish(self, local: Path, relative: str) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local, target)
        flush(target)

    def remove(self, relatives: Iterable[str]) -> None:
        folders: set[Path] = set()
        for relative in relatives:
            path = self.root / relative
            path.unlink(missing_ok=True)
            folders.update(path.parents)
        # Folders left empty go too (a partition whose files were all retired); a
        # folder still holding something stays (rmdir refuses).
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder.is_relative_to(self.root) and folder != self.root:
                with contextlib.suppress(OSError):
                    folder.rmdir()

    def list(self, relative_folder: str) -> list[str]:
        return sorted(self.sizes(relative_folder))

    def sizes(self, relative_folder: str) -> dict[str, int]:
        # os.scandir, not Path.rglob: a year of nights is ~15,000 files, listed every run,
        # and pathlib's parsing of each path took 2.5 s of it (bench/README.md).
        found: dict[str, int] = {}
        pending = [relative_folder.strip("/")]
        root = str(self.root)
        while pending:
            relative = pending.pop()
            try:
                entries = list(os.scandir(os.path.join(root, relative)))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                name = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append(name)
                elif entry.is_file():
                    with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                        found[name] = entry.stat().st_size
        return found

    def sizes_of(self, relatives: Iterable[str]) -> dict[str, int]:
        # A stat each: listing the folders instead opens every night's model folders
        # (a year: ~7,300 of them for ~12,000 files; 2-3x the time).
        found: dict[str, int] = {}
        root = str(self.root)
        for relative in relatives:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                found[relative] = os.stat(os.path.join(root, relative)).st_size
        return found

    def open(self, location: str) -> IO[bytes]:
        return open(location, "rb")

    def read_text(self, relative: str) -> str | None:
        path = self.root / relative
        return path.read_text() if path.is_file() else None

    def write_text(self, relative: str, text: str) -> None:
        atomic_write_text(self.root / relative, text)

    def put_bytes(self, relative: str, data: bytes, content_type: str) -> None:
        atomic_write_bytes(self.root / relative, data)

    def sync_names(self, relatives: Iterable[str]) -> None:
        # Each folder once, however many files a night places in it (per file, 1,000
        # small dumps spent 0.5 s here), and the folders that hold new folders.
        folders = {(self.root / relative).parent for relative in relatives}
        for folder in sorted({*folders, *(folder.parent for folder in folders)}):
            flush(folder)

    def register(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Nothing to do: DuckDB reads local paths itself."""


@dataclass(frozen=True)
class ObjectStore:
    """The warehouse's prefix on an object store: data files by path relative to it."""

    uri: str
    fs: AbstractFileSystem = field(repr=False, compare=False)

    @classmethod
    def at(cls, uri: str) -> ObjectStore:
        scheme = uri.partition("://")[0]
        try:
            import fsspec

            # Listings are never cached: another process (a run, a cleanup) changes them.
            fs = fsspec.filesystem(scheme, use_listings_cache=False, skip_instance_cache=True)
        except ImportError as error:
            package = PACKAGES.get(scheme, f"the fsspec package for {scheme}://")
            raise StoreError(
                f"warehouse {uri}: install {package} to use it (pip install 'lossgram[s3]' "
                "brings s3fs)"
            ) from error
        except ValueError as error:
            raise StoreError(f"warehouse {uri}: no file system is known for {scheme}://") from error
        return cls(uri.rstrip("/"), fs)

    @property
    def name(self) -> str:
        return self.uri

    @property
    def mounted(self) -> bool:
        return False

    def location(self, relative: str) -> str:
        return f"{self.uri}/{relative}"

    def _key(self, relative: str) -> str:
        return self.fs._strip_protocol(self.location(relative))  # type: ignore[no-any-return]

    def publish(self, local: Path, relative: str) -> None:
        """One PUT under the final name (whole or absent), then the local file goes."""
        self._call(self.fs.put_file, str(local), self._key(relative))
        local.unlink(missing_ok=True)

    def remove(self, relatives: Iterable[str]) -> None:
        keys = [self._key(relative) for relative in relatives]
        if keys:
            with contextlib.suppress(FileNotFoundError):
                self._call(self.fs.rm, keys, missing_ok=True)

    def list(self, relative_folder: str) -> list[str]:
        prefix = self._key("").rstrip("/") + "/"
        try:
            found = self._call(self.fs.find, self._key(relative_folder), missing_ok=True)
        except FileNotFoundError:
            return []
        return sorted(str(key)[len(prefix) :] for key in found)

    def sizes(self, relative_folder: str) -> dict[str, int]:
        prefix = self._key("").rstrip("/") + "/"
        try:
            found = self._call(
                lambda key: self.fs.find(key, detail=True),
                self._key(relative_folder),
                missing_ok=True,
            )
        except FileNotFoundError:
            return {}
        return {str(key)[len(prefix) :]: int(info["size"]) for key, info in found.items()}

    def sizes_of(self, relatives: Iterable[str]) -> dict[str, int]:
        """One listing of each top folder they are in: a request per object would be
        thousands of requests."""
        wanted = set(relatives)
        found: dict[str, int] = {}
        for folder in sorted({relative.partition("/")[0] for relative in wanted}):
            listed = self.sizes(folder)
            found.update((key, size) for key, size in listed.items() if key in wanted)
        return found

    def open(self, location: str) -> IO[bytes]:
        if not is_object_store(location):  # a staged file on the driver's disk
            return open(location, "rb")
        return self.fs.open(self.fs._strip_protocol(location), "rb")  # type: ignore[no-any-return]

    def read_text(self, relative: str) -> str | None:
        try:
            data = self._call(self.fs.cat_file, self._key(relative), missing_ok=True)
        except FileNotFoundError:
            return None
        return bytes(data).decode()

    def write_text(self, relative: str, text: str) -> None:
        self._call(self.fs.pipe_file, self._key(relative), text.encode())

    def put_bytes(self, relative: str, data: bytes, content_type: str) -> None:
        """One PUT of a whole object (replaced at once), with its Content-Type where the
        store keeps one (S3's ContentType; other stores get the bytes alone)."""
        extra = {"ContentType": content_type} if self.uri.startswith(("s3://", "s3a://")) else {}
        self._call(
            lambda key, body: self.fs.pipe_file(key, body, **extra), self._key(relative), data
        )

    def sync_names(self, relatives: Iterable[str]) -> None:
        """Nothing to do: an upload is whole and durable once it returns."""

    def register(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Let the connection read this store's URIs (through fsspec)."""
        protocol = self.fs.protocol
        name = protocol[0] if isinstance(protocol, tuple) else protocol
        if not connection.filesystem_is_registered(name):
            connection.register_filesystem(self.fs)

    def _call(self, method: Any, *args: Any, missing_ok: bool = False) -> Any:
        """An fsspec call, with a failure to reach the store said in one line; a missing
        object raises FileNotFoundError when the caller expects that (missing_ok)."""
        try:
            return method(*args)
        except FileNotFoundError as error:
            if missing_ok:
                raise
            raise StoreError(f"warehouse {self.uri}: not found (does the bucket exist?)") from error
        except Exception as error:  # fsspec and its client libraries raise their own kinds
            raise StoreError(f"warehouse {self.uri}: {_plain(error)}") from error


def fetch(store: Store, location: str, folder: Path) -> Path:
    """A file of the store as a local path: itself when the store is mounted, else a copy
    downloaded into folder."""
    if store.mounted:
        return Path(location)
    local = folder / f"fetched-{Path(location).name}"
    with store.open(location) as source, local.open("wb") as copy:
        shutil.copyfileobj(source, copy)
    return local


def _plain(error: Exception) -> str:
    """What went wrong with the store, in words (not the client library's text)."""
    kind = type(error).__name__
    if isinstance(error, PermissionError) or "AccessDenied" in str(error):
        return "access denied: check the credentials and the bucket's policy"
    if "Credentials" in kind:
        return "no credentials found (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws)"
    if "Connect" in kind or "Timeout" in kind:
        return (
            "the object store does not answer: check its address (AWS_ENDPOINT_URL) and the network"
        )
    if "NoSuchBucket" in str(error) or (
        "bucket" in str(error).lower() and "not" in str(error).lower()
    ):
        return "no such bucket"
    return f"the object store refused the request ({kind})"
