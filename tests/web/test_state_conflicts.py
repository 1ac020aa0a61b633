"""A well-formed request that what is stored refuses is answered 409, not 422.

422 says the request itself is wrong, whatever is stored; 409 says it conflicts with the
record: a lesion that is not this patient's, a complication dated before its procedure, a
histopathology result for a procedure that is not an excision, a change that leaves a patient
without a name or local identifier, the last admin. Each answer names the field and what is
allowed given the record, writes nothing, and is documented in the OpenAPI document; the record
pages answer their forms with the same status and show the message at the field. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re

from backmice.findings import HISTOPATHOLOGY
from backmice.web.openapi import CONFLICTS

TODAY = dt.date.today()


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def _record(c):
    """A patient (display name only) with a lesion, an excision and a procedure done on no
    lesion; another patient with a lesion of their own."""
    pid = c.post("/api/v1/patients", json={"display_name": "Ana Conflict"}).json()["id"]
    lesion = c.post(f"/api/v1/patients/{pid}/lesions", json={"label": "left"}).json()["id"]
    other = c.post("/api/v1/patients", json={"display_name": "Ben Other"}).json()["id"]
    foreign = c.post(f"/api/v1/patients/{other}/lesions", json={"label": "his"}).json()["id"]
    excision = c.post(f"/api/v1/patients/{pid}/procedures", json={
        "kind": "excision", "lesion_id": lesion, "performed_on": ago(10)}).json()
    needling = c.post(f"/api/v1/patients/{pid}/procedures", json={
        "kind": "dry_needling", "performed_on": ago(5)}).json()
    return pid, lesion, foreign, excision, needling


def _counts(c, pid):
    t = c.get(f"/api/v1/patients/{pid}/timeline").json()
    return (t["encounters_total"], len(t["procedures"]), len(t["outcomes"]),
            sum(len(p["complications"]) for p in t["procedures"]),
            [p["version"] for p in t["procedures"]], t["patient"]["version"])


def test_a_request_the_record_refuses_is_409_naming_the_field(login_as):
    c = login_as("clinician")
    pid, lesion, foreign, excision, needling = _record(c)
    before = _counts(c, pid)
    refused = [
        ("post", f"/api/v1/patients/{pid}/encounters",
         {"occurred_on": ago(1), "lumps": [{"lesion_id": foreign}]}, "lumps.0.lesion_id",
         str(lesion)),
        ("post", f"/api/v1/patients/{pid}/procedures",
         {"kind": "excision", "lesion_id": foreign, "performed_on": ago(1)}, "lesion_id",
         str(lesion)),
        ("post", f"/api/v1/patients/{pid}/outcomes",
         {"lesion_id": foreign, "pain": 2, "measured_on": ago(1)}, "lesion_id", str(lesion)),
        ("post", f"/api/v1/procedures/{excision['id']}/complications",
         {"kind": "fever", "noted_on": ago(11)}, "noted_on", excision["performed_on"]),
        ("patch", f"/api/v1/procedures/{needling['id']}",
         {"version": needling["version"], "histopathology": HISTOPATHOLOGY[0]},
         "histopathology", "excision"),
        ("patch", f"/api/v1/patients/{pid}", {"version": before[-1], "display_name": None},
         "display_name", "local identifier"),
    ]
    for method, path, body, field, allowed_part in refused:
        answer = c.request(method, path, json=body)
        assert answer.status_code == 409, (path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "conflicts_with_record"
        assert error["field"] == field, (path, error)
        assert allowed_part in error["allowed"], (path, error)
    assert _counts(c, pid) == before  # nothing written
    # The same fields wrong in the request itself stay 422: no record makes them right.
    both_blank = c.patch(f"/api/v1/patients/{pid}", json={
        "version": before[-1], "display_name": None, "local_id": None})
    assert both_blank.status_code == 422 and both_blank.json()["error"]["field"] == \
        "display_name"
    early = c.post(f"/api/v1/procedures/{excision['id']}/complications",
                   json={"kind": "fever", "noted_on": "1899-12-31"})
    assert early.status_code == 422 and early.json()["error"]["field"] == "noted_on"
    # Against a record that allows it, the same kind of request is accepted.
    assert c.post(f"/api/v1/procedures/{excision['id']}/complications",
                  json={"kind": "fever", "noted_on": ago(9)}).status_code == 201
    assert c.post(f"/api/v1/patients/{pid}/outcomes", json={
        "lesion_id": lesion, "pain": 2, "measured_on": ago(1)}).status_code == 201


def test_every_conflict_is_documented_with_the_error_shape(client):
    doc = client.get("/api/v1/openapi.json").json()
    for operation, why in CONFLICTS.items():
        method, path = operation.split(" ", 1)
        answer = doc["paths"][path][method.lower()]["responses"]["409"]
        assert why in answer["description"]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"}


def _error_field(html: str) -> str:
    return re.search(r'role="alert"[^>]*data-error-field="([^"]*)"', html).group(1)


def test_the_forms_answer_the_same_conflicts_at_the_field(login_as):
    c = login_as("clinician")
    pid, _lesion, _foreign, excision, needling = _record(c)
    before = _counts(c, pid)
    csrf = c.headers.pop("x-csrf-token")
    c.headers["accept"] = "text/html"
    late = c.post(f"/patients/{pid}/procedures/{excision['id']}/complications",
                  data={"kind": "fever", "noted_on": ago(11), "csrf_token": csrf})
    assert late.status_code == 409 and _error_field(late.text) == "noted_on"
    assert "is before the procedure" in late.text
    wrong = c.post(f"/patients/{pid}/procedures/{needling['id']}/histopathology",
                   data={"histopathology": HISTOPATHOLOGY[0], "version": str(needling["version"]),
                         "csrf_token": csrf})
    assert wrong.status_code == 409 and _error_field(wrong.text) == "histopathology"
    assert "belongs to an excision" in wrong.text
    c.headers["x-csrf-token"] = csrf
    c.headers["accept"] = "application/json"
    assert _counts(c, pid) == before
