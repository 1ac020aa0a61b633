"""The record's follow-up through the pages and the API: alerts (complications and urgent
lesions) until reviewed, referrals due and overdue (today injected through ``app.state.today``,
never waited for), corrections and deletions with a reason, password change and admin reset,
the top buttons that open their forms without JavaScript, the visit form prefilled from the
record, and one audit row per page view."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from backmice.storage.visits import EncounterDraft
from backmice.testing import TEST_PASSWORD
from backmice.web.recording import draft_encounter
from web.conftest import log_in

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TODAY = dt.date.today()


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def _form_client(login_as, *roles, **kwargs):
    """A logged-in client that, like a browser form, sends the CSRF token as a form field."""
    c = login_as(*roles, **kwargs)
    token = c.headers.pop("x-csrf-token")
    c.headers["accept"] = "text/html"
    return c, token


def _urgent(lesion_id: int, days: int) -> EncounterDraft:
    return EncounterDraft(occurred_on=ago(days), note="deep, growing", input_doc={"lumps": []},
                          result_doc={"lumps": []}, kb_version="k", engine_version="e",
                          triage="urgent_2_weeks",
                          lesions=((lesion_id, f"lesion-{lesion_id}", "liposarcoma", 0.3,
                                    "urgent_2_weeks", 7.0),))


def _patient_with_alerts(store, username: str):
    """A patient of ``username``'s clinic with a lesion triaged urgent 20 days ago (its
    referral was due 6 days ago) and an excision followed by an infection."""
    me = store.accounts.find_user(username).actor("testclient")
    p = store.patients.create(me, {"display_name": "Rosa Alert", "birth_date": "1960-02-29",
                                   "sex": "female"})
    lesion = store.patients.add_lesion(me, p.id, {"label": "deep flank", "size_cm": 6})
    encounter = store.visits.record_encounter(me, p.id, _urgent(lesion.id, 20))
    excision = store.visits.add_procedure(me, p.id, {
        "lesion_id": lesion.id, "kind": "excision", "performed_on": ago(5),
        "complications": [{"kind": "infection", "noted_on": ago(2)}]})
    return me, p, lesion, encounter, excision


def test_alerts_and_referrals_from_first_sight_to_reviewed_and_done(login_as, store,
                                                                    web_app):
    c, csrf = _form_client(login_as, "clinician", username="cara")
    _, p, lesion, encounter, excision = _patient_with_alerts(store, "cara")
    infection = excision.complications[0]

    def post(url, status=303, **data):
        answer = c.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)
        assert answer.status_code == status, (url, answer.text[:2000])
        return answer

    page = c.get(f"/patients/{p.id}").text
    banner = re.search(r'<section class="alert-banner".*?</section>', page, re.S).group(0)
    assert "1 urgent lesion, 1 complication after a procedure" in banner
    assert banner.count("Mark reviewed") == 2 and "deep flank" in banner
    referrals = re.search(r'<section class="panel referrals".*?</section>', page, re.S).group(0)
    assert "1 open, 1 overdue" in referrals and f"due <strong>{ago(6)}</strong>" in referrals

    web_app.state.today = lambda: TODAY - dt.timedelta(days=10)  # before the due date
    earlier = c.get(f"/patients/{p.id}").text
    assert "overdue" not in re.search(r'<section class="panel referrals".*?</section>',
                                      earlier, re.S).group(0).lower()
    assert c.get(f"/api/v1/patients/{p.id}/timeline").json()["referrals"][0]["overdue"] is False
    web_app.state.today = lambda: TODAY - dt.timedelta(days=6)  # the due day itself
    assert c.get(f"/api/v1/patients/{p.id}/timeline").json()["referrals"][0]["overdue"] is False
    web_app.state.today = lambda: TODAY
    assert c.get(f"/api/v1/patients/{p.id}/timeline").json()["referrals"][0]["overdue"] is True

    worklist = c.get("/clinic/worklist").text
    assert "Rosa Alert" in worklist and "Overdue" in worklist and "1 overdue" in worklist
    data = c.get("/api/v1/clinic/worklist").json()
    assert data["overdue"] == 1 and len(data["alerts"]) == 2

    post(f"/patients/{p.id}/alerts/review", key=f"complication:{infection.id}",
         note="seen, on antibiotics")
    again = post(f"/patients/{p.id}/alerts/review", status=409,
                 key=f"complication:{infection.id}")
    assert "already reviewed by cara" in again.text
    page = c.get(f"/patients/{p.id}?saved=review").text
    assert "Alert marked reviewed." in page
    banner = re.search(r'<section class="alert-banner".*?</section>', page, re.S).group(0)
    assert "1 urgent lesion" in banner and "Infection" not in banner
    reviewed = re.search(r'<details class="panel reviewed-alerts".*?</details>', page,
                         re.S).group(0)
    assert "Infection" in reviewed and "reviewed by <strong>cara</strong>" in reviewed
    assert "seen, on antibiotics" in reviewed
    timeline = c.get(f"/api/v1/patients/{p.id}/timeline").json()
    assert [a["kind"] for a in timeline["alerts"]] == ["urgent_lesion"]
    assert timeline["reviewed_alerts"][0]["review"]["reviewed_by"] == "cara"
    assert ("review", f"alert:complication:{infection.id}") in [
        (e.action, e.target) for e in store.audit.events(patient_id=p.id)]

    referral = timeline["referrals"][0]
    refused = post(f"/patients/{p.id}/referrals/{referral['id']}/done", status=409,
                   version=str(referral["version"]), how="sent", done_on=ago(30))
    assert 'data-error-field="done_on"' in refused.text
    post(f"/patients/{p.id}/referrals/{referral['id']}/done", version=str(referral["version"]),
         how="sent", done_on=ago(1), notes="sarcoma service")
    page = c.get(f"/patients/{p.id}").text
    assert "No open referral." in page and f"referral sent on {ago(1)}" in page
    assert c.get("/api/v1/clinic/worklist").json()["referrals"] == []
    post(f"/patients/{p.id}/alerts/review", key=f"triage:{encounter.id}:{lesion.id}")
    page = c.get(f"/patients/{p.id}").text
    assert 'class="alert-banner"' not in page and "No alert needs review." in page
    assert "Reviewed alerts (2)" in page


@SQLITE
def test_the_api_reviews_alerts_and_completes_referrals(bearer, store):
    api = bearer("clinician")
    owner = store.accounts.list_users()[0].username
    _, p, lesion, encounter, excision = _patient_with_alerts(store, owner)
    key = f"triage:{encounter.id}:{lesion.id}"
    assert api.post(f"/api/v1/patients/{p.id}/alerts/review",
                    json={"key": "nonsense"}).status_code == 422
    made = api.post(f"/api/v1/patients/{p.id}/alerts/review", json={"key": key})
    assert made.status_code == 201 and made.json()["reviewed_by"] == owner
    assert api.post(f"/api/v1/patients/{p.id}/alerts/review",
                    json={"key": key}).status_code == 409
    ref = api.get(f"/api/v1/patients/{p.id}/timeline").json()["referrals"][0]
    done = api.post(f"/api/v1/referrals/{ref['id']}/done",
                    json={"version": ref["version"], "how": "seen", "done_on": ago(0)})
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert api.post(f"/api/v1/referrals/{ref['id']}/done", json={
        "version": ref["version"], "how": "seen", "done_on": ago(0)}).status_code == 409
    other = bearer("clinician", clinic="Elsewhere")
    assert other.post(f"/api/v1/patients/{p.id}/alerts/review",
                      json={"key": f"complication:{excision.complications[0].id}"}
                      ).status_code == 404


def test_corrections_through_the_api_keep_the_old_value_and_the_reason(bearer, store, kb):
    api = bearer("clinician")
    pid = api.post("/api/v1/patients", json={"display_name": "Cor Rect"}).json()["id"]
    lid = api.post(f"/api/v1/patients/{pid}/lesions", json={"label": "A"}).json()["id"]
    out = api.post(f"/api/v1/patients/{pid}/outcomes",
                   json={"measured_on": ago(3), "pain": 4}).json()
    assert out["version"] == 1
    no_reason = api.patch(f"/api/v1/outcomes/{out['id']}", json={"version": 1, "pain": 3})
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    fixed = api.patch(f"/api/v1/outcomes/{out['id']}",
                      json={"version": 1, "reason": "typed 4 for 3", "pain": 3})
    assert fixed.status_code == 200 and (fixed.json()["pain"], fixed.json()["version"]) == (3, 2)
    assert api.patch(f"/api/v1/outcomes/{out['id']}", json={
        "version": 1, "reason": "again", "pain": 2}).status_code == 409
    proc = api.post(f"/api/v1/patients/{pid}/procedures", json={
        "lesion_id": lid, "kind": "excision", "performed_on": ago(4)}).json()
    later = api.patch(f"/api/v1/procedures/{proc['id']}",
                      json={"version": 1, "histopathology": "adipose_tissue"})
    assert later.status_code == 200  # a later fact needs no reason (as before)
    refused = api.patch(f"/api/v1/procedures/{proc['id']}",
                        json={"version": 2, "performed_on": ago(5)})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "reason"
    moved = api.patch(f"/api/v1/procedures/{proc['id']}",
                      json={"version": 2, "performed_on": ago(5), "reason": "wrong day"})
    assert moved.status_code == 200 and moved.json()["performed_on"] == ago(5)
    visit = api.post(f"/api/v1/patients/{pid}/encounters", json={
        "occurred_on": ago(2), "lumps": [{"lesion_id": lid}]}).json()
    noted = api.patch(f"/api/v1/encounters/{visit['id']}",
                      json={"version": 1, "reason": "note was for another patient",
                            "note": None})
    assert noted.status_code == 200 and noted.json()["version"] == 2
    for path, version in ((f"/api/v1/outcomes/{out['id']}", 2),
                          (f"/api/v1/encounters/{visit['id']}", 2)):
        assert api.post(path + "/delete", json={"version": version}).status_code == 422
        assert api.post(path + "/delete", json={"version": version,
                                                "reason": "duplicate"}).status_code == 204
    t = api.get(f"/api/v1/patients/{pid}/timeline").json()
    assert t["outcomes"] == [] and t["encounters"] == []
    assert t["procedures"][0]["corrected"] is True
    kept = [(c["target"].split(":")[0], c["action"], c["reason"]) for c in t["corrections"]]
    assert kept == [("outcome", "update", "typed 4 for 3"),
                    ("procedure", "update", "wrong day"),
                    ("encounter", "update", "note was for another patient"),
                    ("outcome", "delete", "duplicate"), ("encounter", "delete", "duplicate")]
    assert t["corrections"][0]["old"]["pain"] == 4
    assert "assessment" not in t["corrections"][4]["old"]  # documents only in the export
    export = api.get(f"/api/v1/patients/{pid}/export").json()
    assert "assessment" in export["corrections"][4]["old"]


@SQLITE
def test_corrections_through_the_forms(login_as, store):
    c, csrf = _form_client(login_as, "clinician", username="fixer")
    me = store.accounts.find_user("fixer").actor("testclient")
    p = store.patients.create(me, {"display_name": "Form Fix"})
    out = store.visits.add_outcome(me, p.id, {"measured_on": ago(3), "pain": 7})
    url = f"/patients/{p.id}/outcomes/{out.id}/correct"
    form = c.get(url)
    assert form.status_code == 200 and 'id="c-pain"' in form.text and 'value="7"' in form.text
    assert "does not replace" in form.text
    refused = c.post(url, data={"csrf_token": csrf, "version": "1", "measured_on": ago(3),
                                "pain": "6", "reason": " "}, follow_redirects=False)
    assert refused.status_code == 422 and 'data-error-field="reason"' in refused.text
    assert store.visits.timeline(me, p.id).outcomes[0].pain == 7  # nothing saved
    done = c.post(url, data={"csrf_token": csrf, "version": "1", "measured_on": ago(3),
                             "pain": "6", "reason": "misread the scale"},
                  follow_redirects=False)
    assert done.status_code == 303
    stale = c.post(url, data={"csrf_token": csrf, "version": "1", "measured_on": ago(3),
                              "pain": "5", "reason": "again"}, follow_redirects=False)
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    page = c.get(f"/patients/{p.id}?saved=corrected").text
    assert "corrected-tag" in page and "misread the scale" in page
    assert "Correction saved" in page
    gone = c.post(f"/patients/{p.id}/outcomes/{out.id}/delete",
                  data={"csrf_token": csrf, "version": "2", "reason": "wrong patient"},
                  follow_redirects=False)
    assert gone.status_code == 303
    page = c.get(f"/patients/{p.id}").text
    assert "No outcome scores yet." in page and "wrong patient" in page
    assert "Corrections and deletions (2)" in page
    assert c.get(f"/patients/{p.id}/outcomes/{out.id}/correct").status_code == 404
    other = store.patients.create(me, {"display_name": "Other"})
    kept = store.visits.add_outcome(me, other.id, {"measured_on": ago(1), "pain": 1})
    # An outcome of another patient is not reachable through this patient's page.
    assert c.get(f"/patients/{p.id}/outcomes/{kept.id}/correct").status_code == 404
    actions = [(e.action, e.target) for e in store.audit.events(patient_id=p.id)]
    assert ("correct", f"outcome:{out.id}") in actions and ("delete", f"outcome:{out.id}") \
        in actions


@SQLITE
def test_every_user_changes_their_password_and_an_admin_resets_one(login_as, client, store):
    assert client.get("/account/password", headers={"accept": "text/html"}).status_code == 401
    reviewer = login_as("reviewer", username="rev")
    page = reviewer.get("/account/password")
    assert page.status_code == 200 and 'for="current_password"' in page.text
    wrong = reviewer.post("/api/v1/me/password", json={"current_password": "nope nope",
                                                       "new_password": "a new secret 1"})
    assert wrong.status_code == 409 and wrong.json()["error"]["field"] == "current_password"
    short = reviewer.post("/api/v1/me/password", json={"current_password": TEST_PASSWORD,
                                                       "new_password": "short"})
    assert short.status_code == 422
    ok = reviewer.post("/api/v1/me/password", json={"current_password": TEST_PASSWORD,
                                                    "new_password": "a new secret 1"})
    assert ok.status_code == 200 and ok.json()["must_change_password"] is False
    assert reviewer.get("/api/v1/me").status_code == 200  # this login goes on
    with pytest.raises(Exception, match="wrong user name"):
        store.accounts.authenticate("rev", TEST_PASSWORD)

    admin, csrf = _form_client(login_as, "admin", username="boss")
    nurse = store.accounts.create_user(username="nurse", password=TEST_PASSWORD,
                                       roles=["clinician"])
    users = admin.get("/admin/users").text
    assert f'action="/admin/users/{nurse.id}/password"' in users
    reset = admin.post(f"/admin/users/{nurse.id}/password",
                       data={"csrf_token": csrf, "password": "temporary pass 1"},
                       follow_redirects=False)
    assert reset.status_code == 303 and "saved=password" in reset.headers["location"]
    assert ("password_reset", f"user:{nurse.id}") in [(e.action, e.target)
                                                      for e in store.audit.events()]
    assert "Must choose a new password" in admin.get("/admin/users").text

    from fastapi.testclient import TestClient
    with TestClient(client.app) as browser:
        answer = log_in(browser, "nurse", "temporary pass 1")
        assert answer.headers["location"] == "/account/password?next=/patients"
        form = browser.get("/account/password?next=/patients")
        assert "Choose a new password now" in form.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        mismatch = browser.post("/account/password", headers={"accept": "text/html"}, data={
            "csrf_token": token, "current_password": "temporary pass 1",
            "new_password": "my own secret 9", "new_password_again": "my own secret 8",
            "next": "/patients"}, follow_redirects=False)
        assert mismatch.status_code == 422 and "new_password_again" in mismatch.text
        changed = browser.post("/account/password", data={
            "csrf_token": token, "current_password": "temporary pass 1",
            "new_password": "my own secret 9", "new_password_again": "my own secret 9",
            "next": "/patients"}, follow_redirects=False)
        assert changed.status_code == 303 and changed.headers["location"] == "/patients"
        assert browser.get("/api/v1/me").json()["must_change_password"] is False
    assert ("password_change", f"user:{nurse.id}") in [(e.action, e.target)
                                                       for e in store.audit.events()]
    api = admin.post(f"/api/v1/users/{nurse.id}/password",
                     json={"password": "another temp 12"},
                     headers={"x-csrf-token": csrf})
    assert api.status_code == 200 and api.json()["must_change_password"] is True


@SQLITE
def test_the_top_buttons_open_their_forms_without_javascript(login_as, store):
    c, _ = _form_client(login_as, "clinician", username="doc")
    me = store.accounts.find_user("doc").actor("testclient")
    p = store.patients.create(me, {"display_name": "Button Test"})
    plain = c.get(f"/patients/{p.id}").text
    assert f'href="/patients/{p.id}?open=procedure#record-procedure"' in plain
    assert f'href="/patients/{p.id}?open=outcome#record-outcome"' in plain
    assert re.search(r'<details class="form-box" id="record-procedure">', plain)  # closed
    opened = c.get(f"/patients/{p.id}?open=procedure").text
    assert '<details class="form-box" id="record-procedure" open>' in opened
    assert re.search(r'<select id="proc-kind" name="kind" required autofocus>', opened)
    assert '<details class="form-box" id="record-outcome">' in opened  # only the one asked
    outcome = c.get(f"/patients/{p.id}?open=outcome").text
    assert '<details class="form-box" id="record-outcome" open>' in outcome
    assert '<select id="out-lesion_id" name="lesion_id" autofocus>' in outcome
    assert "autofocus" not in c.get(f"/patients/{p.id}?open=nonsense").text


def test_the_visit_form_starts_from_the_record(login_as, store, kb):
    c, csrf = _form_client(login_as, "clinician", username="pre")
    me = store.accounts.find_user("pre").actor("testclient")
    born = dt.date(1970, 1, 1)
    p = store.patients.create(me, {"display_name": "Pre Fill", "birth_date": born.isoformat(),
                                   "sex": "male"})
    lesion = store.patients.add_lesion(me, p.id, {"label": "A", "size_cm": 1.5})
    unmeasured = store.patients.add_lesion(me, p.id, {"label": "B"})
    # The visit the same day the lesion was added (its first size, 1.5 cm): the visit's size,
    # measured later, is the one the next visit starts with.
    draft = EncounterDraft(occurred_on=ago(0), note=None, input_doc={"lumps": []},
                           result_doc={"lumps": []}, kb_version="k", engine_version="e",
                           triage="routine",
                           lesions=((lesion.id, f"lesion-{lesion.id}", "episacral_lipoma",
                                     0.6, "routine", 2.5),))
    store.visits.record_encounter(me, p.id, draft)
    page = c.get(f"/patients/{p.id}/encounters/new").text
    age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    assert re.search(rf'id="patient-age_years" name="patient.age_years"[^>]*value="{age}"',
                     page, re.S)
    assert re.search(r'name="patient.sex" value="male" checked>', page)
    assert re.search(rf'id="l{lesion.id}-size_cm" name="lesion-{lesion.id}.size_cm"'
                     r'[^>]*value="2.5"', page, re.S)
    assert not re.search(rf'id="l{unmeasured.id}-size_cm"[^>]*value=', page)
    assert f"measured {ago(0)}" in page and f"age {age} on the visit date" in page
    saved = c.post(f"/patients/{p.id}/encounters", data={
        "csrf_token": csrf, "occurred_on": ago(0), "lesions": [str(lesion.id)],
        "patient.age_years": str(age), "patient.sex": "male",
        f"lesion-{lesion.id}.size_cm": "3"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    stored = store.visits.get_encounter(me, int(saved.headers["location"].rsplit("/", 1)[1]))
    assert stored.input_doc["patient"] == {"age_years": age, "sex": "male"}
    assert stored.lesions[0].size_cm == 3  # the clinician's change, not the record's


def test_one_audit_row_per_page_view(login_as, store, kb):
    c, _ = _form_client(login_as, "clinician", username="aud")
    me, p, lesion, encounter, excision = _patient_with_alerts(store, "aud")
    out = store.visits.add_outcome(me, p.id, {"measured_on": ago(1), "pain": 2})
    assessed = store.visits.record_encounter(me, p.id, draft_encounter(
        kb, store.visits.visit_context(me, p.id), occurred_on=ago(1), note=None, setting=None,
        patient_findings={}, lumps=[{"lesion_id": lesion.id}]))
    pages = ["/patients", f"/patients/{p.id}", f"/patients/{p.id}/encounters/new",
             f"/encounters/{assessed.id}", f"/patients/{p.id}/delete", "/clinic/outcomes",
             "/clinic/worklist", f"/patients/{p.id}/outcomes/{out.id}/correct",
             f"/patients/{p.id}/procedures/{excision.id}/correct",
             f"/patients/{p.id}/encounters/{encounter.id}/correct",
             f"/api/v1/patients/{p.id}/timeline", "/api/v1/clinic/worklist"]
    for url in pages:
        before = store.audit.count()
        assert c.get(url).status_code == 200, url
        rows = store.audit.events(limit=store.audit.count() - before or 1)
        assert store.audit.count() - before == 1, (url, [(e.action, e.target) for e in rows])
        assert rows[0].action in ("read", "search"), url
        before = store.audit.count()
        assert c.head(url).status_code == 200, url
        assert store.audit.count() == before, url  # HEAD sends no data: no read
