"""A warehouse on an object store (s3://bucket/prefix, gs://, az://...): its losses,
Parquet tables and manifest live there, reached through fsspec; the catalog, the lock,
staging and DuckDB's spill stay on the driver's disk (setting `catalog`).

An object store has no rename and no folders, but a PUT is atomic: an object is whole or
absent. So a losses file is uploaded under its final name and, as on a local disk, is
visible only once a catalog commit lists it; a run that dies leaves objects that no
commit lists, and the next run deletes them.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pipeline.base.errors import LossgramError

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
}


class StoreError(LossgramError, RuntimeError):
    """The object store cannot be reached or used as asked."""


def is_object_store(location: str | os.PathLike[str]) -> bool:
    """A scheme://... location other than file://: the warehouse is an object store."""
    text = str(location)
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.isidentifier() and scheme != "file"


def local_path(location: str | os.PathLike[str]) -> Path:
    """A location that is not an object store, as a path (file:// taken off)."""
    text = str(location)
    return Path(text.removeprefix("file://"))


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

    def location(self, relative: str) -> str:
        """The object's full URI, as DuckDB and Polars read it."""
        return f"{self.uri}/{relative}"

    def _key(self, relative: str) -> str:
        return self.fs._strip_protocol(self.location(relative))  # type: ignore[no-any-return]

    def put(self, local: Path, relative: str) -> None:
        """Upload a finished local file under its final name (one PUT: whole or absent)."""
        self._call(self.fs.put_file, str(local), self._key(relative))

    def write_text(self, relative: str, text: str) -> None:
        self._call(self.fs.pipe_file, self._key(relative), text.encode())

    def read_text(self, relative: str) -> str | None:
        """The object's text, or None when there is none."""
        try:
            data = self._call(self.fs.cat_file, self._key(relative), missing_ok=True)
        except FileNotFoundError:
            return None
        return bytes(data).decode()

    def open(self, location: str) -> IO[bytes]:
        """A full URI of this store (location()) opened for reading."""
        return self.fs.open(self.fs._strip_protocol(location), "rb")  # type: ignore[no-any-return]

    def files(self, relative_folder: str) -> list[str]:
        """The objects below a folder, relative to the warehouse, sorted."""
        prefix = self._key("").rstrip("/") + "/"
        try:
            found = self._call(self.fs.find, self._key(relative_folder), missing_ok=True)
        except FileNotFoundError:
            return []
        return sorted(str(key)[len(prefix) :] for key in found)

    def delete(self, relatives: list[str]) -> None:
        """Delete objects (one already gone is fine)."""
        if relatives:
            keys = [self._key(relative) for relative in relatives]
            with contextlib.suppress(FileNotFoundError):
                self._call(self.fs.rm, keys, missing_ok=True)

    def register(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Let a DuckDB connection read this store's URIs (through fsspec)."""
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
