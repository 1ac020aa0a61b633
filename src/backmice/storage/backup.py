"""Backup and restore as a logical dump: every table's rows as JSON lines, gzip-compressed.

The dump does not depend on the backend, so a backup of the embedded SQLite database restores
into PostgreSQL and back. It starts with a header naming the schema revision and ends with a
trailer holding each table's row count and SHA-256 digest of its lines. Backup writes every
stored row, whatever it holds (a value no longer accepted is escaped, never a reason to stop).

A restore goes into an empty database migrated to the same revision, in one transaction (all or
nothing: a refused restore leaves the target empty). Every row is checked with the API's rules
(``restore_check``), every key against the rows already read (no duplicate, no dangling
reference), and each table's digest and count against the trailer. A refusal names the line and
the reason; a file cut short or with a bad gzip checksum says so.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Engine, LargeBinary, func, insert, select, text
from sqlalchemy.sql.schema import Table

from backmice.errors import InputError
from backmice.storage import migrate, restore_check, validate
from backmice.storage.tables import Base

FORMAT = "backmice.backup"
FORMAT_VERSION = 2  # 2: a trailer with per-table digests; 1 (no trailer) is still read
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


def _line(item: dict[str, Any]) -> bytes:
    """One JSON line as UTF-8. A stored text that is not valid Unicode (written before the
    rules of ``strict_json``) is kept as a ``\\uXXXX`` escape, so backup never stops on it;
    restore then names that line."""
    text = json.dumps(item, ensure_ascii=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(item) + "\n").encode("ascii")


def backup(engine: Engine, path: Path) -> dict[str, int]:
    """Write every table to ``path`` (gzip JSON lines) in one read transaction; answer the
    row count per table. On any failure no file is left, not even the ``.partial`` one."""
    counts: dict[str, int] = {}
    digests: dict[str, str] = {}
    tmp = path.with_name(path.name + ".partial")
    try:
        with engine.connect() as connection, gzip.open(tmp, "wb") as out:
            # One snapshot for every table: SQLite's transaction (storage.sqlite begins it)
            # reads one state of the WAL database; PostgreSQL needs REPEATABLE READ for that.
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            tables = _tables()
            for table in tables:
                counts[table.name] = connection.scalar(
                    select(func.count()).select_from(table)) or 0
            out.write(_line({"format": FORMAT, "format_version": FORMAT_VERSION,
                             "schema_revision": migrate.current_revision(engine),
                             "created_at": validate.now().isoformat(), "tables": counts}))
            for table in tables:
                digest = hashlib.sha256()
                order = list(table.primary_key.columns) or list(table.columns)
                for row in connection.execute(select(table).order_by(*order)).mappings():
                    line = _line({"t": table.name, "r": {k: _encode(v) for k, v in row.items()}})
                    digest.update(line)
                    out.write(line)
                digests[table.name] = digest.hexdigest()
            out.write(_line({"end": FORMAT, "tables": counts, "sha256": digests}))
            connection.rollback()
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts


def _refuse(number: int | None, reason: str, allowed: str = "an unmodified backup file") -> None:
    where = f"line {number}: " if number is not None else ""
    raise InputError("backup", f"{where}{reason}; nothing was restored", allowed)


def _header(path: Path) -> dict[str, Any]:
    try:
        with gzip.open(path, "rb") as src:
            header = json.loads(src.readline())
    except (OSError, EOFError, ValueError, zlib.error):
        raise InputError("backup", f"{path} is not a backmice backup",
                         "a file written by 'backmice db backup'") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputError("backup", f"{path} is not a backmice backup",
                         "a file written by 'backmice db backup'")
    if header.get("format_version") not in (1, FORMAT_VERSION):
        raise InputError("backup", f"backup format {header.get('format_version')!r} is not "
                         "supported", f"format version 1 or {FORMAT_VERSION}")
    return header


class _Keys:
    """The primary and unique keys read so far, to refuse a duplicate or dangling one by line."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], set[Any]] = {}
        self.targets: dict[tuple[str, str], set[Any]] = {}

    def check(self, table: Table, row: dict[str, Any]) -> str | None:
        for column in table.columns:
            value = row.get(column.name)
            if value is None:
                continue
            for fk in column.foreign_keys:
                target = fk.column
                if value not in self.targets.get((target.table.name, target.name), ()):
                    return (f"{table.name}.{column.name} = {value!r} refers to no "
                            f"{target.table.name} row before it")
        keys = [tuple(c.name for c in table.primary_key.columns)]
        keys += [(c.name,) for c in table.columns if c.unique]
        keys += [tuple(c.name for c in con.columns) for con in table.constraints
                 if con.__class__.__name__ == "UniqueConstraint"]
        for names in dict.fromkeys(keys):
            value = tuple(row.get(n) for n in names)
            seen = self.seen.setdefault((table.name, ",".join(names)), set())
            if value in seen:
                return f"a second {table.name} row with {', '.join(names)} = {value!r}"[:200]
            seen.add(value)
        for column in table.columns:  # what foreign keys point at (single-column keys)
            if column.primary_key or column.unique:
                self.targets.setdefault((table.name, column.name), set()).add(
                    row.get(column.name))
        return None


def restore(engine: Engine, path: Path) -> dict[str, int]:
    """Load a backup into this (migrated, empty) database, all or nothing."""
    header = _header(path)
    revision = migrate.current_revision(engine)
    if header.get("schema_revision") != revision:
        raise InputError("backup", f"the backup has schema {header.get('schema_revision')!r} "
                         f"and this database {revision!r}",
                         "a backup made by the same version of backmice")
    tables = {t.name: t for t in _tables()}
    order = list(tables)
    counts = dict.fromkeys(tables, 0)
    digests = {name: hashlib.sha256() for name in tables}
    keys = _Keys()
    trailer: dict[str, Any] | None = None
    number = 1
    with engine.begin() as connection:
        for table in tables.values():
            if connection.scalar(select(func.count()).select_from(table)):
                raise InputError("database", f"table {table.name} is not empty",
                                 "an empty database (restore never merges or overwrites)")
        batch: list[dict[str, Any]] = []
        current: Table | None = None
        try:
            with gzip.open(path, "rb") as src:
                src.readline()
                for number, line in enumerate(src, start=2):
                    if trailer is not None:
                        _refuse(number, "there is a line after the last line (end)")
                    table, row, trailer = _read_line(line, number, tables, order, current)
                    if trailer is not None:
                        continue
                    problem = keys.check(table, row)
                    if problem:
                        _refuse(number, problem)
                    digests[table.name].update(line)
                    if table is not current or len(batch) >= CHUNK:
                        if batch:
                            connection.execute(insert(current), batch)
                        batch, current = [], table
                    batch.append(_decode(table, row))
                    counts[table.name] += 1
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
            reason = ("the file is cut short" if isinstance(exc, EOFError)
                      else f"the file is damaged ({str(exc)[:80] or exc.__class__.__name__})")
            _refuse(number + 1, reason + " after this line" if number > 1 else reason)
        if batch:
            connection.execute(insert(current), batch)
        _check_totals(header, trailer, counts, digests, number)
        if connection.dialect.name == "postgresql":
            for table in tables.values():
                if "id" in table.columns:  # SERIAL ids continue after the restored ones
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"))
    return counts


def _read_line(line: bytes, number: int, tables: dict[str, Table], order: list[str],
               current: Table | None) -> tuple[Any, Any, dict[str, Any] | None]:
    try:
        item = json.loads(line)
    except ValueError as exc:
        _refuse(number, f"not a JSON line ({str(exc)[:80]})")
    if not isinstance(item, dict):
        _refuse(number, "not a JSON object")
    if "end" in item:
        return None, None, item
    table = tables.get(item.get("t")) if isinstance(item.get("t"), str) else None
    if table is None:
        _refuse(number, f"unknown table {str(item.get('t'))[:60]!r}")
    if current is not None and order.index(table.name) < order.index(current.name):
        _refuse(number, f"table {table.name} comes after {current.name}",
                "tables in the order the backup writes them")
    try:
        restore_check.check_row(table, item.get("r"))
    except InputError as exc:
        _refuse(number, f"{table.name}.{exc.field}: {exc.message}", exc.allowed or "")
    return table, item["r"], None


def _check_totals(header: dict[str, Any], trailer: dict[str, Any] | None,
                  counts: dict[str, int], digests: dict[str, Any], number: int) -> None:
    expected = header.get("tables") if isinstance(header.get("tables"), dict) else {}
    if header.get("format_version") == FORMAT_VERSION:
        if trailer is None:
            _refuse(number, "the file is cut short: its last line (end) is missing")
        written = trailer.get("sha256") if isinstance(trailer.get("sha256"), dict) else {}
        for name, digest in digests.items():
            if written.get(name) != digest.hexdigest():
                _refuse(None, f"table {name} does not match its SHA-256 digest (the file was "
                              "changed after the backup)")
        expected = trailer.get("tables") if isinstance(trailer.get("tables"), dict) else {}
    for name, count in counts.items():
        if expected.get(name) != count:
            _refuse(None, f"table {name} has {count} rows and the backup says "
                          f"{expected.get(name)!r}")
