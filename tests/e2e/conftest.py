"""A live server on a free loopback port and Debian's Chromium driven by Playwright.

The browser is never downloaded: tests use /usr/bin/chromium (``BACKMICE_CHROMIUM`` overrides).
Without it the tests skip with a message, unless ``BACKMICE_REQUIRE_BROWSER=1`` (set by .ci/run),
when they fail. Screenshots go to ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from backmice.config import Settings
from backmice.storage import open_store
from backmice.testing import fast_password_hasher
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


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, kb):
    """The served app and its store (tests create users through the store)."""
    folder = tmp_path_factory.mktemp("e2e-data")
    settings = Settings.load(data_dir=folder)
    store = open_store(settings.database_url, password_hasher=fast_password_hasher())
    yield create_app(settings, kb=kb, store=store), store
    store.close()


@pytest.fixture(scope="session")
def live_store(live_app):
    return live_app[1]


@pytest.fixture(scope="session")
def live_server(live_app):
    app, _store = live_app
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
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert not errors, f"browser errors: {errors}"


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(pg, name: str, full_page: bool = False) -> Path:
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=full_page)
        return path

    return take
