"""Every GET route, taken from the app itself so a new one cannot be left out, also answers HEAD
with the same status and headers and no body; every page names a JSON twin that a GET fetches,
but for the pages listed in NO_TWIN with the reason."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from starlette.routing import Mount, Route

from backmice.testing import make_user
from backmice.web.recording import draft_encounter

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r'<([^>]+)>; rel="alternate"; type="application/json"')
NO_TWIN = {"/login": "a form that trades a password for a session cookie; it shows no data"}
VARYING = {"set-cookie"}  # the login form sets a fresh one-time cookie on every answer


def get_routes(app):
    """(path, is_page) for every route that answers GET, routers included, static files aside."""
    for route in app.routes:
        inner = getattr(route, "original_router", None)
        for r in (inner.routes if inner is not None else [route]):
            if isinstance(r, Mount) or "GET" not in (getattr(r, "methods", None) or ()):
                continue
            assert isinstance(r, Route)
            # the API, FHIR and CDS Hooks answer JSON themselves: no HTML page, no twin
            page = not r.path.startswith(("/api/", "/fhir", "/cds-services"))
            yield r.path, page


def _seed(client, store, kb) -> dict[str, str]:
    """A saved assessment, and a patient with a lesion and a visit in the caller's clinic."""
    owner = make_user(store, "owner", ("clinician",))
    patient = store.patients.create(owner, {"display_name": "Head Patient"})
    lesion = store.patients.add_lesion(owner, patient.id, {"label": "left PSIS"})
    timeline = store.visits.timeline(owner, patient.id)
    draft = draft_encounter(kb, timeline, occurred_on=dt.date.today().isoformat(), note=None,
                            setting=None, patient_findings={}, lumps=[{"lesion_id": lesion.id}])
    encounter = store.visits.record_encounter(owner, patient.id, draft)
    saved = client.post("/api/v1/assessments",
                        content=(ROOT / "examples" / "back_mouse.json").read_bytes())
    assert saved.status_code == 201, saved.text
    return {"condition_id": "episacral_lipoma", "share_id": saved.json()["share_id"],
            "patient_id": str(patient.id), "encounter_id": str(encounter.id),
            "qid": "backmice-interview", "kind": "encounters", "item_id": str(encounter.id)}


def _url(path: str, ids: dict[str, str]) -> str:
    names = re.findall(r"{(\w+)}", path)
    missing = [n for n in names if n not in ids]
    assert not missing, f"add a sample value for {missing} ({path})"
    return path.format(**ids)


@SQLITE
def test_every_get_route_answers_head_like_get(web_app, store, kb, login_as):
    me = login_as("clinician", "reviewer", "admin")
    ids = _seed(me, store, kb)
    routes = sorted(get_routes(web_app))
    assert len(routes) > 30 and any(page for _, page in routes)  # the walk found the app
    for path, page in routes:
        url = _url(path, ids)
        got, head = me.get(url), me.head(url)
        assert got.status_code == 200, (url, got.text[:300])
        assert head.status_code == 200, url
        assert head.content == b"", url
        same = {k: v for k, v in got.headers.items() if k not in VARYING}
        assert {k: v for k, v in head.headers.items() if k not in VARYING} == same, url
        if not page:
            continue
        if path in NO_TWIN:
            assert "link" not in head.headers, f"{path} has a twin now: drop it from NO_TWIN"
            continue
        match = LINK.fullmatch(head.headers.get("link", ""))
        assert match, f"page {path} names no JSON twin in a Link header"
        twin = me.get(match.group(1))
        assert twin.status_code == 200, (path, match.group(1), twin.text[:300])
        assert twin.headers["content-type"].startswith("application/json")
        assert me.head(match.group(1)).status_code == 200


@SQLITE
def test_head_works_for_static_files_and_anonymous_pages(client):
    assert client.head("/static/app.css").status_code == 200
    head = client.head("/conditions/lipoma")
    assert head.status_code == 200 and head.content == b""
    assert LINK.fullmatch(head.headers["link"]).group(1) == "/api/v1/kb/conditions/lipoma"
    assert int(head.headers["content-length"]) == len(client.get("/conditions/lipoma").content)
    # a route without GET still refuses HEAD, naming what it takes
    refused = client.head("/api/v1/assess")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"


@SQLITE
def test_the_interview_twin_is_its_first_step_by_get(client):
    page = client.get("/interview")
    twin = LINK.fullmatch(page.headers["link"]).group(1)
    first = client.get(twin)
    assert first.status_code == 200
    assert first.json() == client.post("/api/v1/interview/step", json={}).json()
    finding = first.json()["question"]["finding"]
    # the page starts with a start screen, then asks the place on the body picture, then the
    # same first question (a two-part one in its first part)
    state = '{"answers": {"location": "buttock", "laterality": "left"}, "order": ["location"]}'
    asked = client.post("/interview", data={"state": state, "action": "continue"}).text
    assert re.search(rf'name="finding" value="{finding}(#0)?"', asked)
    clinician = client.get(twin, params={"audience": "clinician"}).json()
    assert clinician == client.post("/api/v1/interview/step",
                                    json={"audience": "clinician"}).json()
    bad = client.get(twin, params={"setting": "moon"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "setting"
