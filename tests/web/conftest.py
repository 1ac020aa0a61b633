"""Web fixtures: the app on each database backend, driven in-process by TestClient, and clients
logged in with each role (through the real login form) or holding an API token."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from backmice.config import Settings
from backmice.testing import TEST_PASSWORD
from backmice.web.app import create_app


@pytest.fixture
def web_app(store, kb, tmp_path):
    return create_app(Settings.load(data_dir=tmp_path, database_url="sqlite://"), kb=kb,
                      store=store)


@pytest.fixture
def client(web_app):
    with TestClient(web_app) as c:
        yield c


@pytest.fixture
def remote_client(web_app):
    """A client from another machine (not loopback)."""
    with TestClient(web_app, client=("203.0.113.9", 50000)) as c:
        yield c


def log_in(client: TestClient, username: str, password: str = TEST_PASSWORD):
    """Log in through the form; afterwards the client sends the session's CSRF token."""
    form = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
    answer = client.post("/login", data={"username": username, "password": password,
                                         "login_token": token},
                         follow_redirects=False)
    if answer.status_code == 303:
        client.headers["x-csrf-token"] = client.get("/api/v1/me").json()["csrf_token"]
    return answer


@pytest.fixture
def login_as(web_app, store):
    """``login_as("clinician")`` → a TestClient logged in as a new user with those roles."""
    opened = []

    def make(*roles: str, username: str | None = None, clinic: str | None = None):
        name = username or f"u{len(opened)}-{'-'.join(roles)}"
        store.accounts.create_user(username=name, password=TEST_PASSWORD, roles=roles,
                                   clinic=clinic)
        c = TestClient(web_app)
        c.__enter__()
        opened.append(c)
        assert log_in(c, name).status_code == 303
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def bearer(web_app, store):
    """``bearer("clinician")`` → a TestClient sending a new user's API token (no cookies)."""
    opened = []

    def make(*roles: str, clinic: str | None = None):
        user = store.accounts.create_user(username=f"t{len(opened)}-{'-'.join(roles)}",
                                          password=TEST_PASSWORD, roles=roles, clinic=clinic)
        secret, _ = store.accounts.create_token(user_id=user.id, name="tests")
        c = TestClient(web_app, headers={"authorization": f"Bearer {secret}"})
        c.__enter__()
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)
