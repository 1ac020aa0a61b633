"""Shared fixtures: the packaged knowledge base, and a store on each database backend.

Storage tests run on SQLite (a fresh file under pytest's tmp_path: never a user's data folder)
and on the PostgreSQL server at ``BACKMICE_TEST_POSTGRES_URL`` (default: the local server's
``test`` database), inside a throwaway database created for the session and dropped after it.
Without a reachable server the PostgreSQL variants skip with a message, unless
``BACKMICE_REQUIRE_POSTGRES=1`` (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backmice.kb.base import KnowledgeBase
from backmice.kb.loader import default_kb
from backmice.storage import open_store
from backmice.storage.tables import Base
from backmice.testing import fast_password_hasher

POSTGRES_URL = os.environ.get("BACKMICE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_kb()


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway database on the PostgreSQL server, for this test session only."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"backmice_t_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.__class__.__name__}"
        if os.environ.get("BACKMICE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (BACKMICE_REQUIRE_POSTGRES=1 makes it mandatory)")
        pytest.skip(message)
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'backmice-test.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url):
    s = open_store(database_url, password_hasher=fast_password_hasher())
    if s.dialect == "postgresql":  # the session's database is shared: start each test empty
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with s.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield s
    s.close()
