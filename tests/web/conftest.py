"""Web fixtures: the app on each database backend, driven in-process by TestClient."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backmice.config import Settings
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
