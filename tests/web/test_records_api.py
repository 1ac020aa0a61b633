"""The patient-record API: the access matrix (every route × anonymous / wrong role / right
role), a clinical story through the API (two lumps, an injection 8 → 1 that shifts the next
assessment, an excision with histopathology, pain scores, the timeline, export), version
conflicts, clinic isolation, and bad input that writes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from tests.web.conftest import log_in

from backmice.config import Settings
from backmice.followup.vocab import ROLES
from backmice.storage import open_store
from backmice.testing import TEST_PASSWORD, fast_password_hasher
from backmice.web.app import create_app
from backmice.web.routes import records_api

TODAY = dt.date.today()
BASIC = {"palpable_lump": True, "tender": True, "pain": True}  # an undecided lump


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def _routes():
    for route in records_api.router.routes:
        assert isinstance(route, APIRoute)
        for method in route.methods:
            role = "admin" if "admin" in route.tags else "clinician"
            if route.path in ("/api/v1/me", "/api/v1/me/password"):
                role = None  # any role
            yield method, route.path, role


ROUTES = sorted(_routes())


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, kb):
    """One app on SQLite (access rules do not depend on the backend) with a client per role,
    logged in through the form and holding an API token: built once for the whole matrix."""
    folder = tmp_path_factory.mktemp("matrix")
    store = open_store(f"sqlite:///{folder / 'm.sqlite3'}",
                       password_hasher=fast_password_hasher())
    app = create_app(Settings.load(data_dir=folder, database_url="sqlite://"), kb=kb,
                     store=store)
    clients = {}
    for role in ROLES:
        user = store.accounts.create_user(username=f"m-{role}", password=TEST_PASSWORD,
                                          roles=[role])
        session = TestClient(app).__enter__()
        assert log_in(session, user.username).status_code == 303
        secret, _ = store.accounts.create_token(user_id=user.id, name="matrix")
        token = TestClient(app, headers={"authorization": f"Bearer {secret}"}).__enter__()
        clients[role] = (session, token)
    anonymous = TestClient(app).__enter__()
    yield anonymous, clients
    for c in [anonymous, *(c for pair in clients.values() for c in pair)]:
        c.__exit__(None, None, None)
    store.close()


@pytest.mark.parametrize(("method", "path", "role"), ROUTES)
def test_every_record_route_checks_login_and_role(matrix, method, path, role):
    anonymous, clients = matrix
    url = path.replace("{", "").replace("}", "")
    for name in ("patient_id", "lesion_id", "encounter_id", "procedure_id", "user_id",
                 "token_id", "referral_id", "outcome_id"):
        url = url.replace(name, "999999")  # no such record: nothing shared gets changed
    kwargs = {"json": {}} if method in ("POST", "PATCH") else {}
    if method == "DELETE" and "patients" in url:
        url += "?version=1"
    answer = anonymous.request(method, url, **kwargs)
    assert answer.status_code == 401, (method, url, answer.text)
    assert answer.json()["error"]["code"] == "not_authenticated"
    if role is None:  # any logged-in role; the empty body of a change is refused as input
        for c in clients["reviewer"]:
            answer = c.request(method, url, **kwargs)
            assert answer.status_code == (200 if method == "GET" else 422), answer.text
        return
    wrong = "reviewer" if role == "clinician" else "clinician"
    for c in clients[wrong]:
        answer = c.request(method, url, **kwargs)
        assert answer.status_code == 403, (method, url, answer.text)
    for c in clients[role]:
        answer = c.request(method, url, **kwargs)
        assert answer.status_code not in (401, 403, 500), (method, url, answer.text)


def test_a_session_without_its_csrf_token_cannot_change_anything(login_as):
    me = login_as("clinician")
    token = me.headers.pop("x-csrf-token")
    refused = me.post("/api/v1/patients", json={"display_name": "Forged"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert me.get("/api/v1/patients").json()["total"] == 0  # reading needs no token
    made = me.post("/api/v1/patients", json={"display_name": "Real"},
                   headers={"x-csrf-token": token})
    assert made.status_code == 201


def test_login_lock_out_and_logout(client, store, login_as):
    store.accounts.create_user(username="lock", password="correct horse battery",
                               roles=["clinician"])
    for _ in range(5):
        assert log_in(client, "lock", "wrong password!").status_code == 401
    locked = log_in(client, "lock")
    unknown = log_in(client, "nobody-here")
    assert locked.status_code == 401 and "locked for 15 minutes" in locked.text
    assert "wrong user name or password" in locked.text
    assert "wrong user name or password" in unknown.text
    me = login_as("clinician")
    assert me.get("/api/v1/me").status_code == 200
    out = me.post("/logout", data={"csrf_token": me.headers["x-csrf-token"]},
                  follow_redirects=False)
    assert out.status_code == 303
    assert me.get("/api/v1/me").status_code == 401
    actions = [e.action for e in store.audit.events()]
    assert actions.count("login_failed") == 7 and "logout" in actions


def test_the_login_form_refuses_a_forged_post(client, store):
    store.accounts.create_user(username="ann", password="correct horse battery",
                               roles=["clinician"])
    forged = client.post("/login", data={"username": "ann", "password": "correct horse battery",
                                         "login_token": "x" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    assert "backmice_session" not in forged.cookies


def test_after_login_only_local_paths_are_followed(client, store):
    store.accounts.create_user(username="bo", password="correct horse battery",
                               roles=["clinician"])
    form = client.get("/login?next=//evil.example/")
    assert 'name="next" value=""' in form.text
    assert log_in(client, "bo").headers["location"] == "/patients"


@pytest.mark.parametrize(("roles", "landing"), [
    (["clinician", "admin"], "/patients"), (["reviewer"], "/reviewer"),
    (["admin"], "/admin/users")])
def test_each_role_lands_on_its_own_page(client, store, roles, landing):
    store.accounts.create_user(username="lands", password=TEST_PASSWORD, roles=roles)
    form = client.get("/login")
    token = form.text.split('name="login_token" value="')[1].split('"')[0]
    answer = client.post("/login", data={"username": "lands", "password": TEST_PASSWORD,
                                         "login_token": token}, follow_redirects=False)
    assert answer.headers["location"] == landing
    assert client.get(landing).status_code == 200


def _story(c):
    p = c.post("/api/v1/patients", json={"display_name": "Maria Example",
                                         "birth_date": "1968-05-02", "sex": "female"})
    assert p.status_code == 201, p.text
    pid = p.json()["id"]
    left = c.post(f"/api/v1/patients/{pid}/lesions", json={
        "label": "left PSIS", "region": "posterior_superior_iliac_spine", "side": "left",
        "x": 0.42, "y": 0.55, "size_cm": 1.5}).json()
    right = c.post(f"/api/v1/patients/{pid}/lesions", json={
        "label": "right crest", "region": "iliac_crest", "side": "right"}).json()
    findings = {"palpable_lump": True, "tender": True, "pain": True, "size_cm": 1.5,
                "consistency": "firm_rubbery", "mobile": True, "depth": "subcutaneous",
                "pain_reproduced_by_pressure": True, "growth": "stable"}
    patient = {"age_years": 58, "sex": "female", "fever": False,
               "neurological_deficit": False}
    return pid, left, right, findings, patient


def test_a_clinical_story_through_the_api(login_as):
    c = login_as("clinician")
    pid, left, right, findings, patient = _story(c)
    first = c.post(f"/api/v1/patients/{pid}/encounters", json={
        "occurred_on": ago(40), "patient": patient, "note": "two lumps",
        "lumps": [{"lesion_id": left["id"], "findings": BASIC},
                  {"lesion_id": right["id"], "findings": {**findings, "size_cm": 2}}]})
    assert first.status_code == 201, first.text
    first = first.json()
    assert len(first["lesions"]) == 2
    assert first["result_doc"]["lumps"][0]["lump_id"] == f"lesion-{left['id']}"
    assert first["input_doc"]["lumps"][0]["findings"]["location"] == \
        "posterior_superior_iliac_spine"  # filled from the lesion record
    before = first["lesions"][0]
    # The diagnostic injection: pain 8 → 1 on the left lump.
    inj = c.post(f"/api/v1/patients/{pid}/procedures", json={
        "lesion_id": left["id"], "kind": "diagnostic_injection", "performed_on": ago(39),
        "pain_before": 8, "pain_after": 1, "minutes_after": 15})
    assert inj.status_code == 201, inj.text
    second = c.post(f"/api/v1/patients/{pid}/encounters", json={
        "occurred_on": ago(30), "patient": patient,
        "lumps": [{"lesion_id": left["id"], "findings": BASIC},
                  {"lesion_id": right["id"], "findings": {**findings, "size_cm": 2}}]}).json()
    assert second["input_doc"]["lumps"][0]["later_tests"] == {
        "injection_pain_before": 8, "injection_pain_after": 1, "minutes_after": 15}
    after = second["lesions"][0]
    family = {"episacral_lipoma", "lumbar_fascial_fat_herniation", "iliac_crest_pain_syndrome"}
    assert after["top_condition"] in family
    fam_before = first["result_doc"]["lumps"][0]["back_mouse_family_probability"]
    fam_after = second["result_doc"]["lumps"][0]["back_mouse_family_probability"]
    assert fam_after > fam_before, (before, after)
    # Excision, later histopathology, a complication, pain scores.
    exc = c.post(f"/api/v1/patients/{pid}/procedures", json={
        "lesion_id": left["id"], "kind": "excision", "performed_on": ago(20)}).json()
    done = c.patch(f"/api/v1/procedures/{exc['id']}", json={
        "version": exc["version"], "histopathology": "adipose_tissue"})
    assert done.status_code == 200 and done.json()["histopathology"] == "adipose_tissue"
    assert c.post(f"/api/v1/procedures/{exc['id']}/complications", json={
        "kind": "discharge", "noted_on": ago(15)}).status_code == 201
    for days, pain in ((41, 8), (10, 2), (2, 1)):
        assert c.post(f"/api/v1/patients/{pid}/outcomes", json={
            "lesion_id": left["id"], "measured_on": ago(days), "pain": pain}).status_code == 201
    t = c.get(f"/api/v1/patients/{pid}/timeline").json()
    assert [le["status"] for le in t["lesions"]] == ["excised", "active"]
    assert t["lesions"][0]["later_tests"]["histopathology_finding"] == "adipose_tissue"
    assert [a["complication"] for a in t["alerts"]] == ["discharge"]
    series = t["pain_series"][0]
    assert [pt["pain"] for pt in series["points"]] == [8, 2, 1]
    assert [p["kind"] for p in series["procedures"]] == ["diagnostic_injection", "excision"]
    assert "result_doc" not in t["encounters"][0]  # summaries only on the timeline
    # A third visit after the histopathology (fat): only the fatty lesions remain.
    third = c.post(f"/api/v1/patients/{pid}/encounters", json={
        "occurred_on": ago(5), "patient": patient,
        "lumps": [{"lesion_id": left["id"], "findings": findings}]}).json()
    outcomes = dict(third["result_doc"]["lumps"][0]["outcomes"])
    fatty = ("episacral_lipoma", "lumbar_fascial_fat_herniation", "lipoma")
    assert sum(outcomes[cid] for cid in fatty) > 0.99
    assert outcomes["liposarcoma"] < 0.01 and outcomes["sebaceous_cyst"] < 0.01
    effects = c.get("/api/v1/clinic/outcomes").json()["effects"]
    excision = next(e for e in effects if e["kind"] == "excision")
    assert excision["paired"] == 1 and excision["mean_before"] == 8 and \
        excision["mean_after"] == 1
    # Export: JSON with the full documents, CSV as a long table.
    full = c.get(f"/api/v1/patients/{pid}/export").json()
    assert full["format"] == "backmice.patient_record" and len(full["encounters"]) == 3
    assert full["encounters"][0]["assessment"]["lumps"]
    rows = list(csv.DictReader(io.StringIO(c.get(
        f"/api/v1/patients/{pid}/export?format=csv").text)))
    assert {r["record"] for r in rows} == {"lesion", "encounter", "procedure", "outcome"}
    # An old assessment is shown as it was stored, whatever happens later.
    again = c.get(f"/api/v1/encounters/{first['id']}").json()
    assert again["result_doc"] == first["result_doc"]


def test_conflicting_edits_and_clinic_isolation(login_as):
    north_a = login_as("clinician", clinic="North")
    north_b = login_as("clinician", clinic="North")
    south = login_as("clinician", clinic="South")
    p = north_a.post("/api/v1/patients", json={"display_name": "Olu"}).json()
    ok = north_b.patch(f"/api/v1/patients/{p['id']}", json={"version": 1, "notes": "b"})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    late = north_a.patch(f"/api/v1/patients/{p['id']}", json={"version": 1, "notes": "a"})
    assert late.status_code == 409
    assert "changed by someone else" in late.json()["error"]["message"]
    assert north_a.get(f"/api/v1/patients/{p['id']}").json()["notes"] == "b"
    assert south.get(f"/api/v1/patients/{p['id']}").status_code == 404
    assert south.get("/api/v1/patients").json()["total"] == 0
    assert south.delete(f"/api/v1/patients/{p['id']}?version=2").status_code == 404
    assert north_a.delete(f"/api/v1/patients/{p['id']}?version=2").status_code == 204
    assert north_a.get(f"/api/v1/patients/{p['id']}").status_code == 404


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/patients", {}, "display_name"),
    ("/api/v1/patients", {"display_name": "A", "birth_date": "1999-02-30"}, "birth_date"),
    ("/api/v1/patients", {"display_name": "A", "sex": "x"}, "sex"),
    ("/api/v1/patients", {"display_name": "A", "ssn": "1"}, "ssn"),
    ("/api/v1/patients", {"display_name": "A\u0000"}, "display_name"),
])
def test_bad_patient_input_names_the_field_and_writes_nothing(login_as, path, body, field):
    c = login_as("clinician")
    answer = c.post(path, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert c.get("/api/v1/patients").json()["total"] == 0


def test_bad_visit_input_writes_nothing(login_as):
    c = login_as("clinician")
    pid, left, _right, _findings, _patient = _story(c)
    cases = [
        ({"occurred_on": ago(1), "lumps": []}, "lumps"),
        ({"occurred_on": ago(1), "lumps": [{"lesion_id": left["id"],
                                            "findings": {"size_cm": -3}}]},
         "lumps.0.findings.size_cm"),
        ({"occurred_on": "2999-01-01", "lumps": [{"lesion_id": left["id"]}]}, "occurred_on"),
    ]
    for body, field in cases:
        answer = c.post(f"/api/v1/patients/{pid}/encounters", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == field, answer.json()
    # a lesion that is not this patient's: well formed, refused by the record (409)
    answer = c.post(f"/api/v1/patients/{pid}/encounters",
                    json={"occurred_on": ago(1), "lumps": [{"lesion_id": 999}]})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["field"] == "lumps.0.lesion_id"
    bad = c.post(f"/api/v1/patients/{pid}/procedures", json={
        "lesion_id": left["id"], "kind": "diagnostic_injection", "performed_on": ago(1),
        "pain_before": 8})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "pain_after"
    t = c.get(f"/api/v1/patients/{pid}/timeline").json()
    assert t["encounters"] == [] and t["procedures"] == []


def test_admins_manage_users_and_tokens_and_read_the_audit_log(login_as, client):
    admin = login_as("admin")
    made = admin.post("/api/v1/users", json={"username": "newdoc",
                                              "password": "a long enough password",
                                              "roles": ["clinician"]})
    assert made.status_code == 201, made.text
    uid = made.json()["id"]
    token = admin.post(f"/api/v1/users/{uid}/tokens", json={"name": "export script"}).json()
    script = {"authorization": f"Bearer {token['token']}"}
    assert client.get("/api/v1/patients", headers=script).status_code == 200
    assert admin.delete(f"/api/v1/tokens/{token['id']}").json()["revoked"] is True
    assert client.get("/api/v1/patients", headers=script).status_code == 401
    off = admin.patch(f"/api/v1/users/{uid}", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    events = admin.get("/api/v1/audit").json()
    assert {"user_change", "token_change", "login"} <= {e["action"] for e in events}


def test_no_patient_data_reaches_the_application_log(login_as, caplog):
    caplog.set_level("DEBUG")
    c = login_as("clinician")
    pid, left, _right, findings, patient = _story(c)
    c.get("/api/v1/patients?q=Maria")
    c.post(f"/api/v1/patients/{pid}/encounters", json={
        "occurred_on": ago(3), "patient": patient, "note": "Maria's sister also has lumps",
        "lumps": [{"lesion_id": left["id"], "findings": findings}]})
    c.post(f"/api/v1/patients/{pid}/encounters", json={"occurred_on": "Maria", "lumps": []})
    c.get(f"/api/v1/patients/{pid}/export?format=csv")
    assert caplog.records, "nothing was logged at all: the capture is not working"
    for record in caplog.records:
        if record.name.startswith("httpx"):  # the test client's own log, not the server's
            continue
        assert "Maria" not in record.getMessage(), record.name


def test_head_sends_nothing_and_so_writes_no_audit_row(login_as, store):
    """HEAD is answered as GET (status, headers) but a read that sends no data is not audited;
    the GET that does send it still is."""
    c = login_as("clinician")
    pid = c.post("/api/v1/patients", json={"display_name": "Headed"}).json()["id"]
    lesion = c.post(f"/api/v1/patients/{pid}/lesions", json={
        "label": "L PSIS", "region": "posterior_superior_iliac_spine", "side": "left"}).json()
    eid = c.post(f"/api/v1/patients/{pid}/encounters", json={
        "occurred_on": ago(1), "lumps": [{"lesion_id": lesion["id"], "findings": BASIC}]},
    ).json()["id"]

    def actions():
        return [e.action for e in store.audit.events(limit=1000)]

    for url in (f"/api/v1/patients/{pid}/export", f"/api/v1/patients/{pid}/export?format=csv",
                f"/api/v1/patients/{pid}", f"/api/v1/patients/{pid}/timeline",
                f"/api/v1/encounters/{eid}", "/api/v1/patients", "/api/v1/clinic/outcomes",
                f"/patients/{pid}", f"/patients/{pid}/delete", f"/patients/{pid}/encounters/new",
                f"/encounters/{eid}", "/patients", "/clinic/outcomes"):
        before = actions()
        head = c.head(url)
        assert head.status_code == 200 and head.content == b"", url
        assert actions() == before, url
        assert c.get(url).status_code == 200
        assert len(actions()) > len(before), url  # the GET is still audited
    before = actions()
    c.get(f"/api/v1/patients/{pid}/export")
    assert actions() == ["export", *before]  # newest first
