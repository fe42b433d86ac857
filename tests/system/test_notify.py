"""Notifications after a run, to real servers on 127.0.0.1: a JSON webhook gets the
night's verdicts.json document plus the run summary; an SMTP server gets the e-mail;
a server answering 500 and one that never answers are retried and recorded as failed,
and then the run's exit code and data are what they would be without notifications.
The secret in a target URL reaches the server and nowhere else."""

from __future__ import annotations

import email
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from tests.helpers.dumps import write_dump
from tests.helpers.local_servers import http_server, silent_server, smtp_server

NIGHTS = ("2026-11-22", "2026-11-23")
SECRET = "s3cr3t-hook-token"
REPORT_URL = "https://ml.example.com/lossgram"


def write_nights(inbox: Path, nights: tuple[str, ...] = NIGHTS) -> None:
    """Model m fits on the first night and overfits on the second (a regression)."""
    rng = np.random.default_rng(5)
    n = 300
    labels = {split: rng.integers(0, 3, n) for split in ("train", "test")}
    for night, test_signal in zip(nights, (4.0, 0.3), strict=False):
        for split, signal in (("train", 4.0), ("test", test_signal)):
            logits = rng.normal(size=(n, 3))
            logits[np.arange(n), labels[split]] += signal
            write_dump(inbox / night / f"m-{split}.parquet",
                       {"sample_id": np.arange(n), "label": labels[split], "logits": logits,
                        "split": [split] * n, "model": ["m"] * n})  # fmt: skip


def run(root: Path, *targets: str, extra: dict[str, str] | None = None):
    env = {
        "LOSSGRAM_NOTIFY": " ".join(targets),
        "LOSSGRAM_REPORT_URL": REPORT_URL,
        "LOSSGRAM_NOTIFY_TIMEOUT": "0.3",
        "HOOK_SECRET": SECRET,
        **(extra or {}),
    }
    where = ["--inbox", str(root / "inbox"), "--warehouse", str(root / "wh")]
    return CliRunner().invoke(app, ["run", *where, "--reports", str(root / "r")], env=env)


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "wh" / "lossgram.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_webhook_and_an_email_receive_the_regression(tmp_path):
    write_nights(tmp_path / "inbox", NIGHTS[:1])
    with http_server() as (port, hook), smtp_server() as (smtp_port, mails):
        json_url = f"json://127.0.0.1:{port}/hook?+X-Token=${{HOOK_SECRET}}"
        mail_url = (
            f"mailto://127.0.0.1:{smtp_port}?mode=insecure&from=lossgram@example.com"
            "&to=team@example.com"
        )
        first = run(tmp_path, json_url, mail_url)
        assert first.exit_code == 0, first.output
        assert hook.bodies == [] and mails == []  # no regression, not failed: nothing said
        write_nights(tmp_path / "inbox")  # the second night: m overfits
        second = run(tmp_path, json_url, mail_url)
    assert second.exit_code == 0, second.output
    (document,) = hook.bodies
    assert hook.headers[0]["X-Token"] == SECRET and hook.paths == ["/hook"]
    assert document["schema_version"] == 2 and document["snapshot_date"] == NIGHTS[1]
    assert document["run"]["status"] == "succeeded" and document["run"]["files_ingested"] == 2
    saved = json.loads((tmp_path / "r" / NIGHTS[1] / "verdicts.json").read_text())
    assert {k: v for k, v in document.items() if k not in ("run", "links")} == saved
    assert document["links"] == {
        f"night {NIGHTS[1]}": f"{REPORT_URL}/{NIGHTS[1]}/index.html",
        "m": f"{REPORT_URL}/{NIGHTS[1]}/m.html",
    }
    (raw,) = mails
    message = email.message_from_string(raw)
    assert "regression" in message["Subject"] and NIGHTS[1] in message["Subject"]
    text = next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    regressions = text.index("Regressions")
    assert "m test: good fit -> overfit" in text[regressions:]
    assert text.index("Regressions") < text.index("Verdicts") < text.index("Links")
    assert f"{REPORT_URL}/{NIGHTS[1]}/m.html" in text
    stored = query(tmp_path, "select target, status, attempts from notifications order by all")
    assert stored == [("json://127.0.0.1", "sent", 1), ("mailto://127.0.0.1", "sent", 1)]
    # The secret reached the server and nothing else.
    assert SECRET not in second.output
    assert not [row for row in query(tmp_path, "select * from job_runs") if SECRET in str(row)]
    assert not [row for row in query(tmp_path, "select * from notifications") if SECRET in str(row)]


def test_targets_that_fail_change_neither_the_exit_code_nor_the_data(tmp_path):
    write_nights(tmp_path / "inbox", NIGHTS[:1])
    with http_server(status=500) as (port, refused), silent_server() as silent:
        result = run(
            tmp_path,
            f"json://127.0.0.1:{port}/hook",
            f"json://127.0.0.1:{silent}/hook",
            "json://127.0.0.1:1/nobody-listens",
            "notaservice://x",
            extra={"LOSSGRAM_NOTIFY_ON": "always"},
        )
    assert result.exit_code == 0, result.output  # as without notifications
    assert len(refused.bodies) == 3  # 3 attempts
    stored = query(tmp_path, "select target, status, reason, attempts from notifications")
    reasons = {(target, reason) for target, status, reason, _ in stored if status == "failed"}
    assert ("json://127.0.0.1", "HTTP 500") in reasons
    assert ("json://127.0.0.1", "no answer within 0.3 s") in reasons
    assert any(reason.startswith("cannot connect") for _, reason in reasons)
    assert (
        "notaservice://x",
        "Apprise does not know this URL (see its list of services)",
    ) in reasons
    assert "warning: notification to json://127.0.0.1 failed: HTTP 500" in result.output
    assert query(tmp_path, "select count(*) from losses") == [(600,)]
    assert query(tmp_path, "select status from job_runs") == [("succeeded",)]


def test_notify_previews_and_resends_a_night(tmp_path):
    write_nights(tmp_path / "inbox")
    assert run(tmp_path).exit_code == 0  # no targets: no notification
    with http_server() as (port, hook):
        env = {"LOSSGRAM_NOTIFY": f"json://127.0.0.1:{port}/h", "LOSSGRAM_REPORT_URL": REPORT_URL}
        where = ["--warehouse", str(tmp_path / "wh")]
        preview = CliRunner().invoke(app, ["notify", *where, "--dry-run"], env=env)
        assert preview.exit_code == 0, preview.output
        assert hook.bodies == []
        assert "to: json://127.0.0.1" in preview.output and "Regressions" in preview.output
        sent = CliRunner().invoke(app, ["notify", *where, "--date", NIGHTS[0]], env=env)
    assert sent.exit_code == 0, sent.output
    assert [body["snapshot_date"] for body in hook.bodies] == [NIGHTS[0]]
    assert "sent to json://127.0.0.1" in sent.output


def test_settings_refuse_unknown_conditions():
    from pipeline.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="notify_on: unknown sometimes"):
        load_settings(None, env={"LOSSGRAM_NOTIFY_ON": "regressed,sometimes"})
