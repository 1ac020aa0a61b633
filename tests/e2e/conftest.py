"""A live server on a free loopback port and Debian's Chromium driven by Playwright.

The browser is never downloaded: tests use /usr/bin/chromium (``BACKMICE_CHROMIUM`` overrides).
Without it the tests skip with a message, unless ``BACKMICE_REQUIRE_BROWSER=1`` (set by .ci/run),
when they fail. Screenshots go to ``test-artifacts/`` at the repository root. ``log_in`` makes a
user with the given roles in the live app's store and logs a browser page in through the form.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from backmice.config import Settings
from backmice.storage import open_store
from backmice.testing import TEST_PASSWORD, fast_password_hasher
from backmice.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _chromium() -> str | None:
    path = os.environ.get("BACKMICE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        message = "Debian's Chromium is not installed (apt-get install chromium)"
        if os.environ.get("BACKMICE_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; BACKMICE_REQUIRE_BROWSER=1 makes it mandatory")
        pytest.skip(message)
    return path


@dataclass(frozen=True)
class LiveApp:
    url: str
    store: Any


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, kb):
    folder = tmp_path_factory.mktemp("e2e-data")
    settings = Settings.load(data_dir=folder)
    store = open_store(settings.database_url, password_hasher=fast_password_hasher())
    app = create_app(settings, kb=kb, store=store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    yield LiveApp(f"http://127.0.0.1:{port}", store)
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture(scope="session")
def live_server(live_app):
    return live_app.url


_users = itertools.count(1)


@pytest.fixture
def log_in(live_app):
    """``log_in(page, "clinician")``: a new user with those roles, logged in through the form;
    the page ends on ``land`` (default /patients)."""

    def do(pg, *roles: str, land: str = "/patients") -> str:
        name = f"e2e{next(_users)}-{'-'.join(roles)}"
        live_app.store.accounts.create_user(username=name, password=TEST_PASSWORD, roles=roles)
        pg.goto(f"{live_app.url}/login?next={land}")
        pg.fill("#username", name)
        pg.fill("#password", TEST_PASSWORD)
        pg.click("form.login-form button[type='submit']")
        pg.wait_for_url(f"{live_app.url}{land}")
        return name

    return do


@pytest.fixture(scope="module")
def browser(chromium_path):
    # Per module, not per session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, and later tests that call asyncio.run() would fail.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield b
        b.close()


def _watched_page(browser, expected: str | None = None):
    """A desktop-sized page; after the test, any script error or console error fails it
    (except lines containing ``expected``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    unexpected = [e for e in errors if expected is None or expected not in e]
    assert not unexpected, f"browser errors: {unexpected}"


@pytest.fixture
def page(browser):
    yield from _watched_page(browser)


@pytest.fixture
def page_422(browser):
    """Like ``page``, but the console line Chromium logs for an expected 422 answer is allowed."""
    yield from _watched_page(browser, expected="status of 422")


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(pg, name: str, full_page: bool = False) -> Path:
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def choose():
    """``choose(page, "#lump-tender", "true")``: click the toggle of that value in a row of
    toggles (a <choice-group> of radios, templates/_fields.html), as a user does."""

    def do(pg, group: str, value: str) -> None:
        pg.locator(f"{group} input[value='{value}'] + label").click()

    return do
