"""What a notification says: for one night, the gate, the regressions first (model,
split, old -> new verdict, gap / H change with its interval), the verdict counts, and
links to the pages; as Markdown for the services and as a JSON document (the night's
verdicts.json plus the run's summary) for webhooks. Pure functions of the run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.report.data import page_name

VERDICT_ORDER = ("overfit", "possible_overfit", "underfit", "good_fit", "insufficient_data")
BAD = ("overfit", "possible_overfit", "underfit")


@dataclass(frozen=True)
class Notice:
    """One notification: a title, a Markdown body, and the document webhooks receive."""

    title: str
    markdown: str
    document: dict[str, Any]


def reasons_to_notify(
    run: dict[str, Any], night: dict[str, Any] | None, on: tuple[str, ...]
) -> list[str]:
    """Which of the notify_on conditions this run (and night, when it committed one)
    meets: none means no notification."""
    reasons = ["always"] if "always" in on else []
    if "failed" in on and run.get("status") in ("failed", "partial"):
        reasons.append("failed")
    if night is not None:
        if "regressed" in on and any(c["severity"] == "regression" for c in night["changes"]):
            reasons.append("regressed")
        found = {v["verdict"] for v in night["verdicts"]}
        reasons += [name for name in BAD if name in on and name in found]
    return reasons


def compose(run: dict[str, Any], night: dict[str, Any] | None, report_url: str | None) -> Notice:
    """The notification of a run for one night (or of a run that committed none)."""
    day = night["snapshot_date"] if night else None
    lines = [f"**{run.get('status', '?')}**"]
    if "files_ingested" in run:  # a run's note; `lossgram notify` resends a night's
        lines[0] += (
            f": {run['files_ingested']} dump(s) ingested, {run.get('files_rejected', 0)}"
            f" rejected, {run.get('files_unchanged', 0)} unchanged (run {run.get('run_id')})"
        )
    if run.get("error"):
        lines.append(f"Error: {run['error']}")
    gate = run.get("gate") or []
    lines.append(
        f"Gate (fail_on): tripped, {len(gate)} reason(s)" if gate else "Gate (fail_on): not tripped"
    )
    lines += [f"- {reason}" for reason in gate[:10]]
    links: dict[str, str] = {}
    if night is not None:
        regressions = [c for c in night["changes"] if c["severity"] == "regression"]
        if regressions:
            lines += ["", "**Regressions**"] + [f"- {c['text']}" for c in regressions]
        counts = {name: 0 for name in VERDICT_ORDER}
        for verdict in night["verdicts"]:
            counts[verdict["verdict"]] = counts.get(verdict["verdict"], 0) + 1
        lines += ["", "**Verdicts**: " + ", ".join(
            f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n
        ) or "none"]  # fmt: skip
        links = _links(night, regressions, report_url)
        if links:
            lines += ["", "**Links**"] + [f"- {name}: {url}" for name, url in links.items()]
    regressed = sum(c["severity"] == "regression" for c in night["changes"]) if night else 0
    title = f"lossgram {day or 'run'}: {run.get('status', '?')}"
    title += f", {regressed} regression(s)" if regressed else ""
    document = {**(night or {}), "run": run, "links": links}
    return Notice(title, "\n".join(lines), document)


def _links(
    night: dict[str, Any], regressions: list[dict[str, Any]], report_url: str | None
) -> dict[str, str]:
    """The night page and each regressed model's page, under the published URL."""
    if not report_url:
        return {}
    base = f"{report_url.rstrip('/')}/{night['snapshot_date']}"
    links = {f"night {night['snapshot_date']}": f"{base}/index.html"}
    for change in regressions:
        links.setdefault(str(change["model"]), f"{base}/{page_name(str(change['model']))}")
    return links
