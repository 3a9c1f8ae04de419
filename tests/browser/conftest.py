"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven by Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("MATHLENS_CHROMIUM", "/usr/bin/chromium")
TEACHER_TOKEN = "browser-test-teacher-token"  # the test server's MATHLENS_ADMIN_TOKEN
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    port = _free_port()
    env = dict(os.environ, MATHLENS_DATA_DIR=str(tmp_path_factory.mktemp("browser-data")),
               MATHLENS_ADMIN_TOKEN=TEACHER_TOKEN)
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a fresh clone compiles the numba kernels once
    while True:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def teacher_token() -> str:
    """The test server's teacher token (MATHLENS_ADMIN_TOKEN)."""
    return TEACHER_TOKEN


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


class PageWatch:
    """Collects console errors, failed requests and any request leaving 127.0.0.1."""

    def __init__(self, page, base: str):
        self.page = page
        self.errors: list[str] = []
        host = urlparse(base).hostname

        def on_console(msg):
            if msg.type == "error":
                self.errors.append(f"console: {msg.text}")

        def on_request(req):
            u = urlparse(req.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.hostname != host:
                self.errors.append(f"outside request: {req.url}")

        def on_failed(req):
            # A fetch aborted on purpose (AbortController, or leaving the page) is not a failure.
            if "ERR_ABORTED" in (req.failure or ""):
                return
            self.errors.append(f"failed request: {req.url} {req.failure}")

        def on_response(resp):
            if resp.status >= 400:
                self.errors.append(f"HTTP {resp.status}: {resp.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", on_request)
        page.on("requestfailed", on_failed)
        page.on("response", on_response)


@pytest.fixture()
def page(browser, server_url):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    watch = PageWatch(pg, server_url)
    pg.watch = watch
    yield pg
    ctx.close()
    assert not watch.errors, "\n".join(watch.errors)


def pytest_collection_modifyitems(config, items):
    # A real browser on a loaded 2-core machine races its own hover labels and first responses
    # now and then; a browser test must pass on one of three tries (a real bug fails all three).
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.flaky(reruns=2))
