"""SQLite connection settings: WAL, foreign keys, and transactions that SAVEPOINTs nest in.

Python's sqlite3 driver (before Python 3.12's ``autocommit`` attribute) opens a transaction by
itself only just before an INSERT, UPDATE or DELETE. A SAVEPOINT issued first therefore became
the transaction, and its RELEASE committed it: the serial writer's "group" was in fact one
commit per write, and a group's COMMIT committed nothing. Following SQLAlchemy's SQLite
documentation ("Serializable isolation / Savepoints / Transactional DDL") the driver's handling
is turned off and every SQLAlchemy transaction starts with our own BEGIN: reads then see one
snapshot, savepoints nest, and the writer's COMMIT is the one commit of its group. Engines with
the ``IMMEDIATE`` execution options (the writer, migrations) take the write lock at BEGIN, so a
write never finds its read snapshot outdated by another process (SQLITE_BUSY_SNAPSHOT).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event

BEGIN_OPTION = "backmice_sqlite_begin"
IMMEDIATE = {BEGIN_OPTION: "BEGIN IMMEDIATE"}


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver opens no transaction: _on_begin does
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while the writer writes. synchronous=NORMAL is durable against an
    # application crash in WAL mode (a power cut can lose the last transactions, never corrupt).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _on_begin(connection: Connection) -> None:
    connection.exec_driver_sql(connection.get_execution_options().get(BEGIN_OPTION, "BEGIN"))


def configure(engine: Engine) -> None:
    """Install the settings above on a new SQLite engine."""
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
