"""The clinician workspace and the records as one workflow: the workspace started from a patient
(/clinician?patient=ID, prefilled from the record), its result saved as that patient's visit
through the records API (the document clinician.js posts), and the stored visit's chart note.
Who may do it: a signed-in clinician of the patient's clinic only."""

from __future__ import annotations

import datetime as dt
import html as htmlib
import json
import re

import pytest

from backmice.testing import make_user
from backmice.web.recording import draft_encounter
from backmice.web.workspace_start import age_on

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
START = re.compile(r'<script type="application/json" id="workspace-start">(.*?)</script>', re.S)


def _day(days_ago: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days_ago)).isoformat()


def _patient(store, kb, actor):
    """A woman born 1971-03-15 with an active PSIS lesion (measured 2 cm, then 3.1 cm, and
    injected: pain 8 → 1 after 15 minutes) and an excised one."""
    pid = store.patients.create(actor, {"display_name": "Ann Example", "local_id": "MRN-77",
                                        "birth_date": "1971-03-15", "sex": "female"}).id
    psis = store.patients.add_lesion(actor, pid, {
        "label": "L PSIS", "region": "posterior_superior_iliac_spine", "side": "left",
        "x": 0.4, "y": 0.5})
    gone = store.patients.add_lesion(actor, pid, {"label": "Old crest", "region": "iliac_crest",
                                                  "side": "right", "status": "excised"})
    for days, size in ((40, 2.0), (10, 3.1)):
        draft = draft_encounter(kb, store.visits.timeline(actor, pid), occurred_on=_day(days),
                                note=None, setting=None, patient_findings={},
                                lumps=[{"lesion_id": psis.id, "findings": {"size_cm": size}}])
        store.visits.record_encounter(actor, pid, draft)
    store.visits.add_procedure(actor, pid, {
        "lesion_id": psis.id, "kind": "diagnostic_injection", "performed_on": _day(5),
        "pain_before": 8, "pain_after": 1, "minutes_after": 15})
    return pid, psis, gone


def _start(page: str) -> dict:
    found = START.search(page)
    assert found, "the workspace carries no start data"
    return json.loads(htmlib.unescape(found.group(1)))


def test_age_counts_whole_years_to_the_birthday():
    born = dt.date(1971, 3, 15)
    assert age_on(born, dt.date(2026, 3, 14)) == 54
    assert age_on(born, dt.date(2026, 3, 15)) == 55
    assert age_on(dt.date(2000, 2, 29), dt.date(2026, 2, 28)) == 25


@SQLITE
def test_the_workspace_starts_from_the_record(login_as, store, kb):
    c = login_as("clinician", clinic="North")
    actor = make_user(store, "north-colleague", clinic="North")
    pid, psis, _ = _patient(store, kb, actor)
    patient_page = c.get(f"/patients/{pid}").text
    assert f'href="/clinician?patient={pid}"' in patient_page  # "Assess in workspace"

    page = c.get(f"/clinician?patient={pid}")
    assert page.status_code == 200
    start = _start(page.text)
    today = dt.date.today()
    assert start["patient"] == {"age_years": age_on(dt.date(1971, 3, 15), today), "sex": "female"}
    assert start["print_id"] == {"name": "Ann Example", "identifier": "MRN-77",
                                 "birth_date": "1971-03-15"}
    [lump] = start["lumps"]  # the excised lesion is not assessed again, and the page says so
    assert lump["lesion_id"] == psis.id and lump["id"] == f"lesion-{psis.id}"
    assert lump["findings"]["size_cm"] == 3.1  # the last size measured, not the first
    assert lump["findings"]["location"] == "posterior_superior_iliac_spine"
    assert lump["findings"]["laterality"] == "left"
    assert lump["later"] == {"injection_pain_before": 8, "injection_pain_after": 1,
                             "minutes_after": 15}
    assert start["not_active"] == ["Old crest (excised)"]
    assert "Not included: Old crest (excised)." in page.text
    # the identification fields are filled for the printout, the save button carries the token
    assert 'id="pid-name" autocomplete="off" maxlength="200" value="Ann Example"' in page.text
    token = re.search(r'id="save-visit" data-patient="\d+" data-csrf="([^"]+)"', page.text)
    assert token and token.group(1) == c.headers["x-csrf-token"]
    assert 'id="save"' not in page.text  # no anonymous share of a patient's assessment
    # the workspace without a patient stays open to everyone, with no save-as-visit
    anonymous = c.get("/clinician").text
    assert "workspace-start" not in anonymous and 'id="save-visit"' not in anonymous


@SQLITE
def test_only_a_clinician_of_the_clinic_starts_from_a_patient(client, login_as, store, kb):
    actor = make_user(store, "south-owner", clinic="South")
    pid, _, _ = _patient(store, kb, actor)
    assert client.get(f"/clinician?patient={pid}").status_code == 401  # not signed in
    reviewer = login_as("reviewer", clinic="South")
    assert reviewer.get(f"/clinician?patient={pid}").status_code == 403
    stranger = login_as("clinician", clinic="Elsewhere")
    refused = stranger.get(f"/clinician?patient={pid}")
    # as the records pages answer another clinic's patient: not found, nothing of it shown
    assert refused.status_code == stranger.get(f"/patients/{pid}").status_code == 404
    assert "Ann Example" not in refused.text and "workspace-start" not in refused.text


@SQLITE
@pytest.mark.parametrize("bad", ["abc", "0", "-3", "99999999999"])
def test_a_bad_patient_id_is_named(login_as, bad):
    c = login_as("clinician")
    answer = c.get(f"/clinician?patient={bad}")
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "patient"


def _workspace_visit(start: dict, **changes) -> dict:
    """The body clinician.js posts for "Save as a visit" (visitBody)."""
    body = {"occurred_on": dt.date.today().isoformat(), "setting": "primary_care",
            "patient": start["patient"],
            "lumps": [{"lesion_id": lump["lesion_id"],
                       "findings": {**lump["findings"], "tender": True},
                       "later_tests": lump["later"] or None} for lump in start["lumps"]]}
    return {**body, **changes}


@SQLITE
def test_the_workspace_result_is_saved_as_a_visit(login_as, store, kb):
    c = login_as("clinician", clinic="North")
    actor = make_user(store, "north-owner", clinic="North")
    pid, psis, _ = _patient(store, kb, actor)
    start = _start(c.get(f"/clinician?patient={pid}").text)
    body = _workspace_visit(start)
    saved = c.post(f"/api/v1/patients/{pid}/encounters", json=body)
    assert saved.status_code == 201, saved.text
    visit = saved.json()
    assert visit["occurred_on"] == body["occurred_on"]
    [line] = visit["lesions"]
    assert line["lesion_id"] == psis.id and line["size_cm"] == 3.1
    # the same answer as the workspace showed for the same findings
    shown = c.post("/clinician/result", json={
        "setting": "primary_care", "patient": start["patient"],
        "lumps": [{"id": f"lesion-{psis.id}", "findings": body["lumps"][0]["findings"],
                   "later_tests": body["lumps"][0]["later_tests"]}]}).text
    top = re.search(r'data-top="([^"]+)" data-top-p="([^"]+)"', shown).groups()
    stored = visit["result_doc"] if "result_doc" in visit else \
        c.get(f"/api/v1/encounters/{visit['id']}").json()["result_doc"]
    first = stored["lumps"][0]["differential"][0]
    assert htmlib.unescape(top[0]) == first["name"]

    page = c.get(f"/encounters/{visit['id']}", headers={"accept": "text/html"}).text
    assert 'class="copy-chart-note"' in page and 'class="print-assessment"' in page
    assert '<script src="/static/assessment.js"' in page
    note = re.search(r'<textarea id="note-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "### L PSIS" in note and "**References:**" in note
    assert f'href="/patients/{pid}"' in page  # back to the patient
    # printed, each page is headed with the patient's identification and the visit date
    head = re.search(r'class="print-only print-lump-head">(.*?)</div>', page, re.S).group(1)
    assert "Ann Example" in head and "1971-03-15" in head and "MRN-77" in head
    assert body["occurred_on"] in head


@SQLITE
@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda b: {**b, "lumps": [{k: v for k, v in b["lumps"][0].items() if k != "lesion_id"}]},
     "lumps.0.lesion_id", "required"),
    (lambda b: {**b, "lumps": [{**b["lumps"][0], "lesion_id": 999999}]},
     "lumps.0.lesion_id", "is not one of this patient's lesions"),
    (lambda b: {**b, "patient": {"age_years": 300}}, "patient.age_years", ""),
    (lambda b: {**b, "lumps": []}, "lumps", ""),
    (lambda b: {**b, "occurred_on": "yesterday"}, "occurred_on", ""),
])
def test_a_visit_that_cannot_be_saved_names_its_field_and_writes_nothing(
        login_as, store, kb, change, field, words):
    c = login_as("clinician", clinic="North")
    actor = make_user(store, "north-keeper", clinic="North")
    pid, _, _ = _patient(store, kb, actor)
    before = store.visits.timeline(actor, pid, action=None).encounters_total
    before = len(store.visits.timeline(actor, pid, action=None).encounters) \
        if before is None else before
    start = _start(c.get(f"/clinician?patient={pid}").text)
    answer = c.post(f"/api/v1/patients/{pid}/encounters", json=change(_workspace_visit(start)))
    # a lesion of another patient is a conflict with the record (409); the rest are malformed
    expected = 409 if "not one of this patient's" in words else 422
    assert answer.status_code == expected, answer.text
    error = answer.json()["error"]
    assert error["field"] == field, error
    assert words.lower() in error["message"].lower(), error
    after = store.visits.timeline(actor, pid, action=None)
    assert len(after.encounters) == before


@SQLITE
def test_another_clinic_cannot_save_to_the_patient(login_as, store, kb):
    actor = make_user(store, "east-owner", clinic="East")
    pid, _, _ = _patient(store, kb, actor)
    own = login_as("clinician", clinic="East")
    body = _workspace_visit(_start(own.get(f"/clinician?patient={pid}").text))
    stranger = login_as("clinician", clinic="West")
    assert stranger.post(f"/api/v1/patients/{pid}/encounters", json=body).status_code == 404
    token = own.headers.pop("x-csrf-token")  # a page of another site cannot post for a user
    assert own.post(f"/api/v1/patients/{pid}/encounters", json=body).status_code == 403
    own.headers["x-csrf-token"] = token
    assert len(store.visits.timeline(actor, pid, action=None).encounters) == 2
