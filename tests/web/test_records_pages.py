"""The patient-record pages: the access matrix over every page route (taken from the router, so a
new route cannot be left out), each page's JSON twin, disclaimer and labelled controls; form
round trips without JavaScript (patient, lesions, visits, an injection 8 → 1, an excision with
a complication alert, outcomes, export, delete with confirmation); bad input answered 422 on
the same page naming the field with nothing saved; stale versions 409; CSRF; the admin pages.

The access matrix and the form checks run on SQLite only (they test the web layer); the
clinical round trip runs on both backends."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from fastapi.routing import APIRoute

from backmice.storage.visits import EncounterDraft
from backmice.testing import make_user
from backmice.web.handoff import OneTimeHandoff
from backmice.web.recording import draft_encounter
from backmice.web.routes import records_pages

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HTML = {"accept": "text/html"}
TODAY = dt.date.today()


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def _routes():
    for route in records_pages.router.routes:
        assert isinstance(route, APIRoute)
        for method in sorted(route.methods):
            yield method, route.path, "admin" if route.path.startswith("/admin") else "clinician"


ROUTES = sorted(_routes())
# POST routes that change nothing and answer with the page itself (the visit form read from a
# pasted note), where every other POST answers 303 to the page that shows the change.
RENDERED = {"/patients/{patient_id}/encounters/note"}


def _seed(store, kb):
    """A patient with a lesion, a visit, an excision and an API token, made in the store."""
    owner = make_user(store, "owner", ("clinician",))
    patient = store.patients.create(owner, {"display_name": "Seeded Patient"})
    lesion = store.patients.add_lesion(owner, patient.id, {"label": "left PSIS"})
    timeline = store.visits.timeline(owner, patient.id)
    draft = draft_encounter(kb, timeline, occurred_on=ago(3), note=None, setting=None,
                            patient_findings={}, lumps=[{"lesion_id": lesion.id}])
    encounter = store.visits.record_encounter(owner, patient.id, draft)
    excision = store.visits.add_procedure(owner, patient.id, {
        "lesion_id": lesion.id, "kind": "excision", "performed_on": ago(2)})
    _, token = store.accounts.create_token(user_id=owner.user_id, name="seed")
    lesion = store.patients.lesions(owner, patient.id)[0]  # the excision bumped its version
    infection = store.visits.add_complication(owner, excision.id,
                                              {"kind": "infection", "noted_on": ago(1)})
    urgent = store.visits.record_encounter(owner, patient.id, EncounterDraft(
        occurred_on=ago(20), note=None, input_doc={"lumps": []}, result_doc={"lumps": []},
        kb_version="k", engine_version="e", triage="urgent_2_weeks",
        lesions=((lesion.id, f"lesion-{lesion.id}", "liposarcoma", 0.3, "urgent_2_weeks",
                  7.0),)))
    referral = store.visits.timeline(owner, patient.id).referrals[0]
    ids = {"patient_id": patient.id, "lesion_id": lesion.id, "procedure_id": excision.id,
           "encounter_id": encounter.id, "user_id": owner.user_id, "token_id": token.id,
           "referral_id": referral.id, "kind": "procedures", "item_id": excision.id}
    assert urgent.triage == "urgent_2_weeks"
    forms = {
        "/patients": {"display_name": "New Patient"},
        "/patients/{patient_id}": {"version": "1", "display_name": "Renamed"},
        "/patients/{patient_id}/lesions": {"label": "right crest"},
        "/patients/{patient_id}/lesions/{lesion_id}": {"version": str(lesion.version),
                                                       "status": "resolved"},
        "/patients/{patient_id}/procedures": {"kind": "dry_needling",
                                              "performed_on": ago(1)},
        "/patients/{patient_id}/procedures/{procedure_id}/complications": {
            "kind": "bruising", "noted_on": ago(1)},
        "/patients/{patient_id}/procedures/{procedure_id}/histopathology": {
            "version": "1", "histopathology": "adipose_tissue"},
        "/patients/{patient_id}/outcomes": {"measured_on": ago(1), "pain": "3"},
        "/patients/{patient_id}/delete": {"version": "1"},
        "/patients/{patient_id}/encounters": {"occurred_on": ago(1),
                                              "lesions": str(lesion.id)},
        "/patients/{patient_id}/encounters/note": {"lesions": str(lesion.id),
                                                   "pasted_note": "47F, tender lump, no fever"},
        "/patients/{patient_id}/alerts/review": {"key": f"complication:{infection.id}"},
        "/patients/{patient_id}/referrals/{referral_id}/done": {
            "version": "1", "how": "sent", "done_on": ago(1)},
        "/patients/{patient_id}/{kind}/{item_id}/correct": {
            "version": "1", "reason": "wrong date", "kind": "excision",
            "lesion_id": str(lesion.id), "performed_on": ago(3)},
        "/patients/{patient_id}/{kind}/{item_id}/delete": {"version": "1",
                                                           "reason": "duplicate"},
        "/admin/users/{user_id}/password": {"password": "temporary secret 1"},
        "/admin/users": {"username": "newbie", "password": "long enough secret",
                         "roles": "clinician"},
        "/admin/users/{user_id}": {"action": "roles", "roles": ["clinician", "reviewer"]},
        "/admin/users/{user_id}/tokens": {"name": "nightly export"},
        "/admin/tokens/{token_id}/revoke": {},
    }
    return ids, forms


class _Controls(HTMLParser):
    """Every visible form control, and whether a label names it."""

    def __init__(self) -> None:
        super().__init__()
        self.in_label = 0
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, str | None, bool]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append((tag, a.get("id"), self.in_label > 0))

    def handle_endtag(self, tag):
        if tag == "label":
            self.in_label -= 1

    def unlabelled(self) -> list[str]:
        return [f"{tag}#{cid}" for tag, cid, wrapped in self.controls
                if not wrapped and (cid is None or cid not in self.label_for)]


@SQLITE
@pytest.mark.parametrize(("method", "path", "role"), ROUTES)
def test_every_page_route_checks_login_and_role(client, login_as, store, kb, method, path,
                                                role):
    ids, forms = _seed(store, kb)
    url = path.format(**ids)
    assert method == "GET" or path in forms, f"add a sample form for {method} {path}"
    data = forms.get(path)
    anonymous = client.request(method, url, headers=HTML, data=data, follow_redirects=False)
    assert anonymous.status_code == 401, (method, url)
    assert 'action="/login"' in anonymous.text
    wrong = login_as("reviewer" if role == "clinician" else "clinician")
    refused = wrong.request(method, url, headers=HTML, data=data, follow_redirects=False)
    assert refused.status_code == 403, (method, url, refused.text[:300])
    me = login_as(role)
    answer = me.request(method, url, headers=HTML, data=data, follow_redirects=False)
    if method == "POST" and path not in RENDERED:
        assert answer.status_code == 303, (url, answer.text[:2000])
        return
    assert answer.status_code == 200, (url, answer.text[:2000])
    twin = re.fullmatch(r'<([^>]+)>; rel="alternate"; type="application/json"',
                        answer.headers["link"]).group(1)
    assert me.get(twin).status_code == 200, twin
    html = answer.text
    assert '<meta name="viewport"' in html and "does not replace" in html
    parser = _Controls()
    parser.feed(html)
    assert not parser.unlabelled(), (url, parser.unlabelled())


def _form_client(login_as, *roles, **kwargs):
    """A logged-in client that, like a browser form, sends the CSRF token as a form field."""
    c = login_as(*roles, **kwargs)
    token = c.headers.pop("x-csrf-token")
    c.headers["accept"] = "text/html"
    return c, token


def _error_field(html: str) -> str:
    return re.search(r'role="alert"[^>]*data-error-field="([^"]*)"', html).group(1)


def test_a_patient_record_through_the_forms(login_as, store):
    c, csrf = _form_client(login_as, "clinician")

    def post(url, **data):
        answer = c.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)
        assert answer.status_code == 303, (url, answer.status_code, answer.text[:3000])
        return answer.headers["location"]

    where = post("/patients", display_name="Maria Example", local_id="MRN-77",
                 birth_date="1966-05-02", sex="female")
    pid = int(where.rsplit("/", 1)[1])
    for query in ("q=maria", "q=MRN-77", "birth_date=1966-05-02"):
        found = c.get(f"/patients?{query}")
        assert f'href="/patients/{pid}"' in found.text, query
    assert "No patients match" in c.get("/patients?q=nobody").text
    post(f"/patients/{pid}/lesions", label="left buttock", region="buttock", side="left",
         x="0.35", y="0.7", size_cm="1.5")
    post(f"/patients/{pid}/lesions", label="cluster", region="buttock", side="right",
         nodule_count="40")
    page = c.get(f"/patients/{pid}")
    assert page.status_code == 200 and page.text.count('class="marker ') == 2
    assert "cluster of 40" in page.text
    left, cluster = (int(i) for i in re.findall(r'<article class="panel lesion-card[^"]*" '
                                                r'id="lesion-(\d+)"', page.text))

    def visit(days: int, **findings) -> str:
        data = {"occurred_on": ago(days), "setting": "primary_care", "patient.age_years": "58",
                "patient.sex": "female", **findings}
        answer = c.post(f"/patients/{pid}/encounters",
                        data={"csrf_token": csrf, "lesions": [str(left), str(cluster)], **data},
                        follow_redirects=False)
        assert answer.status_code == 303, answer.text[:3000]
        return answer.headers["location"]

    lump = {f"lesion-{left}.{k}": "true" for k in ("palpable_lump", "tender", "pain")}
    first = visit(40, **lump, **{f"lesion-{left}.size_cm": "2"})
    shown = c.get(first)
    assert "knowledge base" in shown.text and "engine" in shown.text
    assert f'id="result-lesion-{left}"' in shown.text and "Maria Example" in shown.text
    family_before = float(re.search(rf'id="result-lesion-{left}".*?family (\d+)%', shown.text,
                                    re.S).group(1))
    post(f"/patients/{pid}/procedures", kind="diagnostic_injection", lesion_id=str(left),
         performed_on=ago(39), pain_before="8", pain_after="1", minutes_after="15")
    page = c.get(f"/patients/{pid}").text
    assert "pain 8 → 1 (88% relief), 15 min after" in page
    assert "pain 8 → 1" in c.get(f"/patients/{pid}/encounters/new").text  # shown before saving
    second = visit(30, **lump)
    family_after = float(re.search(rf'id="result-lesion-{left}".*?family (\d+)%',
                                   c.get(second).text, re.S).group(1))
    assert family_after > family_before
    eid = int(second.rsplit("/", 1)[1])
    stored = store.visits.timeline(make_user(store, "reader"), pid, documents=True).encounters
    assert next(e for e in stored if e.id == eid).input_doc["lumps"][0]["later_tests"] == {
        "injection_pain_before": 8, "injection_pain_after": 1, "minutes_after": 15}

    post(f"/patients/{pid}/procedures", kind="excision", lesion_id=str(left),
         performed_on=ago(20))
    page = c.get(f"/patients/{pid}").text
    proc = int(re.findall(r'id="procedure-(\d+)"', page)[0])  # newest first
    post(f"/patients/{pid}/procedures/{proc}/histopathology", version="1",
         histopathology="adipose_tissue")
    assert "alert-banner" not in c.get(f"/patients/{pid}").text
    post(f"/patients/{pid}/procedures/{proc}/complications", kind="discharge",
         noted_on=ago(15), notes="serous")
    for days, pain in ((41, "8"), (10, "2"), (2, "1")):
        post(f"/patients/{pid}/outcomes", lesion_id=str(left), measured_on=ago(days), pain=pain)
    post(f"/patients/{pid}/outcomes", measured_on=ago(1), odi="22", satisfaction="9")
    page = c.get(f"/patients/{pid}").text
    banner = re.search(r'<section class="alert-banner" role="alert".*?</section>', page, re.S)
    assert banner and "Discharge" in banner.group(0)
    assert "Histopathology: mature adipose tissue" in page
    card = re.search(rf'id="lesion-{left}".*?</article>', page, re.S).group(0)
    assert 'class="tag status-excised"' in card and "svg" in card
    assert card.count('class="pain-point"') == 3
    assert re.findall(r'<g class="proc-mark proc-(\w+)">', card) == [
        "diagnostic_injection", "excision"]
    assert "style=" not in page  # the CSP forbids inline styles

    exported = c.get(f"/api/v1/patients/{pid}/export?format=json")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    assert len(exported.json()["encounters"]) == 2
    rows = list(csv.DictReader(io.StringIO(
        c.get(f"/api/v1/patients/{pid}/export?format=csv").text)))
    assert {r["record"] for r in rows} == {"lesion", "encounter", "procedure", "outcome"}
    assert f'href="/api/v1/patients/{pid}/export?format=csv"' in page

    post(f"/patients/{pid}/lesions/{cluster}", version="1", status="resolved")
    assert 'class="tag status-resolved"' in c.get(f"/patients/{pid}").text
    # the details form: same place keeps the map point; another side drops it to its region
    reader = make_user(store, "lesion-reader")  # the same (default) clinic
    left_version = next(le.version for le in store.patients.lesions(reader, pid)
                        if le.id == left)
    same = {"action": "details", "region": "buttock", "side": "left", "region_was": "buttock",
            "side_was": "left", "nodule_count": "1"}
    post(f"/patients/{pid}/lesions/{left}", version=str(left_version), label="left buttock, upper",
         **same)
    moved = {**same, "side": "right"}
    post(f"/patients/{pid}/lesions/{left}", version=str(left_version + 1), label="renamed",
         **moved)
    edited = next(le for le in store.patients.lesions(reader, pid) if le.id == left)
    assert (edited.label, edited.side, edited.x, edited.y) == ("renamed", "right", None, None)
    assert "renamed" in c.get(f"/patients/{pid}").text
    stale = c.post(f"/patients/{pid}/lesions/{left}",
                   data={"csrf_token": csrf, "version": str(left_version), "label": "late",
                         **same})
    assert stale.status_code == 409
    outcomes = c.get("/clinic/outcomes").text
    assert "Excision with fascial repair" in outcomes and "<svg" in outcomes
    assert "1 patient, 1 paired" in outcomes

    confirm = c.get(f"/patients/{pid}/delete")
    assert confirm.status_code == 200 and "Delete Maria Example?" in confirm.text
    version = re.search(r'name="version" value="(\d+)"', confirm.text).group(1)
    assert post(f"/patients/{pid}/delete", version=version) == "/patients?deleted=1"
    assert c.get(f"/patients/{pid}").status_code == 404
    assert "were deleted" in c.get("/patients?deleted=1").text
    assert "delete" in {e.action for e in store.audit.events(patient_id=pid)}


BAD_FORMS = [
    ("/patients", {}, "display_name", "total"),
    ("/patients", {"display_name": "A", "birth_date": "1999-02-30"}, "birth_date", "total"),
    ("/patients", {"display_name": "A", "sex": "x"}, "sex", "total"),
    ("/patients/{pid}/lesions", {"label": ""}, "label", "lesions"),
    ("/patients/{pid}/lesions", {"label": "kept label", "x": "left"}, "x", "lesions"),
    ("/patients/{pid}/lesions", {"label": "kept label", "size_cm": "500"}, "size_cm",
     "lesions"),
    ("/patients/{pid}/lesions", {"label": "kept label", "region": "knee"}, "region", "lesions"),
    ("/patients/{pid}/procedures", {"kind": "diagnostic_injection", "lesion_id": "{lid}",
                                    "performed_on": ago(1), "pain_before": "8"},
     "pain_after", "procedures"),
    ("/patients/{pid}/procedures", {"kind": "dry_needling", "performed_on": ago(1),
                                    "pain_before": "ten"}, "pain_before", "procedures"),
    ("/patients/{pid}/procedures", {"kind": "excision", "performed_on": ago(1)}, "lesion_id",
     "procedures"),
    ("/patients/{pid}/outcomes", {"measured_on": ago(1)}, "pain", "outcomes"),
    ("/patients/{pid}/outcomes", {"measured_on": ago(1), "odi": "150"}, "odi", "outcomes"),
    ("/patients/{pid}/outcomes", {"measured_on": "2999-01-01", "pain": "2"}, "measured_on",
     "outcomes"),
    ("/patients/{pid}/encounters", {"occurred_on": ago(1)}, "lesions", "encounters"),
    ("/patients/{pid}/encounters", {"occurred_on": ago(1), "lesions": "{lid}",
                                    "lesion-{lid}.size_cm": "-3"},
     "lesion-{lid}.size_cm", "encounters"),
    ("/patients/{pid}/encounters", {"occurred_on": "2999-01-01", "lesions": "{lid}"},
     "occurred_on", "encounters"),
    ("/patients/{pid}/encounters", {"occurred_on": ago(1), "lesions": "{lid}",
                                    "patient.age_years": "old"},
     "patient.age_years", "encounters"),
]


@SQLITE
@pytest.mark.parametrize(("path", "data", "field", "count"), BAD_FORMS)
def test_bad_form_input_is_refused_on_the_same_page(login_as, store, path, data, field, count):
    c, csrf = _form_client(login_as, "clinician")
    actor = make_user(store, "counter")
    pid = store.patients.create(actor, {"display_name": "P"}).id
    lid = store.patients.add_lesion(actor, pid, {"label": "L"}).id

    def fill(text: str) -> str:
        return text.replace("{pid}", str(pid)).replace("{lid}", str(lid))

    def counts():
        t = store.visits.timeline(actor, pid)
        return {"total": store.patients.search(actor)[1], "lesions": len(t.lesions),
                "procedures": len(t.procedures), "outcomes": len(t.outcomes),
                "encounters": len(t.encounters)}

    before = counts()
    answer = c.post(fill(path), data={"csrf_token": csrf,
                                      **{fill(k): fill(v) for k, v in data.items()}})
    assert answer.status_code == 422, answer.text[:2000]
    assert _error_field(answer.text) == fill(field)
    assert "Not saved." in answer.text
    assert answer.headers["link"].startswith("</api/v1/")  # the same page, with its twin
    assert counts() == before
    if data.get("label") == "kept label":  # what was typed is put back
        assert 'value="kept label"' in answer.text


@SQLITE
def test_a_refused_lesion_edit_keeps_what_was_typed_and_names_fields_by_label(login_as, store):
    c, csrf = _form_client(login_as, "clinician")
    actor = make_user(store, "editor")
    pid = store.patients.create(actor, {"display_name": "P"}).id
    other = store.patients.add_lesion(actor, pid, {"label": "other", "region": "buttock"})
    le = store.patients.add_lesion(actor, pid, {"label": "L PSIS", "side": "left",
                                                "region": "posterior_superior_iliac_spine"})
    answer = c.post(f"/patients/{pid}/lesions/{le.id}", data={
        "csrf_token": csrf, "version": str(le.version), "action": "details", "label": "   ",
        "region": "iliac_crest", "side": "left", "nodule_count": "4",
        "region_was": "posterior_superior_iliac_spine", "side_was": "left"})
    assert answer.status_code == 422 and _error_field(answer.text) == "label"
    card = answer.text.split(f'id="lesion-{le.id}"', 1)[1].split("</article>", 1)[0]
    details = re.search(r'<details class="form-box"([^>]*)>', card).group(1)
    assert "open" in details  # the refused form is shown open, with what was posted
    assert re.search(rf'id="count-{le.id}"[^>]*value="4"', card)
    assert re.search(r'<option value="iliac_crest" selected>', card)
    assert '<option value="posterior_superior_iliac_spine" selected>' not in card
    assert f'href="#form-lesion-{le.id}"' in answer.text
    assert "Label: " in answer.text and "<code>label</code>" not in answer.text
    untouched = answer.text.split(f'id="lesion-{other.id}"', 1)[1].split("</article>", 1)[0]
    assert "open" not in re.search(r'<details class="form-box"([^>]*)>', untouched).group(1)
    assert store.patients.lesions(actor, pid)[1].nodule_count == 1  # nothing saved

    bad_count = c.post(f"/patients/{pid}/lesions/{le.id}", data={
        "csrf_token": csrf, "version": str(le.version), "action": "details", "label": "L2",
        "region": "iliac_crest", "side": "left", "nodule_count": "0",
        "region_was": "posterior_superior_iliac_spine", "side_was": "left"})
    assert bad_count.status_code == 422 and _error_field(bad_count.text) == "nodule_count"
    assert "Nodules: " in bad_count.text and "<code>nodule_count</code>" not in bad_count.text
    assert re.search(rf'id="label-{le.id}"[^>]*value="L2"', bad_count.text)


@SQLITE
def test_a_stored_visit_names_its_lesions_by_label(login_as, store, kb):
    c, _ = _form_client(login_as, "clinician")
    actor = make_user(store, "namer")
    pid = store.patients.create(actor, {"display_name": "P"}).id
    le = store.patients.add_lesion(actor, pid, {"label": "L PSIS", "side": "left",
                                                "region": "posterior_superior_iliac_spine"})
    other = store.patients.add_lesion(actor, pid, {"label": "R crest", "region": "buttock"})
    store.visits.add_procedure(actor, pid, {
        "lesion_id": le.id, "kind": "diagnostic_injection", "performed_on": ago(5),
        "pain_before": 8, "pain_after": 1, "minutes_after": 15})
    draft = draft_encounter(kb, store.visits.timeline(actor, pid), occurred_on=ago(3), note=None,
                            setting=None, patient_findings={},
                            lumps=[{"lesion_id": le.id, "findings": {"palpable_lump": True}},
                                   {"lesion_id": other.id, "findings": {"tender": True}}])
    eid = store.visits.record_encounter(actor, pid, draft).id
    stored = store.visits.get_encounter(actor, eid)
    assert f"Lump lesion-{le.id} (" in " ".join(stored.result_doc["notes"])  # stored as it was
    page = c.get(f"/encounters/{eid}").text
    assert f"Lump lesion-{le.id}" not in page
    assert "L PSIS (left posterior superior iliac spine): anaesthetic test pain 8 → 1" in page
    assert re.search(r'<h3 id="lr-1">L PSIS <span', page)
    assert "### L PSIS" in page and "_L PSIS (left" in page  # the note to copy
    assert f'href="#result-lesion-{le.id}">L PSIS</a>' in page
    assert re.search(r'<h3 id="lr-2">R crest <span', page)


@SQLITE
def test_an_injection_read_too_late_is_shown_as_not_used(login_as, store, kb):
    c, _ = _form_client(login_as, "clinician")
    actor = make_user(store, "late")
    pid = store.patients.create(actor, {"display_name": "P"}).id
    le = store.patients.add_lesion(actor, pid, {"label": "L PSIS"})
    store.visits.add_procedure(actor, pid, {
        "lesion_id": le.id, "kind": "diagnostic_injection", "performed_on": ago(5),
        "pain_before": 8, "pain_after": 1, "minutes_after": 90})
    page = c.get(f"/patients/{pid}").text
    assert "8 → 1 (88% relief), 90 min after (not used: read more than 60 minutes after)" \
        in page
    assert "(not used as the injection test: read more than 60 minutes after)" in page
    draft = draft_encounter(kb, store.visits.timeline(actor, pid), occurred_on=ago(3),
                            note=None, setting=None, patient_findings={},
                            lumps=[{"lesion_id": le.id, "findings": {"palpable_lump": True}}])
    assert "anesthetic_injection_relief" not in draft.result_doc["lumps"][0]["findings"]
    assert any("later than the 60 minutes" in n for n in draft.result_doc["notes"])
    store.visits.add_procedure(actor, pid, {  # read in time: used, and says nothing more
        "lesion_id": le.id, "kind": "diagnostic_injection", "performed_on": ago(4),
        "pain_before": 7, "pain_after": 1, "minutes_after": 30})
    page = c.get(f"/patients/{pid}").text
    assert "pain 7 → 1 (86% relief), 30 min after</" in page or \
        "pain 7 → 1 (86% relief), 30 min after;" in page


@SQLITE
def test_a_stale_version_is_a_clear_conflict(login_as, store):
    c, csrf = _form_client(login_as, "clinician")
    actor = make_user(store, "other")
    pid = store.patients.create(actor, {"display_name": "Olu"}).id
    store.patients.update(actor, pid, version=1, data={"notes": "theirs"})
    late = c.post(f"/patients/{pid}", data={"csrf_token": csrf, "version": "1",
                                            "display_name": "Olu", "notes": "mine"})
    assert late.status_code == 409
    assert "changed by someone else" in late.text and "Reload the page" in late.text
    assert store.patients.get(actor, pid).notes == "theirs"
    gone = c.post(f"/patients/{pid}/delete", data={"csrf_token": csrf, "version": "1"})
    assert gone.status_code == 409 and "Not deleted" in gone.text
    assert store.patients.get(actor, pid).display_name == "Olu"


@SQLITE
def test_a_form_without_its_csrf_token_is_refused(login_as, store):
    c, csrf = _form_client(login_as, "clinician")
    forged = c.post("/patients", data={"display_name": "Forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "csrf" in forged.text.lower()
    wrong = c.post("/patients", data={"display_name": "Forged", "csrf_token": "x" * 40},
                   follow_redirects=False)
    assert wrong.status_code == 403
    assert store.patients.search(make_user(store, "look"))[1] == 0
    made = c.post("/patients", data={"display_name": "Real", "csrf_token": csrf},
                  follow_redirects=False)
    assert made.status_code == 303


@SQLITE
def test_the_patient_list_pages_by_fifty(login_as, store):
    c, _ = _form_client(login_as, "clinician")
    actor = make_user(store, "bulk")
    for i in range(51):
        store.patients.create(actor, {"display_name": f"Patient {i:02d}"})
    first = c.get("/patients").text
    assert "Showing 1–50 of 51 patients" in first and first.count("<tr>") == 51  # + header
    assert 'href="/patients?page=2"' in first
    second = c.get("/patients?page=2").text
    assert "Showing 51–51 of 51" in second and second.count("<tr>") == 2
    bad = c.get("/patients?birth_date=31.12.1960")
    assert bad.status_code == 422 and _error_field(bad.text) == "birth_date"


@SQLITE
def test_admins_manage_users_tokens_and_read_the_audit_log(login_as, store, client):
    admin, csrf = _form_client(login_as, "admin", username="boss")
    boss = next(u for u in store.accounts.list_users() if u.username == "boss")

    def post(url, **data):
        return admin.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)

    short = post("/admin/users", username="newdoc", password="short", roles="clinician")
    assert short.status_code == 422 and _error_field(short.text) == "password"
    assert 'value="newdoc"' in short.text and "short" not in re.findall(
        r'name="password"[^>]*>', short.text)[0]
    assert post("/admin/users", username="newdoc", password="a long enough password",
                roles=["clinician", "reviewer"]).status_code == 303
    doc = next(u for u in store.accounts.list_users() if u.username == "newdoc")
    assert doc.roles == ("clinician", "reviewer")
    assert post(f"/admin/users/{doc.id}", action="roles", roles="clinician").status_code == 303
    made = post(f"/admin/users/{doc.id}/tokens", name="export script")
    assert made.status_code == 303 and "bm_" not in made.headers["location"]
    other_admin = login_as("admin", username="boss2")  # the handle alone reveals nothing
    assert 'id="new-token"' not in other_admin.get(made.headers["location"]).text
    head = admin.head(made.headers["location"])  # HEAD must not use up the one showing
    assert head.status_code == 200 and head.content == b""
    shown = admin.get(made.headers["location"])
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    secret = re.search(r'id="new-token"[^>]*value="(bm_[^"]+)"', shown.text).group(1)
    again = admin.get(made.headers["location"])  # a reload: shown once, no second token
    assert secret not in again.text and "already been shown" in again.text
    assert len(store.accounts.list_tokens(user_id=doc.id)) == 1
    assert client.get("/api/v1/patients",
                      headers={"authorization": f"Bearer {secret}"}).status_code == 200
    assert secret not in admin.get("/admin/users").text  # shown once only
    token = store.accounts.list_tokens(user_id=doc.id)[0]
    assert post(f"/admin/tokens/{token.id}/revoke").status_code == 303
    assert client.get("/api/v1/patients",
                      headers={"authorization": f"Bearer {secret}"}).status_code == 401
    assert post(f"/admin/users/{doc.id}", action="disable").status_code == 303
    assert not store.accounts.get_user(doc.id).active
    assert "Enable newdoc" in admin.get("/admin/users").text
    myself = post(f"/admin/users/{boss.id}", action="roles", roles="clinician")
    assert myself.status_code == 409 and _error_field(myself.text) == "roles"  # as the API
    assert store.accounts.get_user(boss.id).roles == ("admin",)

    clinician = make_user(store, "carer")
    pid = store.patients.create(clinician, {"display_name": "Audited"}).id
    log = admin.get(f"/admin/audit?patient_id={pid}")
    assert log.status_code == 200 and log.headers["link"] == (
        f'</api/v1/audit?patient_id={pid}>; rel="alternate"; type="application/json"')
    assert "carer" in log.text and f"patient:{pid}" in log.text
    assert "user change" not in log.text  # filtered to the patient
    assert "user change" in admin.get("/admin/audit").text
    bad = admin.get("/admin/audit?patient_id=abc")
    assert bad.status_code == 422 and _error_field(bad.text) == "patient_id"


def test_a_handed_off_value_expires_and_is_bound_to_its_owner():
    handoff = OneTimeHandoff(lifetime=60)
    handle = handoff.put(1, "secret")
    assert handoff.take(2, handle) is None and handoff.take(1, handle) == "secret"
    assert handoff.take(1, handle) is None
    stale = OneTimeHandoff(lifetime=-1)
    assert stale.take(1, stale.put(1, "late")) is None
    peeked = handoff.put(1, "again")
    assert handoff.peek(2, peeked) is None and handoff.peek(1, peeked) == "again"
    assert handoff.take(1, peeked) == "again" and handoff.peek(1, peeked) is None
