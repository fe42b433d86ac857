"""Sending one notice to each target, bounded: a timeout per attempt, up to ATTEMPTS
attempts with a doubling pause, and an outcome per target (sent, or failed with why).
JSON webhooks (json://, jsons://) are posted lossgram's document; every other URL goes
through Apprise (the optional extra lossgram[notify]). A target is only ever shown
redacted (scheme and host): URLs carry secrets."""

from __future__ import annotations

import base64
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline.notify.message import Notice

ATTEMPTS = 3
FIRST_PAUSE = 0.5  # seconds before the second attempt; doubled before each next one
_SECRET = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Delivery:
    target: str  # redacted: scheme://host
    status: str  # sent / failed
    reason: str | None = None
    attempts: int = 1


def redact(url: str) -> str:
    """scheme://host of a target URL (a token, a password or a path may be a secret)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}"


def expand(url: str, environ: Mapping[str, str]) -> str:
    """${NAME} in a URL replaced by the environment's NAME (a missing one is an error)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise LookupError(f"the environment has no {name}")
        return environ[name]

    return _SECRET.sub(value, url)


def deliver_all(
    targets: tuple[str, ...],
    notice: Notice,
    timeout: float,
    environ: Mapping[str, str] | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send the notice to each target; never raises."""
    environ = os.environ if environ is None else environ
    return [_deliver(target, notice, timeout, environ, pause) for target in targets]


def _deliver(
    target: str,
    notice: Notice,
    timeout: float,
    environ: Mapping[str, str],
    pause: Callable[[float], None],
) -> Delivery:
    shown = redact(target)
    try:
        url = expand(target, environ)
    except LookupError as error:
        return Delivery(shown, "failed", str(error), attempts=0)
    send = _post_json if urlsplit(url).scheme in ("json", "jsons") else _through_apprise
    reasons: list[str] = []
    for attempt in range(1, ATTEMPTS + 1):
        try:
            reason = send(url, notice, timeout)
        except Exception as error:  # a library's surprise: this target fails, not the run
            reason = f"an error in sending ({type(error).__name__})"
        if reason is None:
            return Delivery(shown, "sent", attempts=attempt)
        reasons.append(reason)
        if attempt < ATTEMPTS:
            pause(FIRST_PAUSE * 2 ** (attempt - 1))
    return Delivery(shown, "failed", reasons[-1], attempts=ATTEMPTS)


def _post_json(url: str, notice: Notice, timeout: float) -> str | None:
    """POST the document to a json:// (http) or jsons:// (https) URL: user:password as
    basic auth, +Name=value query items as headers. None when the server took it."""
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "jsons" else "http"
    port = f":{parts.port}" if parts.port else ""
    headers = {"Content-Type": "application/json", "User-Agent": "lossgram"}
    query = []
    for item in filter(None, parts.query.split("&")):
        name, _, value = (unquote(piece) for piece in item.partition("="))
        if name.startswith("+"):
            headers[name[1:]] = value
        else:
            query.append(f"{name}={value}")
    if parts.username:
        login = f"{parts.username}:{parts.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(login).decode()
    address = f"{scheme}://{parts.hostname}{port}{parts.path or '/'}"
    address += f"?{'&'.join(query)}" if query else ""
    body = json.dumps(notice.document, default=str).encode()
    request = urllib.request.Request(address, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
        return None
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except (urllib.error.URLError, OSError) as error:
        cause = getattr(error, "reason", error)
        if isinstance(cause, TimeoutError):
            return f"no answer within {timeout:g} s"
        return f"cannot connect ({type(cause).__name__})"
    except ValueError as error:  # http.client refuses the URL (a space, a bad port)
        return f"not a usable URL ({type(error).__name__})"


def _through_apprise(url: str, notice: Notice, timeout: float) -> str | None:
    try:
        import apprise
    except ImportError:
        return "Apprise is not installed: pip install 'lossgram[notify]'"
    service = apprise.Apprise()
    if not service.add(url):
        return "Apprise does not know this URL (see its list of services)"
    result: Any = service.notify(
        body=notice.markdown,
        title=notice.title,
        body_format=apprise.NotifyFormat.MARKDOWN,
        timeout=timeout,
    )
    return None if result else "the service refused it or did not answer in time"
