"""A reviewer's findings on the clinician side: stored assessments show their next questions as a
plain list (no answer buttons without a script to use them), the provisional triage is marked
for the phone bar, identifiers in reference lists link to doi.org and PubMed (and no library
proxy address is given), every error body has one compact encoding, a 405 names every method
its path answers, and a lump with 0 nodules is refused naming the field."""

from __future__ import annotations

import datetime as dt
import html as htmlib
import json
import re

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import log_in

from backmice.findings import FINDINGS, Kind, Scope
from backmice.testing import make_user
from backmice.web.recording import draft_encounter

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# a lump that leaves red-flag questions open: a provisional triage and several next questions
DOC = {"setting": "primary_care", "patient": {"age_years": 50},
       "lumps": [{"id": "lump-1", "findings": {"location": "posterior_superior_iliac_spine",
                                                "laterality": "left", "palpable_lump": True}}]}
QUESTIONS = re.compile(r'<ul class="questions">(.*?)</ul>', re.S)


def _questions(page: str) -> str:
    found = QUESTIONS.search(page)
    assert found, "no next questions shown"
    return found.group(1)


@SQLITE
def test_the_live_fragment_keeps_its_answer_buttons_and_a_focus_target(client):
    html = client.post("/clinician/result", content=json.dumps(DOC)).text
    listed = _questions(html)
    assert 'class="answer"' in listed
    # each question is a focus target that answers nothing (tabindex -1, not a button)
    items = re.findall(r"<li class=\"question[^\"]*\"([^>]*)>", listed)
    assert items and all('tabindex="-1"' in attrs for attrs in items)


@SQLITE
def test_a_shared_assessment_lists_its_questions_without_dead_buttons(client):
    saved = client.post("/api/v1/assessments", json=DOC)
    assert saved.status_code in (200, 201), saved.text
    page = client.get(f"/a/{saved.json()['share_id']}").text
    listed = _questions(page)
    main = page.split('<main', 1)[1].split("</main>", 1)[0]
    # the only buttons are the chart note's Copy and Print, which the page's script handles
    buttons = re.findall(r"<button[^>]*>", main)
    assert len(buttons) == 2 and all("copy-chart-note" in b or "print-assessment" in b
                                     for b in buttons), buttons
    assert '<script src="/static/assessment.js"' in page
    assert "answer-buttons" not in page and 'tabindex="-1"' not in listed
    fragment = client.post("/clinician/result", content=json.dumps(DOC)).text
    asked = [htmlib.unescape(q) for q in re.findall(r'<span class="question-text">(.*?)</span>',
                                                    _questions(fragment))]
    assert asked
    for question in asked:  # the same questions, as text
        assert question in htmlib.unescape(listed)


@SQLITE
def test_an_encounter_page_lists_its_questions_without_buttons(web_app, store, kb):
    owner = make_user(store, "owner", ("clinician",))
    patient = store.patients.create(owner, {"display_name": "Seeded Patient"})
    lesion = store.patients.add_lesion(owner, patient.id, {"label": "left PSIS"})
    timeline = store.visits.timeline(owner, patient.id)
    draft = draft_encounter(kb, timeline, occurred_on=dt.date.today().isoformat(), note=None,
                            setting=None, patient_findings={}, lumps=[{"lesion_id": lesion.id}])
    encounter = store.visits.record_encounter(owner, patient.id, draft)
    with TestClient(web_app) as c:
        assert log_in(c, "owner").status_code == 303
        page = c.get(f"/encounters/{encounter.id}")
        assert page.status_code == 200
        _questions(page.text)
        assert 'class="answer"' not in page.text and "answer-buttons" not in page.text


@SQLITE
def test_a_provisional_triage_is_marked_for_the_phone_bar(client):
    assessed = client.post("/api/v1/assess", json=DOC).json()
    assert assessed["triage"]["provisional"] is True
    html = client.post("/clinician/result", content=json.dumps(DOC)).text
    assert 'data-triage-provisional="1"' in html
    settled = json.loads(json.dumps(DOC))
    for q in assessed["triage"]["unanswered_red_flag_questions"]:
        spec = FINDINGS[q]
        value = {Kind.BOOLEAN: False, Kind.CATEGORY: spec.values[0] if spec.values else None,
                 Kind.NUMBER: 2, Kind.COUNT: 1}[spec.kind]
        where = settled["patient"] if spec.scope is Scope.PATIENT else \
            settled["lumps"][0]["findings"]
        where[q] = value
    calm = client.post("/clinician/result", content=json.dumps(settled))
    assert calm.status_code == 200, calm.text
    assert "data-triage-provisional" not in calm.text


@SQLITE
def test_reference_identifiers_link_to_doi_org_and_pubmed(client, kb):
    for path in ("/conditions/episacral_lipoma", "/knowledge-base"):
        page = client.get(path).text
        dois = re.findall(r'doi:<a href="https://doi\.org/([^"]+)" rel="noopener">([^<]+)</a>',
                          page)
        pmids = re.findall(r'PMID <a href="https://pubmed\.ncbi\.nlm\.nih\.gov/(\d+)/" '
                           r'rel="noopener">(\d+)</a>', page)
        assert dois and pmids, path
        assert all(htmlib.unescape(a) == htmlib.unescape(b) for a, b in dois + pmids)
        assert not re.search(r"doi:\s*10\.", page), "a DOI shown without a link"
        assert not re.search(r"PMID \d", page), "a PMID shown without a link"
    page = client.get("/knowledge-base").text
    for cid, c in kb.citations.items():
        item = page[page.index(f'<li id="{cid}">'):]
        item = item[:item.index("</li>")]
        if c.doi:
            assert f'href="https://doi.org/{htmlib.escape(c.doi)}"' in item, cid
        if c.pmid:
            assert f'href="https://pubmed.ncbi.nlm.nih.gov/{c.pmid}/"' in item, cid


def test_no_source_links_to_a_library_proxy(kb):
    for cid, c in kb.citations.items():
        assert not (c.url and re.search(r"://[^/]*:\d+/|ezproxy|libproxy|bibliotheek", c.url)), \
            (cid, c.url)
    assert kb.citations["R92"].link is None  # only a proxy address was ever recorded for it


@SQLITE
@pytest.mark.parametrize("kind", ["413", "415", "422", "404", "405"])
def test_every_error_body_has_the_same_compact_encoding(client, kind):
    answer = {
        "413": lambda: client.post("/api/v1/assess", content=b"{" + b" " * 3_000_000 + b"}",
                                   headers={"content-type": "application/json"}),
        "415": lambda: client.post("/api/v1/assess", content=b"{}",
                                   headers={"content-type": "text/plain"}),
        "422": lambda: client.post("/api/v1/assess", json={"findings": {"size_cm": -1}}),
        "404": lambda: client.get("/api/v1/kb/conditions/no_such_thing"),
        "405": lambda: client.delete("/api/v1/assess"),
    }[kind]()
    assert answer.status_code == int(kind), answer.text
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["status"] == int(kind)
    compact = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert answer.content == compact


@SQLITE
@pytest.mark.parametrize(("method", "path", "allow"), [
    ("delete", "/api/v1/interview/step", "GET, HEAD, POST"),
    ("put", "/interview", "GET, HEAD, POST"),
    ("delete", "/conditions/lipoma", "GET, HEAD"),
    ("post", "/api/v1/kb/conditions", "GET, HEAD"),
    ("get", "/api/v1/assess", "POST"),
    ("head", "/api/v1/assess", "POST"),
])
def test_a_405_names_every_method_the_path_answers(client, method, path, allow):
    answer = client.request(method.upper(), path)
    assert answer.status_code == 405, answer.text
    assert answer.headers["allow"] == allow
    for other in allow.split(", "):  # and each method named is answered (not 405)
        if other != method.upper():
            assert client.request(other, path).status_code != 405, (other, path)


@SQLITE
@pytest.mark.parametrize("doc", [
    {"lumps": [{"id": "a", "findings": {"palpable_lump": True, "nodule_count": 0}}]},
    {"lumps": [{"id": "a", "findings": {"nodule_count": 0}}]},
    {"findings": {"palpable_lump": True, "nodule_count": 0}},
], ids=["native", "native-unsaid", "case-format"])
def test_a_lump_with_0_nodules_is_refused_naming_the_field(client, doc):
    err = client.post("/api/v1/assess", json=doc).json()["error"]
    assert err["status"] == 422
    field = "lumps.0.findings.nodule_count" if "lumps" in doc else "findings.nodule_count"
    assert err["field"] == field
    assert "a whole number of 1 or more, or many" in err["message"]
    page = client.post("/clinician/result", content=json.dumps(doc))
    assert page.status_code == 422
    assert f'data-error-field="{field}"' in page.text
    assert "a whole number of 1 or more, or many" in page.text


@SQLITE
def test_counts_of_1_or_many_and_no_lump_with_0_still_assess(client):
    for count in (1, 2, "many"):
        doc = {"lumps": [{"id": "a", "findings": {"palpable_lump": True, "nodule_count": count}}]}
        assert client.post("/api/v1/assess", json=doc).status_code == 200, count
    # the case format's "no lump felt" (as in the development set) keeps its 0
    no_lump = {"findings": {"palpable_lump": False, "nodule_count": 0, "pain": True}}
    assert client.post("/api/v1/assess", json=no_lump).status_code == 200
