"""`make bench` (storage): saving an assessment, serial writer against a naive baseline.

For SQLite (temporary folder) and PostgreSQL (if reachable), with 1 and 32 threads each saving
assessments (a real ~30 KB result document) for a few seconds:
  - the Store as the app uses it (SQLite: one writer thread with group commit);
  - the naive baseline: each thread opens its own write transaction on the same engine.
Prints writes/s and p50/p99 latency per write; the ratio is writer / baseline.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy.orm import Session  # noqa: E402

from backmice.engine import assess_patient  # noqa: E402
from backmice.interop.cases import read_document  # noqa: E402
from backmice.kb.loader import default_kb  # noqa: E402
from backmice.render.json_doc import to_data  # noqa: E402
from backmice.storage import open_store  # noqa: E402
from backmice.storage.tables import SavedAssessmentRow  # noqa: E402

SECONDS = float(os.environ.get("BENCH_STORAGE_SECONDS", "3"))
POSTGRES = os.environ.get("BACKMICE_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _document() -> dict:
    patient, _ = read_document((ROOT / "examples" / "back_mouse.json").read_text())
    return to_data(assess_patient(default_kb(), patient))


def _run(save, threads: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + SECONDS

    def worker() -> None:
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            save()
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / wall, statistics.median(latencies) * 1e3, p99 * 1e3


def _bench(label: str, url: str, doc: dict) -> None:
    store = open_store(url)

    def via_store() -> None:
        store.save_assessment(input_doc={"n": 1}, result_doc=doc, kb_version="bench",
                              engine_version="bench")

    def naive() -> None:  # every caller writes directly: what the writer replaces on SQLite
        with Session(store.engine) as session, session.begin():
            session.add(SavedAssessmentRow(share_id=os.urandom(9).hex(),
                                           created_at=dt.datetime.now(dt.UTC),
                                           kb_version="bench", engine_version="bench",
                                           input_doc={"n": 1}, result_doc=doc))

    try:
        for threads in (1, 32):
            base = _run(naive, threads)
            ours = _run(via_store, threads)
            print(f"{label:<11}{threads:>8}  {'naive (baseline)':<22}{base[0]:>10,.0f}"
                  f"{base[1]:>9.2f}{base[2]:>9.2f}")
            print(f"{'':<11}{'':>8}  {'Store (app write path)':<22}{ours[0]:>10,.0f}"
                  f"{ours[1]:>9.2f}{ours[2]:>9.2f}   x{ours[0] / base[0]:.2f}")
    finally:
        store.close()


def main() -> None:
    doc = _document()
    print(f"\nSaving an assessment ({len(str(doc)) // 1000} KB document), {SECONDS:g} s per row")
    print(f"{'database':<11}{'threads':>8}  {'write path':<22}{'writes/s':>10}{'p50 ms':>9}"
          f"{'p99 ms':>9}")
    with tempfile.TemporaryDirectory() as folder:
        _bench("SQLite", f"sqlite:///{folder}/bench.sqlite3", doc)
    try:
        from sqlalchemy import create_engine, text

        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text("DROP DATABASE IF EXISTS backmice_bench WITH (FORCE)"))
            c.execute(text("CREATE DATABASE backmice_bench"))
    except Exception as exc:
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); skipped")
        return
    from sqlalchemy.engine import make_url

    _bench("PostgreSQL", make_url(POSTGRES).set(database="backmice_bench")
           .render_as_string(hide_password=False), doc)
    with admin.connect() as c:
        c.execute(text("DROP DATABASE IF EXISTS backmice_bench WITH (FORCE)"))
    admin.dispose()


if __name__ == "__main__":
    main()
