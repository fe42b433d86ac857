"""The reports published to the loopback S3 (`--reports s3://bucket/site/`), opened in a
real browser through a static web server over the bucket's objects (as a bucket served
as a website is): the dashboard and a night page draw their charts from the uploaded
shared script, and a relative link leads from one to the other."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import s3fs
from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from pipeline.cli.app import app
from tests.helpers.dumps import write_hive_split
from tests.system.browser.test_browser import CHARTS, CHROMIUM, CHROMIUM_ARGS, TRACK_CHARTS, settle

pytestmark = pytest.mark.slow
NIGHT = "2026-11-23"


@contextmanager
def website(fs: s3fs.S3FileSystem, prefix: str) -> Iterator[int]:
    """GET /<name> answers the object prefix/<name> with its stored Content-Type."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key = f"{prefix}/{self.path.lstrip('/').split('?')[0] or 'index.html'}"
            try:
                body, kind = fs.cat(key), fs.info(key)["ContentType"]
            except FileNotFoundError:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_the_published_site_works_in_a_browser(tmp_path, bucket):
    for seed, split in enumerate(("train", "test")):
        write_hive_split(tmp_path / "inbox", NIGHT, "mlp", split, n=200, seed=seed)
    where = ["--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "wh")]
    done = CliRunner().invoke(app, ["run", *where, "--reports", f"s3://{bucket}/site/"])
    assert done.exit_code == 0, done.output
    fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)
    with website(fs, f"{bucket}/site") as port, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        # Nothing but the static server: a CDN or any other host is refused.
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(f"http://127.0.0.1:{port}/")
                      else route.abort())  # fmt: skip
        context.add_init_script(TRACK_CHARTS)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://127.0.0.1:{port}/index.html", wait_until="load")
        settle(page)
        assert page.locator(CHARTS).count() == 3 and errors == []
        page.locator(f'a[href="{NIGHT}/index.html"]').first.click()
        page.wait_for_load_state("load")
        settle(page)
        assert page.url == f"http://127.0.0.1:{port}/{NIGHT}/index.html"
        assert page.locator(CHARTS).count() == 1 and errors == []
        browser.close()
