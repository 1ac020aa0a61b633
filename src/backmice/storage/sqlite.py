"""SQLite connection settings: WAL, foreign keys, and transactions that SAVEPOINTs nest in.

Python's sqlite3 driver (before Python 3.12's ``autocommit`` attribute) opens a transaction by
itself only just before an INSERT, UPDATE or DELETE. A SAVEPOINT issued first therefore became
the transaction, and its RELEASE committed it: the serial writer's "group" was in fact one
commit per write, and a group's COMMIT committed nothing. As SQLAlchemy's SQLite documentation
advises ("Serializable isolation / Savepoints / Transactional DDL"), the driver's handling is
turned off and every SQLAlchemy transaction starts with our own BEGIN: reads see one snapshot,
savepoints nest, and the writer's COMMIT is the one commit of its group. The BEGIN is issued by
the dialect's ``do_begin`` rather than a "begin" event listener, because any connection event
listener makes every statement go through SQLAlchemy's event dispatch (measured: about a fifth
more Python calls per write).

The writer and migrations take the write lock at once (``begin_immediate``), so that a write
never finds its read snapshot outdated by another process (SQLITE_BUSY_SNAPSHOT).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver opens no transaction: _do_begin does
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while the writer writes. synchronous=NORMAL is durable against an
    # application crash in WAL mode (a power cut can lose the last transactions, never corrupt).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _do_begin(pooled_connection: Any) -> None:
    driver = pooled_connection.driver_connection
    if not driver.in_transaction:  # else begin_immediate began it: SQLAlchemy joins
        driver.execute("BEGIN")


def begin_immediate(connection: Connection) -> None:
    """Begin ``connection``'s transaction with the write lock taken (BEGIN IMMEDIATE); the
    transaction SQLAlchemy then begins on it joins this one. Call it before any statement."""
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


def configure(engine: Engine) -> None:
    """Install the settings above on a new SQLite engine."""
    event.listen(engine, "connect", _on_connect)  # a pool event: once per new connection
    engine.dialect.do_begin = _do_begin  # the pysqlite dialect's own does nothing
