"""Durability: writers killed with SIGKILL at random moments lose no acknowledged write, leave
no half-written change, and leave a database that passes its integrity checks.

A zygote process (durability_child.py) forks one writer after another; each opens the store
cold and writes patients' stories (patient, lesions, an encounter with its per-lesion lines and
an assessment-like document, an excision with complications, an outcome; every fifth story
deletes an earlier patient, a cascade) from several threads, so that SQLite's group commit is
exercised. The test SIGKILLs each writer after a seeded random delay (some land while the store
is still opening), KILLS times per backend. Then it reopens the database and checks:

- integrity: SQLite ``PRAGMA integrity_check`` and ``foreign_key_check``; on PostgreSQL the
  ``amcheck`` extension (B-tree indexes against their tables, and the heap), if installed;
- every write acknowledged before a kill is there (rows of deleted patients are gone);
- every change is whole: no orphans, every encounter has exactly its lesion lines and its
  documents intact, every excision its complications and its lesion marked excised, every row
  its audit event and every audit event its row; each patient's story is a prefix (the writer
  waited for each acknowledgement before the next step);
- a store opened afterwards writes and reads again.

On PostgreSQL the writer (the client) is what gets killed; the server keeps running and must
roll the killed client's open transactions back. Killing the server itself is PostgreSQL's own
crash recovery, not tested here. No timing is asserted.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from backmice.storage import open_store
from backmice.storage.tables import (
    AuditEventRow,
    Base,
    ComplicationRow,
    EncounterLesionRow,
    EncounterRow,
    LesionRow,
    OutcomeRow,
    PatientRow,
    ProcedureRow,
)
from backmice.testing import fast_password_hasher, make_user
from durability_child import encounter_docs

KILLS = 30  # per backend
THREADS = 4  # writer threads in each child
LONGEST_LIFE = 0.5  # seconds: each writer is killed after a uniform random delay up to this
SEED = int(os.environ.get("BACKMICE_DURABILITY_SEED", "20261124"))
CHILD = Path(__file__).with_name("durability_child.py")
KINDS = ("patient", "lesion", "encounter", "procedure", "outcome")


# --- the writers and what they acknowledged --------------------------------------------------
class Zygote:
    """The child process that forks the writers (see durability_child.py)."""

    def __init__(self, url: str, actor: Any, folder: Path) -> None:
        self.stderr_path = folder / "child-stderr.log"
        argument = json.dumps({"user_id": actor.user_id, "username": actor.username,
                               "clinic_id": actor.clinic_id, "roles": list(actor.roles)})
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(CHILD), url, argument, str(THREADS)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
                env={**os.environ, "PYTHONPATH": str(CHILD.parent)})
        self.expect("ready")

    def expect(self, word: str) -> str:
        answer = self.process.stdout.readline().strip()
        assert answer.startswith(word), f"child said {answer!r}:\n{self.stderr()}"
        return answer.removeprefix(word).strip()

    def say(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def run(self, ack_file: Path) -> None:
        self.say(f"run {ack_file}")
        self.expect("pid")

    def kill(self) -> int:
        self.say("kill")
        return int(self.expect("exit"))

    def stderr(self) -> str:
        return self.stderr_path.read_text()[-4000:]

    def close(self) -> None:
        self.process.stdin.close()  # the zygote's stdin ends: it exits
        self.process.wait()
        self.process.stdout.close()


@dataclass
class Acks:
    """What the writers said: rows acknowledged ({kind: {row id: patient id}}), deletions."""

    rows: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    deleting: set[int] = field(default_factory=set)  # a delete was started (maybe committed)
    deleted: set[int] = field(default_factory=set)  # a delete was acknowledged
    started: int = 0
    acknowledged: int = 0

    def read(self, path: Path) -> None:
        if not path.exists():  # killed before it wrote anything
            return
        for line in path.read_text().splitlines(keepends=True):
            if not line.endswith("\n"):
                continue  # cut by the kill: not an acknowledgement
            sign, kind, *numbers = line.split()
            if sign == ">":
                self.started += 1
                if kind == "delete":
                    self.deleting.add(int(numbers[0]))
            elif kind == "delete":
                self.acknowledged += 1
                self.deleted.add(int(numbers[0]))
            else:
                self.acknowledged += 1
                self.rows[kind][int(numbers[0])] = int(numbers[1])


def run_and_kill(url: str, actor: Any, folder: Path, rng: random.Random) -> Acks:
    acks = Acks()
    zygote = Zygote(url, actor, folder)
    try:
        for n in range(KILLS):
            ack_file = folder / f"acks-{n}.log"
            zygote.run(ack_file)
            time.sleep(rng.uniform(0, LONGEST_LIFE))
            code = zygote.kill()
            assert code == -signal.SIGKILL, f"writer {n} ended by itself:\n{zygote.stderr()}"
            acks.read(ack_file)
    finally:
        zygote.close()
    return acks


# --- what the database holds afterwards -------------------------------------------------------
@dataclass
class State:
    patients: set[int]
    lesions: dict[int, LesionRow]
    encounters: dict[int, EncounterRow]
    lines: dict[int, set[int]]  # encounter id -> lesion ids of its lines
    procedures: dict[int, ProcedureRow]
    complications: dict[int, int]  # procedure id -> how many
    outcomes: dict[int, OutcomeRow]
    audit: set[tuple[str, str, int | None]]  # (action, target, patient id)

    def rows(self, kind: str) -> dict[int, int]:
        """{row id: patient id} of one kind."""
        if kind == "patient":
            return {p: p for p in self.patients}
        table = {"lesion": self.lesions, "encounter": self.encounters,
                 "procedure": self.procedures, "outcome": self.outcomes}[kind]
        return {i: row.patient_id for i, row in table.items()}


def read_state(store: Any) -> State:
    def work(session: Any) -> State:
        lines: dict[int, set[int]] = defaultdict(set)
        for line in session.scalars(select(EncounterLesionRow)):
            lines[line.encounter_id].add(line.lesion_id)
        complications: dict[int, int] = defaultdict(int)
        for procedure_id in session.scalars(select(ComplicationRow.procedure_id)):
            complications[procedure_id] += 1
        return State(
            patients=set(session.scalars(select(PatientRow.id))),
            lesions={r.id: r for r in session.scalars(select(LesionRow))},
            encounters={r.id: r for r in session.scalars(select(EncounterRow))},
            lines=lines,
            procedures={r.id: r for r in session.scalars(select(ProcedureRow))},
            complications=complications,
            outcomes={r.id: r for r in session.scalars(select(OutcomeRow))},
            audit={(e.action, e.target, e.patient_id)
                   for e in session.scalars(select(AuditEventRow))})

    return store.read(work)


# --- the checks ------------------------------------------------------------------------------
def check_integrity(store: Any) -> str:
    """The database's own checks; answers a note on what was checked."""
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            return "PRAGMA integrity_check and foreign_key_check"
        return amcheck(connection.execution_options(isolation_level="AUTOCOMMIT"))


def amcheck(connection: Any) -> str:
    """PostgreSQL: every B-tree index against its table (heapallindexed), and every table's
    heap and TOAST; skipped, with a note, where the amcheck extension is not installed."""
    try:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
    except DBAPIError as exc:
        return f"amcheck not available ({exc.__class__.__name__}): skipped"
    indexes = connection.execute(text(
        "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE a.amname = 'btree' AND n.nspname = current_schema()")).scalars().all()
    assert indexes
    for index in indexes:  # raises on corruption
        connection.execute(text("SELECT bt_index_check(CAST(:i AS regclass), true)"),
                           {"i": index})
    for table in Base.metadata.sorted_tables:
        problems = connection.execute(text("SELECT * FROM verify_heapam(CAST(:t AS regclass))"),
                                      {"t": table.name}).all()
        assert problems == [], (table.name, problems)
    return f"amcheck: {len(indexes)} B-tree indexes and {len(Base.metadata.sorted_tables)} heaps"


def check_acknowledged(acks: Acks, state: State) -> None:
    """Every acknowledged row is there, unless its patient's delete was started; the rows of
    patients whose delete was acknowledged are all gone."""
    for kind in KINDS:
        present = state.rows(kind)
        for row, patient in acks.rows[kind].items():
            if patient not in acks.deleting:
                assert present.get(row) == patient, f"acknowledged {kind} {row} is missing"
    for patient in acks.deleted:
        for kind in KINDS:
            assert patient not in state.rows(kind).values(), f"deleted patient {patient} left"


def check_references(state: State) -> None:
    """No orphans (the schema's foreign keys, checked by hand on both backends)."""
    for kind in ("lesion", "encounter", "procedure", "outcome"):
        assert set(state.rows(kind).values()) <= state.patients, f"{kind} of no patient"
    assert set(state.lines) <= set(state.encounters)
    assert set().union(*state.lines.values()) <= set(state.lesions)
    assert set(state.complications) <= set(state.procedures)
    lesion_refs = {r.lesion_id for r in [*state.procedures.values(), *state.outcomes.values()]}
    assert lesion_refs <= set(state.lesions)


def check_whole_changes(state: State) -> None:
    """Each transaction all or nothing: an encounter with exactly its lines and documents, an
    excision with its complications and its lesion excised, each row with its audit event."""
    for encounter in state.encounters.values():
        lesion_ids = encounter.input_doc["lesion_ids"]
        assert state.lines[encounter.id] == set(lesion_ids), encounter.id
        assert (encounter.input_doc, encounter.result_doc) == \
            encounter_docs(encounter.patient_id, lesion_ids)
    for procedure in state.procedures.values():
        assert state.complications[procedure.id] == 2, procedure.id
        lesion = state.lesions[procedure.lesion_id]
        assert (lesion.status, lesion.version) == ("excised", 2), procedure.id
    for kind in KINDS:
        for row, patient in state.rows(kind).items():
            assert ("create", f"{kind}:{row}", patient) in state.audit, f"{kind} {row}"
    for action, target, patient in state.audit:
        kind, _, row = target.partition(":")
        if kind not in KINDS:
            continue
        if action == "create" and patient in state.patients:
            assert int(row) in state.rows(kind), f"audited {target} is missing"
        if (action, kind) == ("create", "patient") and patient not in state.patients:
            assert ("delete", target, patient) in state.audit, f"{target} vanished"
        if (action, kind) == ("delete", "patient"):
            assert patient not in state.patients, f"{target} deleted but still there"


def check_story_order(state: State) -> None:
    """A later step of a patient's story exists only if every earlier one does."""
    count: dict[str, dict[int, int]] = {}
    for kind in ("lesion", "encounter", "procedure", "outcome"):
        count[kind] = defaultdict(int)
        for patient in state.rows(kind).values():
            count[kind][patient] += 1
    for patient in state.patients:
        lesions, *later = (count[k][patient] for k in count)
        assert lesions <= 2 and max(later) <= 1, f"patient {patient} has too many rows"
        steps = [lesions >= 1, lesions >= 2, *(n == 1 for n in later)]
        assert steps == sorted(steps, reverse=True), f"patient {patient} skipped a step: {steps}"


def check_writes_again(url: str, actor: Any) -> None:
    with open_store(url, password_hasher=fast_password_hasher()) as store:
        patient = store.patients.create(actor, {"display_name": "After the crashes"})
        store.patients.add_lesion(actor, patient.id, {"label": "A"})
    with open_store(url, password_hasher=fast_password_hasher()) as store:
        assert [x.label for x in store.visits.timeline(actor, patient.id).lesions] == ["A"]


# --- the test --------------------------------------------------------------------------------
def empty_store_with_user(url: str) -> Any:
    """Migrate (once, here), empty the shared PostgreSQL test database, make the clinician."""
    with open_store(url, password_hasher=fast_password_hasher()) as store:
        if store.dialect == "postgresql":
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            with store.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return make_user(store, "durable")


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill(database_url, tmp_path):
    actor = empty_store_with_user(database_url)
    acks = run_and_kill(database_url, actor, tmp_path, random.Random(SEED))
    assert acks.rows["outcome"], "no writer got through a whole story: nothing was tested"
    with open_store(database_url, password_hasher=fast_password_hasher()) as store:
        note = check_integrity(store)
        state = read_state(store)
    check_acknowledged(acks, state)
    check_references(state)
    check_whole_changes(state)
    check_story_order(state)
    check_writes_again(database_url, actor)
    print(f"\n{KILLS} kills (seed {SEED}): {acks.acknowledged} writes acknowledged, "
          f"{acks.started - acks.acknowledged} in flight at a kill, "
          f"{len(state.patients)} patients kept; {note}")
