"""Apply the Alembic migrations shipped inside the package (``upgrade head``) on start.

Two processes starting at once must not both migrate: on PostgreSQL a transaction-level
advisory lock serialises them; on SQLite ``BEGIN IMMEDIATE`` takes the database's write lock
(``storage.sqlite``). A database already at the head revision is left alone after one
read of its revision: Alembic's upgrade command, which loads every migration script, runs only
when there is something to do (each worker and each command opens the store).
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from backmice.storage import sqlite

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_ID = 0x6261636B6D696365 & 0x7FFFFFFFFFFFFFFF  # "backmice" as a 63-bit integer


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    if current_revision(engine) == head_revision():
        return
    config = alembic_config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        elif connection.dialect.name == "sqlite":
            sqlite.begin_immediate(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@functools.cache
def head_revision() -> str:
    """The newest revision shipped with this version of backmice."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
