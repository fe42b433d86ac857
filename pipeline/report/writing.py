"""Write the report pages into the reports folder: each night's page, verdicts.json and
the index of nights first, then the model pages; and comparisons on request.

A night of thousands of models has its night page in seconds, before its model pages.
Each night folder keeps a ledger (`.rendered`) of the model pages written for the
warehouse as it stands, so a render that failed half-way resumes where it stopped
instead of writing every page again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import vl_convert

from pipeline.base.errors import WarehouseError
from pipeline.base.faults import fault_point
from pipeline.base.files import atomic_write_bytes, atomic_write_text
from pipeline.base.options import ReportOptions
from pipeline.base.progress import Progress, no_progress
from pipeline.report.compare import Entry, comparison, parse_entries
from pipeline.report.data import (
    ModelReport,
    model_report,
    night_models,
    night_report,
    nights,
    page_name,
)
from pipeline.report.pages import (
    DASHBOARD_NIGHTS,
    model_charts,
    render_comparison,
    render_index,
    render_model_page,
    render_night_page,
    render_sweep,
    shared_bundle,
)
from pipeline.report.sweeps import night_sweeps
from pipeline.warehouse.catalog import Warehouse
from pipeline.warehouse.queries import execute, query_frame

PNG_WIDTH = 1040  # the page's chart width: its 1,180 px column less padding and legend
RENDERED_LEDGER = ".rendered"  # in a night's folder: "<stamp>\t<page file>" per line


class PageLedger:
    """The model pages of one night folder written under one stamp of the warehouse.
    Entries of another stamp (the warehouse changed since) are dropped when it opens."""

    def __init__(self, folder: Path, stamp: str, *, resume: bool) -> None:
        self.folder, self.stamp = folder, stamp
        path = folder / RENDERED_LEDGER
        self.done = self._read(path) if resume else set()
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "".join(f"{stamp}\t{name}\n" for name in sorted(self.done)))
        self._handle = path.open("a", encoding="utf-8")

    def _read(self, path: Path) -> set[str]:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, UnicodeDecodeError):
            return set()
        entries = (line.split("\t") for line in lines)
        # A page counts only if it is there: the ledger line follows the page's write.
        return {
            entry[1]
            for entry in entries
            if len(entry) == 2 and entry[0] == self.stamp and (self.folder / entry[1]).is_file()
        }

    def record(self, name: str) -> None:
        self._handle.write(f"{self.stamp}\t{name}\n")
        self._handle.flush()
        self.done.add(name)

    def close(self) -> None:
        self._handle.close()


def write_reports(
    warehouse: Warehouse,
    reports: Path,
    options: ReportOptions,
    snapshot_dates: Sequence[dt.date] | None = None,
    model: str | None = None,
    *,
    png: bool = False,
    standalone: bool = False,
    resume: bool = False,
    progress: Progress = no_progress,
) -> list[Path]:
    """Write the night page and verdicts.json of each date (default: every night) and
    the index of nights, then the nights' model pages (or one model's pages alone).
    Returns the pages written. Pages load the chart scripts from one shared file in the
    reports folder, or carry them inline (standalone). With resume, model pages already
    written for the warehouse as it stands (by a render that failed part-way) stay."""
    written: list[Path] = []
    with warehouse.reading(losses_view=False) as connection:
        all_nights = nights(connection)
        dates = _nights_asked([night["snapshot_date"] for night in all_nights], snapshot_dates)
        pages = {day: night_models(connection, day) for day in dates}
        if model is not None:
            there = sorted({name for names in pages.values() for name in names})
            pages = {day: [name for name in names if name == model] for day, names in pages.items()}
            if not any(pages.values()):
                raise WarehouseError(
                    f"no model {model!r} in the nights asked for; models: {', '.join(there)}"
                )
        bundle_file = None if standalone else shared_bundle(reports)
        if model is None:
            written += _write_night_pages(
                warehouse, connection, reports, dates, options.heldout_splits, bundle_file
            )
            dashboard = query_frame(connection, "report_dashboard", {"nights": DASHBOARD_NIGHTS})
            atomic_write_text(
                reports / "index.html", render_index(all_nights, dashboard, bundle_file, reports)
            )
            written.append(reports / "index.html")
        total, done = sum(len(names) for names in pages.values()), 0
        for day, names in pages.items():
            stamp = str(execute(connection, "report_stamp", {"snapshot_date": day})[0][0])
            ledger = PageLedger(reports / day.isoformat(), stamp, resume=resume)
            try:
                for name in names:
                    if page_name(name) not in ledger.done:
                        page = _write_model_page(
                            warehouse, connection, ledger, day, name, options, png, bundle_file
                        )
                        written.append(page)
                        fault_point("during_render")
                    done += 1
                    progress(done, total, f"{day} {name}")
            finally:
                ledger.close()
    return written


def _nights_asked(known: list[Any], snapshot_dates: Sequence[dt.date] | None) -> list[dt.date]:
    dates = list(snapshot_dates or known)
    missing = [day for day in dates if day not in known]
    if missing:
        there = ", ".join(str(day) for day in known[:10]) or "none yet"
        raise WarehouseError(f"no night {missing[0]} in the warehouse; nights: {there}")
    return dates


def _write_night_pages(
    warehouse: Warehouse,
    connection: duckdb.DuckDBPyConnection,
    reports: Path,
    dates: list[dt.date],
    heldout_splits: tuple[str, ...],
    bundle_file: str | None,
) -> list[Path]:
    """Each night's page and verdicts.json, with a comparison of every regressed model
    against its previous night and the page of each sweep written first, so the night
    page links them."""
    written = []
    for day in dates:
        page = reports / day.isoformat() / "index.html"
        night = night_report(connection, day)
        regressed: dict[str, str] = {}
        for change in night.changes:
            before = change.previous_date
            # A model on both nights (a verdict flip, a gap move), not one that vanished.
            moved = change.kind in ("verdict", "gap") and before is not None
            if change.severity == "regression" and moved and change.model not in regressed:
                assert before is not None
                pair = [Entry(change.model, before), Entry(change.model, day)]
                regressed[change.model] = _write_comparison_page(
                    warehouse, connection, reports, pair, heldout_splits, bundle_file
                ).name
        sweeps = []
        for sweep in night_sweeps(connection, day):
            atomic_write_text(page.with_name(sweep.file_name), render_sweep(sweep, bundle_file))
            sweeps.append((sweep.name, sweep.file_name))
        html = render_night_page(night, bundle_file, page.parent, regressed, sweeps)
        atomic_write_text(page, html)
        document = json.dumps(night.verdicts_document(), indent=1, default=str)
        atomic_write_text(page.with_name("verdicts.json"), document + "\n")
        written.append(page)
    return written


def _write_model_page(
    warehouse: Warehouse,
    connection: duckdb.DuckDBPyConnection,
    ledger: PageLedger,
    day: dt.date,
    name: str,
    options: ReportOptions,
    png: bool,
    bundle_file: str | None,
) -> Path:
    warehouse.scope_losses(connection, [(day, name)])  # the page reads its files alone
    report = model_report(connection, day, name, options)
    pngs = _write_pngs(report, ledger.folder) if png else []
    page = ledger.folder / report.file_name
    atomic_write_text(page, render_model_page(report, pngs, bundle_file))
    ledger.record(report.file_name)
    return page


def _write_pngs(report: ModelReport, folder: Path) -> list[str]:
    specs = model_charts(report)
    stem = report.file_name.removesuffix(".html")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for chart_id in ("histogram-log", "trend-nights"):
        name = f"{stem}-{chart_id}.png"
        # As wide as the page draws it ("container" has no width outside a page).
        spec = {**specs[chart_id], "width": PNG_WIDTH}
        atomic_write_bytes(folder / name, vl_convert.vegalite_to_png(spec, scale=2))
        written.append(name)
    return written


def write_comparison(
    warehouse: Warehouse,
    reports: Path,
    options: ReportOptions,
    items: Sequence[str],
    snapshot_date: dt.date | None = None,
    *,
    standalone: bool = False,
) -> Path:
    """reports/<date>/compare-....html for the entries named: MODEL (of the night given,
    default the latest) or MODEL@YYYY-MM-DD. The page goes in the latest entry's night,
    whose page is written again to link it."""
    with warehouse.reading(losses_view=False) as connection:
        known = [night["snapshot_date"] for night in nights(connection)]
        if not known:
            raise WarehouseError("no night in the warehouse yet")
        day = snapshot_date or max(known)
        if day not in known:
            there = ", ".join(str(night) for night in known[:10])
            raise WarehouseError(f"no night {day} in the warehouse; nights: {there}")
        entries = parse_entries(items, day)
        _check_entries(connection, entries, known, day)
        bundle_file = None if standalone else shared_bundle(reports)
        page = _write_comparison_page(
            warehouse, connection, reports, entries, options.heldout_splits, bundle_file
        )
        latest = max(entry.snapshot_date for entry in entries)
        _write_night_pages(
            warehouse, connection, reports, [latest], options.heldout_splits, bundle_file
        )
    return page


def _check_entries(
    connection: duckdb.DuckDBPyConnection, entries: list[Entry], known: list[Any], day: dt.date
) -> None:
    """Two or more different entries, each a model of a night in the warehouse."""
    missing = [
        f"{e.model!r} on {e.snapshot_date}"
        for e in entries
        if e.snapshot_date not in known or e.model not in night_models(connection, e.snapshot_date)
    ]
    repeated = sorted({f"{e.model}@{e.snapshot_date}" for e in entries if entries.count(e) > 1})
    if not (missing or repeated or len(entries) < 2):
        return
    problem = (
        f"not there: {', '.join(missing)}"
        if missing
        else f"named twice: {', '.join(repeated)}"
        if repeated
        else f"only {len(entries)} named"
    )
    raise WarehouseError(
        f"--compare needs two or more different models, or a model on two nights as "
        f"MODEL@YYYY-MM-DD ({problem}); models of {day}: "
        f"{', '.join(night_models(connection, day))}"
    )


def _write_comparison_page(
    warehouse: Warehouse,
    connection: duckdb.DuckDBPyConnection,
    reports: Path,
    entries: list[Entry],
    heldout_splits: tuple[str, ...],
    bundle_file: str | None,
) -> Path:
    warehouse.scope_losses(connection, [(e.snapshot_date, e.model) for e in entries])
    found = comparison(connection, entries, heldout_splits)
    page = reports / found.snapshot_date.isoformat() / found.file_name
    atomic_write_text(page, render_comparison(found, bundle_file))
    return page
