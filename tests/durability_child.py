"""The child side of test_durability.py: a zygote that forks writers for the test to kill.

Run as ``python tests/durability_child.py URL ACTOR_JSON THREADS``. The zygote imports the
storage code once (about a second of start-up that 30 kills per backend could not afford
each), prints "ready", then obeys its stdin line by line:

  ``run ACK_FILE``  fork a writer (answers ``pid N``);
  ``kill``          SIGKILL that writer, reap it (answers ``exit CODE``; -9 when killed).

The zygote never opens the database and runs one thread, so each forked writer starts cold,
as the app does after a crash: it opens the store (migration check; on SQLite the first
connection recovers the WAL) and then, in THREADS threads, writes one patient's story after
another through the real Store API. Before each call it appends ``> KIND PATIENT`` to
ACK_FILE; only after the call returned (the write is committed: acknowledged) it appends
``+ KIND ROW PATIENT``. Lines are single ``os.write`` calls on an O_APPEND file: the page cache
keeps them when the process is killed, and a line is never torn by another thread.

The documents are deterministic functions of the patient id (``encounter_docs``), so the test
can check that what it reads back is exactly what was written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import threading
import traceback
from typing import Any

from backmice.followup.records import Actor
from backmice.storage import open_store
from backmice.storage.db import make_engine
from backmice.storage.migrate import head_revision
from backmice.storage.visits import EncounterDraft
from backmice.testing import fast_password_hasher

DELETE_EVERY = 5  # every fifth story deletes a patient (see story)
CONDITIONS = ("episacral_lipoma", "lipoma", "epidermoid_cyst", "myofascial_trigger_point",
              "sacroiliac_joint_pain", "lumbar_radiculopathy", "liposarcoma", "abscess")


def days_ago(n: int) -> str:
    return (dt.date.today() - dt.timedelta(days=n)).isoformat()


def encounter_docs(patient_id: int, lesion_ids: list[int]) -> tuple[dict, dict]:
    """The input and the assessment-like result stored with a patient's encounter (~5 KB)."""
    findings = {"age_years": 30 + patient_id % 50, "location": "posterior_superior_iliac_spine",
                "size_cm": 1.5, "tender": True, "mobile": patient_id % 2 == 0}
    lumps = []
    for n, lesion_id in enumerate(lesion_ids):
        differential = [{"id": name, "probability": round(1 / (i + 2 + n), 6),
                         "supporting": [{"finding": "location", "likelihood_ratio": 2.8,
                                         "remark": f"seen in patient {patient_id} " * 3}]}
                        for i, name in enumerate(CONDITIONS)]
        lumps.append({"lump_id": f"L{lesion_id}", "findings": findings,
                      "differential": differential, "triage": {"level": "routine"}})
    input_doc = {"lesion_ids": lesion_ids, "findings": findings}
    result_doc = {"format": "backmice.assessment", "format_version": 1, "patient": patient_id,
                  "lumps": lumps, "notes": ["durability test"], "triage": {"level": "routine"}}
    return input_doc, result_doc


class AckLog:
    """Appends one line per call to the acknowledgement file (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def line(self, text: str) -> None:
        os.write(self._fd, (text + "\n").encode())

    def call(self, kind: str, patient_id: int, write: Any) -> Any:
        """``> kind`` before, then the write, then ``+ kind row patient`` once it returned."""
        self.line(f"> {kind} {patient_id}")
        record = write()
        row = record.id if record is not None else patient_id
        self.line(f"+ {kind} {row} {patient_id or row}")
        return record


def story(store: Any, actor: Actor, log: AckLog, n: int, previous: Any) -> Any:
    """One patient: created, two lesions, an encounter with both, an excision with two
    complications (marks the lesion excised), an outcome. Every fifth story then deletes the
    patient of this thread's story before (a cascade over every table). Never this story's
    own patient: its rows are the newest, and SQLite gives a deleted newest rowid to the next
    insert, which would make the ids in the acknowledgements ambiguous."""
    patient = log.call("patient", 0, lambda: store.patients.create(
        actor, {"display_name": f"Durable {n}", "local_id": f"D-{os.getpid()}-{n}"}))
    pid = patient.id
    lesions = [log.call("lesion", pid, lambda label=label: store.patients.add_lesion(
        actor, pid, {"label": label, "size_cm": 1.5})) for label in ("left PSIS", "right PSIS")]
    lesion_ids = [lesion.id for lesion in lesions]
    input_doc, result_doc = encounter_docs(pid, lesion_ids)
    draft = EncounterDraft(occurred_on=days_ago(30), note="durability", input_doc=input_doc,
                           result_doc=result_doc, kb_version="k", engine_version="e",
                           triage="routine",
                           lesions=tuple((i, f"L{i}", "episacral_lipoma", 0.68, "routine", 1.5)
                                         for i in lesion_ids))
    log.call("encounter", pid, lambda: store.visits.record_encounter(actor, pid, draft))
    log.call("procedure", pid, lambda: store.visits.add_procedure(actor, pid, {
        "lesion_id": lesion_ids[0], "kind": "excision", "performed_on": days_ago(20),
        "complications": [{"kind": "bruising", "noted_on": days_ago(19)},
                          {"kind": "fever", "noted_on": days_ago(18)}]}))
    log.call("outcome", pid, lambda: store.visits.add_outcome(actor, pid, {
        "lesion_id": lesion_ids[0], "measured_on": days_ago(1), "pain": 2, "odi": 12}))
    if previous is not None and n % DELETE_EVERY == 0:
        log.call("delete", previous.id,
                 lambda: store.patients.delete(actor, previous.id, version=previous.version))
    return patient


def writer(url: str, actor: Actor, threads: int, ack_file: str) -> None:
    """The forked writer: open the store, then write stories in every thread until killed."""
    store = open_store(url, password_hasher=fast_password_hasher())
    log = AckLog(ack_file)

    def loop(first: int) -> None:
        try:
            n, previous = first, None
            while True:
                previous = story(store, actor, log, n, previous)
                n += threads
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)  # any failed write fails the test (the zygote reports this exit code)

    pool = [threading.Thread(target=loop, args=(i + 1,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def zygote(url: str, actor: Actor, threads: int) -> None:
    make_engine(url).dispose()  # imports the database driver here, once; connects to nothing
    head_revision()  # reads the migration scripts once, as a server does before its workers
    print("ready", flush=True)
    pid = 0
    for command in sys.stdin:
        verb, _, argument = command.strip().partition(" ")
        if verb == "run":
            pid = os.fork()
            if pid == 0:  # the writer: never returns into this loop
                try:
                    writer(url, actor, threads, argument)
                finally:
                    os._exit(1)
            print(f"pid {pid}", flush=True)
        elif verb == "kill":
            os.kill(pid, signal.SIGKILL)  # our own child, not yet reaped: the pid is still its
            _, status = os.waitpid(pid, 0)
            print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    _url, _actor, _threads = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    zygote(_url, Actor(_actor["user_id"], _actor["username"], _actor["clinic_id"],
                       tuple(_actor["roles"])), _threads)
