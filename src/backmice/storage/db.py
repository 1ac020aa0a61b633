"""The database connection: engine, connection settings, migrations, and the write path.

SQLite (the default, one file in the data folder) and PostgreSQL (by URL) behave the same to
callers; ``repository.Store`` adds the domain operations on top of ``Database``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from backmice import strict_json
from backmice.errors import InputError, StorageError, TooLargeError
from backmice.storage import migrate, sqlite
from backmice.storage.writer import SerialWriter


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable URL)"


def make_engine(url: str) -> Engine:
    """An engine for ``url``. Documents (JSON columns) are written by ``strict_json.dumps``:
    a value the API would refuse (NaN, an unpaired surrogate, NUL) fails the write, and the
    transaction with it, on both backends alike, so every stored row can be backed up and
    restored into either database."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"cannot read the database URL {_safe(url)}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 10},
                               json_serializer=strict_json.dumps)
        sqlite.configure(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=10, max_overflow=30, pool_pre_ping=True,
                             json_serializer=strict_json.dumps)
    raise StorageError(f"unsupported database {parsed.get_backend_name()!r} in {_safe(url)}",)


def _refused(exc: Any) -> InputError:
    if exc.too_large:
        return TooLargeError(exc.field, exc.message,
                             f"at most {strict_json.MAX_DOCUMENT_CHARS} characters")
    return InputError(exc.field, exc.message, strict_json.ALLOWED)


class Database:
    """Reads through a pooled engine; writes through the serial writer on SQLite."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = SerialWriter(engine) if self.dialect == "sqlite" else None
        self._closed = False

    # The repository functions call these two.
    def write(self, work: Callable[[Session], Any]) -> Any:
        try:
            if self._writer is not None:
                return self._writer.submit(work)
            # PostgreSQL handles concurrent writers itself: one transaction per call.
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                return work(session)
        except strict_json.Refused as exc:  # PostgreSQL: raised as it is
            raise _refused(exc) from None
        except SQLAlchemyError as exc:
            if isinstance(getattr(exc, "orig", None), strict_json.Refused):  # SQLite: wrapped
                raise _refused(exc.orig) from None
            raise StorageError(f"the database write failed: {exc.__class__.__name__}") from None

    async def write_async(self, work: Callable[[Session], Any]) -> Any:
        """``write`` for a coroutine: on SQLite it awaits the writer's COMMIT without holding a
        thread (a request parked in the thread pool costs about 0.6 ms of CPU under load);
        elsewhere the transaction runs in a worker thread."""
        if self._writer is None:
            return await asyncio.to_thread(self.write, work)
        try:
            return await asyncio.wrap_future(self._writer.enqueue(work))
        except SQLAlchemyError as exc:
            if isinstance(getattr(exc, "orig", None), strict_json.Refused):
                raise _refused(exc.orig) from None
            raise StorageError(f"the database write failed: {exc.__class__.__name__}") from None

    def read(self, work: Callable[[Session], Any]) -> Any:
        try:
            with Session(self.engine) as session:
                return work(session)
        except SQLAlchemyError as exc:
            raise StorageError(f"the database read failed: {exc.__class__.__name__}") from None

    def health(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.close()
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(url: str) -> Engine:
    """An engine on a database migrated to the latest schema; StorageError if that fails."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise StorageError(f"cannot open the database {_safe(url)}: {reason}") from None
    return engine
