"""Backup and restore as a logical dump: every table's rows as JSON lines, gzip-compressed.

The dump does not depend on the backend, so a backup of the embedded SQLite database restores
into PostgreSQL and back. It starts with a header naming the schema revision; a restore goes
into an empty database migrated to that same revision, in one transaction (all or nothing),
and then compares the row counts with the header's.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Engine, LargeBinary, func, insert, select, text
from sqlalchemy.sql.schema import Table

from backmice.errors import InputError, StorageError
from backmice.storage import migrate, validate
from backmice.storage.tables import Base

FORMAT = "backmice.backup"
FORMAT_VERSION = 1
CHUNK = 1000


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)  # parents before children


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        column = table.columns[name]
        if value is not None and isinstance(column.type, DateTime):
            value = validate.aware(dt.datetime.fromisoformat(value))
        elif value is not None and isinstance(column.type, Date):
            value = dt.date.fromisoformat(value)
        elif value is not None and isinstance(column.type, LargeBinary):
            value = base64.b64decode(value)
        out[name] = value
    return out


def backup(engine: Engine, path: Path) -> dict[str, int]:
    """Write every table to ``path`` (gzip JSON lines) in one read transaction; answer the
    row count per table."""
    counts: dict[str, int] = {}
    tmp = path.with_name(path.name + ".partial")
    with engine.connect() as connection, gzip.open(tmp, "wt", encoding="utf-8") as out:
        # One snapshot for every table: SQLite's transaction (storage.sqlite begins it) reads
        # one state of the WAL database; PostgreSQL needs REPEATABLE READ for that.
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        tables = _tables()
        for table in tables:
            counts[table.name] = connection.scalar(select(func.count()).select_from(table)) or 0
        out.write(json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION,
                              "schema_revision": migrate.current_revision(engine),
                              "created_at": validate.now().isoformat(),
                              "tables": counts}) + "\n")
        for table in tables:
            order = list(table.primary_key.columns) or list(table.columns)
            for row in connection.execute(select(table).order_by(*order)).mappings():
                out.write(json.dumps({"t": table.name,
                                      "r": {k: _encode(v) for k, v in row.items()}},
                                     ensure_ascii=False) + "\n")
        connection.rollback()
    tmp.replace(path)
    return counts


def _header(path: Path) -> dict[str, Any]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as src:
            header = json.loads(src.readline())
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError):
        raise InputError("backup", f"{path} is not a backmice backup",
                         "a file written by 'backmice db backup'") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputError("backup", f"{path} is not a backmice backup",
                         "a file written by 'backmice db backup'")
    if header.get("format_version") != FORMAT_VERSION:
        raise InputError("backup", f"backup format {header.get('format_version')!r} is not "
                         "supported", f"format version {FORMAT_VERSION}")
    return header


def restore(engine: Engine, path: Path) -> dict[str, int]:
    """Load a backup into this (migrated, empty) database, all or nothing."""
    header = _header(path)
    revision = migrate.current_revision(engine)
    if header.get("schema_revision") != revision:
        raise InputError("backup", f"the backup has schema {header.get('schema_revision')!r} "
                         f"and this database {revision!r}",
                         "a backup made by the same version of backmice")
    tables = {t.name: t for t in _tables()}
    counts = dict.fromkeys(tables, 0)
    with engine.begin() as connection:
        for table in tables.values():
            if connection.scalar(select(func.count()).select_from(table)):
                raise InputError("database", f"table {table.name} is not empty",
                                 "an empty database (restore never merges or overwrites)")
        batch: list[dict[str, Any]] = []
        current: Table | None = None
        with gzip.open(path, "rt", encoding="utf-8") as src:
            src.readline()
            for number, line in enumerate(src, start=2):
                try:
                    item = json.loads(line)
                    table = tables[item["t"]]
                    row = _decode(table, item["r"])
                except (KeyError, ValueError, TypeError):
                    raise InputError("backup", f"line {number} cannot be read",
                                     "an unmodified backup file") from None
                if table is not current or len(batch) >= CHUNK:
                    if batch:
                        connection.execute(insert(current), batch)
                    batch, current = [], table
                batch.append(row)
                counts[table.name] += 1
            if batch:
                connection.execute(insert(current), batch)
        if connection.dialect.name == "postgresql":
            for table in tables.values():
                if "id" in table.columns:  # SERIAL ids continue after the restored ones
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"))
        expected = {k: int(v) for k, v in header.get("tables", {}).items()}
        if counts != expected:
            raise StorageError("the backup is incomplete: its row counts do not match its "
                               "header; nothing was restored")
    return counts
