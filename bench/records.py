"""`make bench` (records): the follow-up record at clinic size, on SQLite and PostgreSQL.

Loads one clinic with PATIENTS patients (1-3 lesions each) and ten encounters per patient, each
encounter with the native patient document of examples/back_mouse.json and the real assessment
the engine gives for it (computed once, ~33 KB), plus per-lesion lines, procedures with some
complications, and outcomes. The load is a bulk load, not the Store API: SQLAlchemy Core,
executemany for the small tables and INSERT ... SELECT copying one seed encounter for the rest,
in a few big transactions (SQLite with a rollback journal and synchronous=OFF during the load
only). Then, through the real Store:

  - p50 / p95 of the patient list (``store.patients.search``): the first page of 50, and a name
    search; and of a patient's timeline (``store.visits.timeline``, ~10 encounters); then the
    first page and the timeline again from READ_THREADS threads at once (calls/s, p50, p95);
  - p50 / p95 of the two pages as rendered HTML, through the whole app in-process (the first
    page of /patients, and /patients/{id} with its timeline, alerts and charts);
  - writes/s and p50 / p95 of ``store.visits.record_encounter`` (an encounter with its findings
    and assessment snapshot) with 1 and WRITE_THREADS threads;

next to baselines measured in the same run: ``SELECT 1`` through ``store.read`` and a patient
fetched by primary key.

Then the cost of a visit as the record grows (``growth``): recording a visit through the whole
app in-process (``POST /api/v1/patients/{id}/encounters``, the back-mouse example's findings,
engine and storage included) for a patient with no earlier visit and for one with
GROWTH_VISITS earlier visits (bulk-copied from a real one), alternating, GROWTH_SAMPLES each;
and the timeline page of each. The aim: the visit at 1,000 earlier visits costs at most 1.2
times the visit at 0 (p50 / p50). ``BENCH_RECORDS_ONLY=growth`` runs this part alone.

Timings are printed, never asserted; the goal is a p95 under 100 ms for both pages.
PostgreSQL runs in a throwaway database (created and dropped here), or is skipped
with a message when the server is not reachable.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import Connection, create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from backmice.kb.loader import default_kb  # noqa: E402
from backmice.storage import Store, open_store  # noqa: E402
from backmice.storage.db import make_engine  # noqa: E402
from backmice.storage.tables import (  # noqa: E402
    ComplicationRow,
    EncounterRow,
    LesionRow,
    OutcomeRow,
    PatientRow,
    ProcedureRow,
)
from backmice.storage.visits import EncounterDraft  # noqa: E402
from backmice.testing import fast_password_hasher, make_user  # noqa: E402
from backmice.web.assessing import assess_text  # noqa: E402

PATIENTS = int(os.environ.get("BENCH_RECORDS_PATIENTS", "10000"))
VISITS = 10  # encounters per patient
SAMPLES = int(os.environ.get("BENCH_RECORDS_SAMPLES", "300"))  # calls per read measurement
SECONDS = float(os.environ.get("BENCH_RECORDS_SECONDS", "3"))  # per write measurement
WRITE_THREADS = 16
GROWTH_VISITS = int(os.environ.get("BENCH_RECORDS_GROWTH_VISITS", "1000"))
GROWTH_SAMPLES = int(os.environ.get("BENCH_RECORDS_GROWTH_SAMPLES", "150"))
ONLY = os.environ.get("BENCH_RECORDS_ONLY", "")
READ_THREADS = 8  # the pages again, as several users at once
POSTGRES = os.environ.get("BACKMICE_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GIVEN = ("Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas",
         "Karin", "Luca", "Maja", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Yusuf")
FAMILY = ("Müller", "Schmidt", "Novak", "García", "Rossi", "Jansen", "Kowalski", "Dubois",
          "Nielsen", "Popescu", "Horvat", "Silva", "Smith", "Weber", "Özdemir", "Keller",
          "Larsen", "Moreau", "Fischer", "Wagner", "Bauer", "Richter", "Klein", "Wolf")


# --- the documents stored with each encounter ------------------------------------------------
def documents() -> tuple[dict, dict]:
    """The native patient document of the example and its real assessment (computed once)."""
    text_ = (ROOT / "examples" / "back_mouse.json").read_text()
    return json.loads(text_), assess_text(default_kb(), text_).document


def draft(input_doc: dict, result_doc: dict, lesion_ids: list[int]) -> EncounterDraft:
    top = result_doc["lumps"][0]["differential"][0]
    triage = result_doc["triage"]["level"] if isinstance(result_doc["triage"], dict) \
        else str(result_doc["triage"])
    return EncounterDraft(
        occurred_on=dt.date.today(), note="follow-up visit", input_doc=input_doc,
        result_doc=result_doc, kb_version=result_doc["kb_version"],
        engine_version=result_doc["engine_version"], triage=triage[:20],
        lesions=tuple((i, f"L{i}", top["id"], top["probability"], triage[:20], 1.5)
                      for i in lesion_ids))


# --- the bulk load ---------------------------------------------------------------------------
def _patients(clinic_id: int, rng: random.Random) -> list[dict]:
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n in range(PATIENTS):
        name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
        created = now - dt.timedelta(days=rng.uniform(400, 1500))
        rows.append({"clinic_id": clinic_id, "display_name": name, "search_name": name.casefold(),
                     "local_id": f"MRN-{n:06d}", "sex": rng.choice(("female", "male")),
                     "birth_date": dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25000)),
                     "notes": None, "created_at": created, "version": 1,
                     "updated_at": now - dt.timedelta(days=rng.uniform(0, 400))})
    return rows


def _lesions(patient_ids: list[int], rng: random.Random) -> list[dict]:
    now = dt.datetime.now(dt.UTC)
    sides = ("left", "right")
    return [{"patient_id": p, "label": f"{sides[k % 2]} PSIS {k + 1}", "region":
             "posterior_superior_iliac_spine", "side": sides[k % 2], "x": 0.4 + 0.2 * (k % 2),
             "y": 0.5, "status": "active", "nodule_count": 1, "first_size_cm": 1.5,
             "created_at": now, "updated_at": now, "version": 1}
            for p in patient_ids for k in range(rng.randint(1, 3))]


def _encounters(connection: Connection, input_doc: dict, result_doc: dict) -> None:
    """VISITS rounds of visits, one encounter per patient each, so that a patient's encounters
    are spread over the table as in life. The documents go in once, into a seed row that the
    rounds copy (PostgreSQL then copies the compressed value instead of compressing the same
    document 100,000 times); the seed is deleted afterwards."""
    sqlite = connection.dialect.name == "sqlite"
    seed = connection.execute(insert(EncounterRow).values(
        patient_id=connection.scalar(select(PatientRow.id).limit(1)), occurred_on=dt.date.today(),
        created_at=dt.datetime.now(dt.UTC), created_by="bench", note="follow-up visit",
        input_doc=input_doc, result_doc=result_doc, kb_version=result_doc["kb_version"],
        engine_version=result_doc["engine_version"], triage="routine")).inserted_primary_key[0]
    age = "(:round * 100 + p.id % 97)"  # days ago
    day = f"date('now', '-' || {age} || ' days')" if sqlite else f"current_date - {age}"
    copy = text(
        "INSERT INTO encounter (patient_id, occurred_on, created_at, created_by, note, "
        "input_doc, result_doc, kb_version, engine_version, triage) "
        f"SELECT p.id, {day}, s.created_at, s.created_by, s.note, s.input_doc, s.result_doc, "
        "s.kb_version, s.engine_version, s.triage FROM patient p, encounter s "
        "WHERE s.id = :seed ORDER BY p.id")
    for visit in range(VISITS):
        connection.execute(copy, {"round": VISITS - visit, "seed": seed})
    connection.execute(text("DELETE FROM encounter WHERE id = :seed"), {"seed": seed})
    connection.execute(text(
        "INSERT INTO encounter_lesion (encounter_id, lesion_id, lump_key, top_condition, "
        "top_probability, triage, size_cm) SELECT e.id, l.id, 'L' || CAST(l.id AS TEXT), "
        "'episacral_lipoma', 0.68, 'routine', 1.5 FROM encounter e "
        "JOIN lesion l ON l.patient_id = e.patient_id"))


def _procedures_and_outcomes(connection: Connection, lesions: dict[int, list[int]],
                             rng: random.Random) -> None:
    now = dt.datetime.now(dt.UTC)
    today = dt.date.today()
    procedures, outcomes = [], []
    for patient, lesion_ids in lesions.items():
        if rng.random() < 0.4:
            procedures.append({"patient_id": patient, "lesion_id": lesion_ids[0],
                               "kind": "diagnostic_injection", "pain_before": 8,
                               "pain_after": 2, "minutes_after": 15,
                               "performed_on": today - dt.timedelta(days=rng.randrange(30, 900)),
                               "created_at": now, "created_by": "bench", "version": 1})
        for k in range(2):
            outcomes.append({"patient_id": patient, "lesion_id": lesion_ids[0],
                             "measured_on": today - dt.timedelta(days=30 + 300 * k),
                             "pain": 7 - 5 * k, "odi": 40 - 25 * k, "created_at": now,
                             "created_by": "bench"})
    connection.execute(insert(ProcedureRow), procedures)
    connection.execute(insert(OutcomeRow), outcomes)
    procedure_ids = list(connection.scalars(select(ProcedureRow.id)))
    connection.execute(insert(ComplicationRow), [
        {"procedure_id": i, "kind": "bruising", "created_at": now,
         "noted_on": today - dt.timedelta(days=20)} for i in procedure_ids[::5]])


def load(url: str, clinic_id: int, docs: tuple[dict, dict]) -> str:
    """Bulk-load the clinic; answers a line saying what was loaded, and how fast."""
    started = time.perf_counter()
    rng = random.Random(7)
    sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = create_engine(url) if sqlite else make_engine(url)
    with engine.connect() as connection:
        if sqlite:  # the load only: the store's own settings come back when it is reopened
            connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
        connection.execute(insert(PatientRow), _patients(clinic_id, rng))
        patient_ids = list(connection.scalars(select(PatientRow.id)))
        connection.execute(insert(LesionRow), _lesions(patient_ids, rng))
        connection.commit()
        _encounters(connection, *docs)
        connection.commit()
        lesions: dict[int, list[int]] = defaultdict(list)
        for lesion_id, patient in connection.execute(select(LesionRow.id, LesionRow.patient_id)):
            lesions[patient].append(lesion_id)
        _procedures_and_outcomes(connection, lesions, rng)
        connection.commit()
        if not sqlite:
            connection.exec_driver_sql("ANALYZE")  # what autovacuum does after a bulk load
            connection.commit()
        counts = {table: connection.scalar(text(f"SELECT count(*) FROM {table}"))
                  for table in ("patient", "lesion", "encounter", "encounter_lesion",
                                "procedure", "outcome")}
    engine.dispose()
    seconds = time.perf_counter() - started
    return (f"bulk-loaded in {seconds:.0f} s: "
            + ", ".join(f"{n:,} {table}" for table, n in counts.items()))


# --- the measurements ------------------------------------------------------------------------
def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1e3, p95 * 1e3


def timed(call: Callable[[], Any], samples: int = SAMPLES) -> tuple[float, float]:
    for _ in range(min(20, samples)):  # warm the caches and the connection pool
        call()
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return percentiles(latencies)


def in_threads(call: Callable[[random.Random], Any], threads: int) -> tuple[float, float, float]:
    """Calls/s, p50 and p95 (ms) of ``call`` made in a loop by ``threads`` threads at once."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + SECONDS

    def worker(seed: int) -> None:
        rng, mine = random.Random(seed), []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            call(rng)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), *percentiles(latencies)


def measure(store: Store, actor: Any, docs: tuple[dict, dict]) -> list[tuple[str, str, float,
                                                                               float]]:
    """Rows of (what, calls/s, p50 ms, p95 ms): baselines, the two pages, the write."""
    lesions: dict[int, list[int]] = defaultdict(list)
    for lesion_id, patient in store.read(lambda s: s.execute(
            select(LesionRow.id, LesionRow.patient_id)).all()):
        lesions[patient].append(lesion_id)
    patients = sorted(lesions)
    rng = random.Random(11)

    def page(r: random.Random) -> None:
        store.patients.search(actor)

    def timeline(r: random.Random) -> None:
        store.visits.timeline(actor, r.choice(patients))

    def record(r: random.Random) -> None:
        patient = r.choice(patients)
        store.visits.record_encounter(actor, patient, draft(*docs, lesions[patient]))

    rows = [
        ("baseline: SELECT 1 via store.read", "",
         *timed(lambda: store.read(lambda s: s.execute(text("SELECT 1")).scalar()))),
        ("baseline: a patient by primary key", "",
         *timed(lambda: store.patients.get(actor, rng.choice(patients), audited=False))),
        ("patient list, first page of 50", "", *timed(lambda: page(rng))),
        ("patient list, name search", "",
         *timed(lambda: store.patients.search(actor, text=rng.choice(FAMILY)[:4]))),
        (f"timeline (~{VISITS} encounters)", "", *timed(lambda: timeline(rng))),
        *pages(store, actor, patients, rng),
    ]
    for what, call in (("patient list", page), ("timeline", timeline)):
        rate, p50, p95 = in_threads(call, READ_THREADS)
        rows.append((f"{what}, {READ_THREADS} threads at once", f"{rate:,.0f}/s", p50, p95))
    for threads in (1, WRITE_THREADS):
        rate, p50, p95 = in_threads(record, threads)
        rows.append((f"record_encounter, {threads} thread{'s' * (threads > 1)}",
                     f"{rate:,.0f}/s", p50, p95))
    return rows


def pages(store: Store, actor: Any, patients: list[int],
          rng: random.Random) -> list[tuple[str, str, float, float]]:
    """The two pages as a browser gets them: the whole app in-process (routing, login by
    token, storage, audit, Jinja2 rendering, charts), through Starlette's TestClient."""
    from fastapi.testclient import TestClient

    from backmice.config import Settings
    from backmice.web.app import create_app

    secret, _ = store.accounts.create_token(user_id=actor.user_id, name="bench")
    app = create_app(Settings.load(database_url="sqlite://"), store=store)
    headers = {"authorization": f"Bearer {secret}", "accept": "text/html"}

    def get(client: TestClient, path: str) -> None:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)

    with TestClient(app, headers=headers) as web:
        return [
            ("page /patients (rendered HTML)", "", *timed(lambda: get(web, "/patients"))),
            ("page /patients/{id} (rendered HTML)", "",
             *timed(lambda: get(web, f"/patients/{rng.choice(patients)}"))),
        ]


# --- the cost of a visit as the record grows -----------------------------------------------
def _copy_visits(store: Store, patient_id: int, count: int) -> None:
    """``count`` more visits of the patient, copies of its first (documents and lesion line)."""
    sqlite = store.dialect == "sqlite"
    numbers = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
               "SELECT i FROM n") if sqlite else "SELECT generate_series(1, :count) AS i"
    day = "date(e.occurred_on, '-' || n.i || ' days')" if sqlite else "e.occurred_on - n.i"
    with store.engine.begin() as connection:
        first = connection.scalar(text("SELECT min(id) FROM encounter WHERE patient_id = :p"),
                                  {"p": patient_id})
        connection.execute(text(
            "INSERT INTO encounter (patient_id, occurred_on, created_at, created_by, note, "
            "input_doc, result_doc, kb_version, engine_version, triage) "
            f"SELECT e.patient_id, {day}, e.created_at, e.created_by, e.note, e.input_doc, "
            f"e.result_doc, e.kb_version, e.engine_version, e.triage FROM encounter e, "
            f"({numbers}) n WHERE e.id = :first"), {"first": first, "count": count})
        connection.execute(text(
            "INSERT INTO encounter_lesion (encounter_id, lesion_id, lump_key, top_condition, "
            "top_probability, triage, size_cm) SELECT e.id, l.lesion_id, l.lump_key, "
            "l.top_condition, l.top_probability, l.triage, l.size_cm FROM encounter e, "
            "encounter_lesion l WHERE e.patient_id = :p AND e.id <> :first "
            "AND l.encounter_id = :first"), {"p": patient_id, "first": first})


def growth(label: str, url: str) -> None:
    """p50 / p95 of recording a visit (and of the timeline) at 0 and GROWTH_VISITS earlier
    visits, through the whole app in-process; prints the ratio against the aim of 1.2."""
    from fastapi.testclient import TestClient

    from backmice.config import Settings
    from backmice.web.app import create_app

    example = json.loads((ROOT / "examples" / "back_mouse.json").read_text())
    findings = example["findings"]
    with open_store(url, password_hasher=fast_password_hasher()) as store:
        user = store.accounts.create_user(username="growth", password="growth password 1",
                                          roles=["clinician"], clinic="Growth clinic")
        secret, _ = store.accounts.create_token(user_id=user.id, name="bench")
        app = create_app(Settings.load(database_url="sqlite://"), store=store)
        with TestClient(app, headers={"authorization": f"Bearer {secret}"}) as web:
            def patient() -> tuple[int, int]:
                pid = web.post("/api/v1/patients", json={"display_name": "Growth"}).json()["id"]
                lid = web.post(f"/api/v1/patients/{pid}/lesions",
                               json={"label": "A", "size_cm": 1.5}).json()["id"]
                return pid, lid

            def visit(pid: int, lid: int) -> float:
                start = time.perf_counter()
                answer = web.post(f"/api/v1/patients/{pid}/encounters", json={
                    "occurred_on": dt.date.today().isoformat(),
                    "lumps": [{"lesion_id": lid, "findings": findings}]})
                elapsed = time.perf_counter() - start
                assert answer.status_code == 201, answer.text[:300]
                return elapsed

            old = patient()
            visit(*old)
            _copy_visits(store, old[0], GROWTH_VISITS - 1)
            fresh = [patient() for _ in range(GROWTH_SAMPLES)]
            at_zero, at_many = [], []
            for i in range(GROWTH_SAMPLES):  # alternating, so both see the same machine
                at_zero.append(visit(*fresh[i]))
                at_many.append(visit(*old))
            zero, many = percentiles(at_zero), percentiles(at_many)
            pages = [timed(lambda p=p: web.get(f"/api/v1/patients/{p}/timeline"), 50)
                     for p in (fresh[0][0], old[0])]
    print(f"{label:<11}{'record a visit, 0 earlier visits':<38}{'':>9}{zero[0]:>9.2f}"
          f"{zero[1]:>9.2f}")
    print(f"{'':<11}{f'record a visit, {GROWTH_VISITS:,} earlier visits':<38}{'':>9}"
          f"{many[0]:>9.2f}{many[1]:>9.2f}{many[0] / zero[0]:>10.2f}x (aim <= 1.2x)")
    print(f"{'':<11}{'timeline page, 1 visit':<38}{'':>9}{pages[0][0]:>9.2f}{pages[0][1]:>9.2f}")
    print(f"{'':<11}{f'timeline page, {GROWTH_VISITS:,} visits':<38}{'':>9}{pages[1][0]:>9.2f}"
          f"{pages[1][1]:>9.2f}{pages[1][0] / pages[0][0]:>10.2f}x", flush=True)


# --- the two databases -----------------------------------------------------------------------
def bench(label: str, url: str, docs: tuple[dict, dict]) -> None:
    if ONLY == "growth":
        growth(label, url)
        return
    with open_store(url, password_hasher=fast_password_hasher()) as store:
        actor = make_user(store, "bench")
    print(f"{label}: {load(url, actor.clinic_id, docs)}", flush=True)
    with open_store(url, password_hasher=fast_password_hasher()) as store:
        rows = measure(store, actor, docs)
    base = rows[0][2]
    for what, rate, p50, p95 in rows:
        print(f"{label:<11}{what:<38}{rate:>9}{p50:>9.2f}{p95:>9.2f}{p50 / base:>11.0f}")
        label = ""
    growth("", url)


def postgres_database() -> tuple[Any, str] | None:
    """A throwaway database on the server (admin engine, URL), or None if unreachable."""
    name = f"backmice_bench_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        print(f"PostgreSQL not reachable at {POSTGRES} ({exc.__class__.__name__}): skipped")
        return None
    return admin, make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    docs = documents()
    print(f"\nThe follow-up record: {PATIENTS:,} patients, {PATIENTS * VISITS:,} encounters "
          f"(result document {len(json.dumps(docs[1])) // 1000} KB); {SAMPLES} calls per page, "
          f"{SECONDS:g} s per row with threads")
    print(f"{'database':<11}{'measure':<38}{'calls':>9}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p50 / base':>11}")
    with tempfile.TemporaryDirectory() as folder:
        bench("SQLite", f"sqlite:///{folder}/records.sqlite3", docs)
    found = postgres_database()
    if found is None:
        return
    admin, url = found
    try:
        bench("PostgreSQL", url, docs)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" '
                                    "WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
