"""Publishing the reports to an object store (`reports = "s3://bucket/site/"`): the pages
are rendered into a local mirror beside the catalog (the night pages list what the
folder holds, and a render resumes from it), then every file that changed since the
last upload is put whole under the same relative name, with its Content-Type, so a
bucket served as a static website shows the pages and their relative links work."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path

from pipeline.base.files import atomic_write_text, file_sha256
from pipeline.warehouse.store import Store, local_path, open_store

UPLOADED = ".published"  # in the mirror: relative name -> sha256 of what was uploaded
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
}


def reports_folder(reports: Path | str, catalog: Path) -> Path:
    """Where pages are rendered: the reports folder, or for an object-store URI a local
    mirror beside the catalog (one per URI)."""
    if open_store(reports).mounted:
        return local_path(reports)
    digest = hashlib.sha256(str(reports).rstrip("/").encode()).hexdigest()[:12]
    return catalog.parent / f"site-{digest}"


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def publish_site(folder: Path, store: Store) -> list[str]:
    """Upload the mirror's files that changed since the last upload; their names. Pages
    first and the index of nights last, so a link never points at a page not yet there."""
    record = folder / UPLOADED
    try:
        uploaded: dict[str, str] = json.loads(record.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        uploaded = {}
    names = sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        # Hidden files are bookkeeping or a write cut short; pages are never hidden.
        if path.is_file() and not path.name.startswith(".")
    )
    names.sort(key=lambda name: (name == "index.html", name.endswith("/index.html")))
    sent = []
    try:
        for name in names:
            digest = file_sha256(folder / name)
            if uploaded.get(name) == digest:
                continue
            store.put_bytes(name, (folder / name).read_bytes(), content_type(name))
            uploaded[name] = digest
            sent.append(name)
    finally:  # what went up stays recorded, even when an upload fails half-way
        atomic_write_text(record, json.dumps(uploaded, indent=0, sort_keys=True))
    return sent


def published(pages: list[Path], folder: Path, reports: Path | str) -> list[str]:
    """After a render into `folder`: upload it when the reports live on an object store;
    the pages' locations either way (URIs when published)."""
    store = open_store(reports)
    if store.mounted:
        return [str(page) for page in pages]
    publish_site(folder, store)
    return [store.location(page.relative_to(folder).as_posix()) for page in pages]
