"""Cost that does not grow with the record (issue 12): recording a visit reads no earlier
visit, and the timeline reads one page of visits (without their documents) plus one small
summary line per visit and lesion (SQLite and PostgreSQL). Checked by the statements sent to
the database, never by timing."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import event


class Statements:
    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self.seen

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._note)

    def _note(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append(" ".join(statement.split()).lower())


def _reads_encounters(statements):
    return [s for s in statements if s.startswith("select") and
            re.search(r"\bfrom encounter\b|\bjoin encounter\b|\bencounter\.", s)]


def _patient_with_visits(api, visits: int):
    patient = api.post("/api/v1/patients", json={"display_name": "Many Visits"}).json()
    lesion = api.post(f"/api/v1/patients/{patient['id']}/lesions",
                      json={"label": "A", "size_cm": 2}).json()
    for i in range(visits):
        day = (dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat()
        made = api.post(f"/api/v1/patients/{patient['id']}/encounters", json={
            "occurred_on": day, "lumps": [{"lesion_id": lesion["id"],
                                           "findings": {"size_cm": 2 + i / 10}}]})
        assert made.status_code == 201, made.text
    return patient["id"], lesion["id"]


def test_recording_a_visit_reads_no_earlier_visit(bearer, store):
    api = bearer("clinician")
    pid, lid = _patient_with_visits(api, 3)
    with Statements(store.engine) as seen:
        made = api.post(f"/api/v1/patients/{pid}/encounters", json={
            "occurred_on": "2024-02-01", "lumps": [{"lesion_id": lid, "findings": {}}]})
    assert made.status_code == 201
    assert any(s.startswith("insert into encounter ") for s in seen)
    assert _reads_encounters(seen) == []


def test_the_timeline_pages_visits_and_summarises_the_rest(bearer, store):
    api = bearer("clinician")
    pid, _ = _patient_with_visits(api, 25)
    with Statements(store.engine) as seen:
        first = api.get(f"/api/v1/patients/{pid}/timeline").json()
    assert first["encounters_total"] == 25 and len(first["encounters"]) == 20
    days = [e["occurred_on"] for e in first["encounters"]]
    assert days == sorted(days) and days[-1] == "2024-01-25"  # the newest page, oldest first
    assert first["lesions"][0]["latest"]["occurred_on"] == "2024-01-25"
    assert not any("input_doc" in s or "result_doc" in s for s in seen)
    older = api.get(f"/api/v1/patients/{pid}/timeline?encounter_offset=20").json()
    assert [e["occurred_on"] for e in older["encounters"]] == [
        f"2024-01-0{d}" for d in range(1, 6)]
    page = api.get(f"/patients/{pid}", headers={"accept": "text/html"})
    assert "20 of 25 visits shown" in page.text and "?visits=20" in page.text
    whole = api.get(f"/api/v1/patients/{pid}/export").json()
    assert len(whole["encounters"]) == 25 and "assessment" in whole["encounters"][0]
