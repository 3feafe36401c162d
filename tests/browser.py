"""The pages in a real browser: Debian's Chromium driven by Playwright, axe-core for WCAG 2.1 AA.

The browser is the Debian package (``/usr/bin/chromium``, or ``VEIDLAPAS_CHROMIUM``), never one
Playwright downloads; it runs headless with ``--no-sandbox`` (the tests run as root) and without the
background traffic a closed network refuses. A missing browser fails the test, never skips it, as a
missing PostgreSQL, Redis or LibreOffice does: `make test` installs it.

Every page a test visits can be checked with :func:`check_page`: axe-core at WCAG 2.1 A and AA must find
nothing, and a screenshot goes to ``tests/artifacts/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

ARTIFACTS = Path(__file__).parent / "artifacts"
#: The browsers this run launched, as "Chromium <version> (<path>)" (printed at the end of the run).
LAUNCHED: list[str] = []
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """The Debian Chromium binary, if installed."""
    configured = os.environ.get("VEIDLAPAS_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium")


def chromium_version() -> str:
    """What the browser says it is (printed in the test run's header)."""
    path = chromium_path()
    if path is None:
        return "chromium: not installed"
    try:
        found = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as failed:
        return f"chromium: {path} does not start ({type(failed).__name__})"
    return found.strip() or f"chromium at {path}"


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.fail("Debian's chromium is missing (scripts/debian-packages.txt; `make test` installs it)")
    return path


class PathOnlyHandler(WSGIRequestHandler):
    """Werkzeug's request line in the log without its query string, as the service's own request log
    keeps it (a one-time link's code travels there; production's waitress writes no request lines)."""

    def log_request(self, code="-", size="-") -> None:
        whole = self.path
        self.path = whole.split("?", 1)[0]  # what werkzeug writes
        try:
            super().log_request(code, size)
        finally:
            self.path = whole


class LiveServer:
    """The application served on a free port of 127.0.0.1 in a thread, as a browser reaches it."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=PathOnlyHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Chromium for the whole run."""
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        LAUNCHED.append(f"Chromium {launched.version} ({path})")
        yield launched
        launched.close()


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def context(browser, live_server) -> Iterator:
    """A fresh browser profile (no cookies) whose relative URLs go to the live server, in Latvian."""
    made = browser.new_context(base_url=live_server.url, locale="lv-LV", accept_downloads=True)
    made.set_default_timeout(15_000)
    yield made
    made.close()


@pytest.fixture
def browser_page(context):
    return context.new_page()


def screenshot_name(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")


def check_page(page, name: str) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation on ``page``; a full-page screenshot is kept as ``name``."""
    from axe_playwright_python.sync_playwright import Axe

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{screenshot_name(name)}.png"), full_page=True)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def sign_in(page, username: str, password: str) -> None:
    """Sign in through the sign-in page, as a person does."""
    page.goto("/ienakt")
    page.get_by_label("Lietotājvārds").fill(username)
    page.get_by_label("Parole").fill(password)
    page.get_by_role("button", name="Ienākt").click()
    page.wait_for_load_state()
