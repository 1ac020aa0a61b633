"""Nothing storage cannot read back is written, backup never stops on a stored row, and restore
checks every row with the API's rules, each table's digest and the file's integrity, naming the
line and the reason, and leaves the target empty when it refuses (SQLite and PostgreSQL)."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import func, select, text

from backmice.errors import InputError
from backmice.storage import open_store
from backmice.storage.backup import backup, restore
from backmice.storage.tables import Base
from backmice.testing import fast_password_hasher
from test_cli_admin import _fill


@pytest.fixture
def target(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'target.sqlite3'}",
                    password_hasher=fast_password_hasher()) as t:
        yield t


def _rows(store) -> int:
    with store.engine.connect() as c:
        return sum(c.scalar(select(func.count()).select_from(t)) or 0
                   for t in Base.metadata.sorted_tables)


def _lines(path):
    return gzip.decompress(path.read_bytes()).decode().splitlines()


def _write(path, lines):
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


@pytest.mark.parametrize("doc", [{"id": "\ud800"}, {"zzz": float("nan")},
                                 {"a": [float("inf")]}, {"t": "a\x00b"}, {"n": 2**60}])
def test_a_document_outside_the_rules_is_never_written(store, doc):
    with pytest.raises(InputError):
        store.save_assessment(input_doc=doc, result_doc={}, kb_version="k", engine_version="e")
    assert _rows(store) == 0


def test_backup_writes_a_legacy_row_and_restore_names_its_line(store, tmp_path, target):
    """A row stored before the rules (a lone surrogate, NaN) does not stop the backup; restore
    refuses it by line and reason, and the target stays empty."""
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL itself refuses to store a lone surrogate or NaN in JSONB")
    _fill(store)
    bad = {"id": "\ud800", "x": float("nan")}
    with store.engine.begin() as c:  # as an older version stored it, past today's serializer
        c.execute(text("INSERT INTO saved_assessment (share_id, created_at, kb_version, "
                       "engine_version, input_doc, result_doc) VALUES "
                       "('legacy', CURRENT_TIMESTAMP, 'k', 'e', :doc, :doc)"),
                  {"doc": json.dumps(bad)})
    path = tmp_path / "b.jsonl.gz"
    assert backup(store.engine, path)["saved_assessment"] == 2
    assert not (tmp_path / "b.jsonl.gz.partial").exists()
    with pytest.raises(InputError, match=r"line \d+: saved_assessment.input_doc"):
        restore(target.engine, path)
    assert _rows(target) == 0


@pytest.mark.parametrize(("edit", "reason"), [
    (lambda r: r.update(pain=99), r"outcome.pain: 99 is out of range"),
    (lambda r: r.update(odi=float("nan")), r"outcome.odi: nan is out of range"),
    (lambda r: r.update(notes="a\u0000b"), r"outcome.notes: contains a NUL character"),
    (lambda r: r.update(measured_on="1850-01-01"), r"outcome.measured_on: 1850-01-01"),
    (lambda r: r.update(patient_id=999), r"outcome.patient_id = 999 refers to no patient"),
    (lambda r: r.update(extra=1), r"outcome.extra: is not a column"),
])
def test_restore_checks_every_row_with_the_api_rules(store, tmp_path, target, edit, reason):
    _fill(store)
    path = tmp_path / "b.jsonl.gz"
    backup(store.engine, path)
    lines = _lines(path)
    number = next(i for i, line in enumerate(lines) if '"t": "outcome"' in line)
    item = json.loads(lines[number])
    edit(item["r"])
    lines[number] = json.dumps(item, ensure_ascii=False)
    edited = tmp_path / "edited.jsonl.gz"
    _write(edited, lines)
    with pytest.raises(InputError, match=rf"line {number + 1}: {reason}"):
        restore(target.engine, edited)
    assert _rows(target) == 0


@pytest.mark.parametrize(("table", "edit", "reason"), [
    ("referral", lambda r: r.update(triage="routine"), r"referral.triage: unknown value"),
    ("referral", lambda r: r.update(due_on="1999-01-01"), r"referral.due_on: is before"),
    ("alert_review", lambda r: r.update(alert_key="x:1"), r"alert_review.alert_key: 'x:1'"),
    ("record_correction", lambda r: r.update(reason=" "), r"record_correction.reason: is empty"),
    ("record_correction", lambda r: r.update(action="undo"), r"record_correction.action"),
    ("outcome", lambda r: r.update(version=0), r"outcome.version: 0 is out of range"),
])
def test_restore_checks_the_rules_of_alerts_referrals_and_corrections(store, tmp_path, target,
                                                                      table, edit, reason):
    _fill(store)
    path = tmp_path / "b.jsonl.gz"
    backup(store.engine, path)
    lines = _lines(path)
    number = next(i for i, line in enumerate(lines) if f'"t": "{table}"' in line)
    item = json.loads(lines[number])
    edit(item["r"])
    lines[number] = json.dumps(item, ensure_ascii=False)
    edited = tmp_path / "edited.jsonl.gz"
    _write(edited, lines)
    with pytest.raises(InputError, match=rf"line {number + 1}: {reason}"):
        restore(target.engine, edited)
    assert _rows(target) == 0


def test_restore_refuses_a_changed_duplicated_cut_or_damaged_file(store, tmp_path, target):
    _fill(store)
    path = tmp_path / "b.jsonl.gz"
    backup(store.engine, path)
    lines = _lines(path)
    patient = next(i for i, line in enumerate(lines) if '"t": "patient"' in line)

    changed = list(lines)  # a valid value, but not the one backed up: the digest tells
    changed[patient] = changed[patient].replace("Zoë", "Zoe")
    _write(tmp_path / "changed.gz", changed)
    with pytest.raises(InputError, match="table patient does not match its SHA-256 digest"):
        restore(target.engine, tmp_path / "changed.gz")

    _write(tmp_path / "twice.gz", [*lines[:patient + 1], lines[patient], *lines[patient + 1:]])
    with pytest.raises(InputError, match=rf"line {patient + 2}: a second patient row"):
        restore(target.engine, tmp_path / "twice.gz")

    _write(tmp_path / "cut.gz", lines[:-1])
    with pytest.raises(InputError, match="cut short: its last line"):
        restore(target.engine, tmp_path / "cut.gz")

    data = path.read_bytes()
    (tmp_path / "short.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut short"):
        restore(target.engine, tmp_path / "short.gz")

    crc = bytearray(data)
    crc[-8] ^= 0xFF  # the gzip trailer's CRC-32
    (tmp_path / "crc.gz").write_bytes(bytes(crc))
    with pytest.raises(InputError, match="damaged"):
        restore(target.engine, tmp_path / "crc.gz")
    assert _rows(target) == 0
    assert restore(target.engine, path)["patient"] == 1  # the good file still restores

