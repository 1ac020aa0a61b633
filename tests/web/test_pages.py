"""The HTML pages: each renders, names its JSON twin, carries the disclaimer; the feedback forms
work without JavaScript (the interview's pages: test_interview_pages.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import log_in

from backmice.kb.schema import Review
from backmice.render.condition_page import condition_markdown, review_note
from backmice.testing import TEST_PASSWORD

PAGES = {
    "/": "/api/v1/kb",
    "/clinician": "/api/v1/kb/findings",
    "/interview": "/api/v1/interview/step",
    "/conditions": "/api/v1/kb/conditions",
    "/conditions/episacral_lipoma": "/api/v1/kb/conditions/episacral_lipoma",
    "/conditions/liposarcoma": "/api/v1/kb/conditions/liposarcoma",
    "/about": "/api/v1/kb",
    "/knowledge-base": "/api/v1/kb/citations",
    "/reviewer": "/api/v1/feedback?status=open",
}


@pytest.mark.parametrize(("path", "twin"), PAGES.items())
def test_page_renders_with_twin_and_disclaimer(login_as, kb, path, twin):
    client = login_as("clinician", "reviewer", "admin")  # public pages work logged in too
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["link"] == f'<{twin}>; rel="alternate"; type="application/json"'
    assert client.get(twin).status_code == 200  # a twin is fetched with GET
    html = response.text
    assert '<meta name="viewport"' in html and 'lang="en"' in html
    assert "does not replace" in html or "not a diagnosis" in html
    assert "content-security-policy" in response.headers


def test_every_condition_has_a_page(client, kb):
    index = client.get("/conditions").text
    for cid in kb.conditions:
        assert f'href="/conditions/{cid}"' in index
        html = client.get(f"/conditions/{cid}").text
        assert "not yet reviewed by a clinician" in html and "Medically reviewed" not in html
        assert "Was this page helpful?" in html and "Report an inaccuracy" in html
        twin = client.get(f"/api/v1/kb/conditions/{cid}").json()
        assert html.count('<li id="ref-') == len(twin["references"])


def test_knowledge_base_page_lists_every_source(client, kb):
    html = client.get("/knowledge-base").text
    assert kb.version in html
    for cid in kb.citations:
        assert f'id="{cid}"' in html


def test_html_errors_are_pages_without_traces(client):
    response = client.get("/conditions/nope", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "<h1>404" in response.text and "Traceback" not in response.text


def test_every_form_control_is_labelled(client):
    for path in ("/clinician", "/conditions/lipoma"):
        html = client.get(path).text
        ids = re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html)
        assert ids, path
        for control in ids:
            assert f'for="{control}"' in html, f"{path}: #{control} has no label"
    interview = client.post("/interview", data={"action": "start"}).text  # the first question
    assert re.findall(r'<label class="option"><input type="radio"', interview)


def test_clinician_fragment_shows_red_flags_and_the_note(client):
    doc = {"patient": {"age_years": 61},
           "lumps": [{"id": "a", "findings": {"location": "iliac_crest", "tender": True}},
                     {"id": "b", "findings": {"size_cm": 8, "depth": "deep_to_fascia"}}]}
    html = client.post("/clinician/result", content=json.dumps(doc)).text
    assert "RED FLAG" in html and 'role="alert"' in html
    assert "Lump a" in html and "Lump b" in html
    assert "<meter" in html and "Other / none of these" in html
    assert 'id="note-text"' in html and "## Back lump assessment" in html
    bad = client.post("/clinician/result", content=b'{"lumps": [{"findings": {"size_cm": -1}}]}')
    assert bad.status_code == 422 and "lumps.0.findings.size_cm" in bad.text


def test_clinician_fragment_speaks_in_labels_not_rule_code(client):
    doc = {"patient": {"age_years": 15},
           "lumps": [{"id": "b", "findings": {"location": "buttock", "laterality": "left",
                                               "size_cm": 8, "depth": "deep_to_fascia"}}]}
    html = client.post("/clinician/result", content=json.dumps(doc)).text
    # the red-flag rules as words, escaped once (no JSON escapes, no double escaping)
    assert "Rule: <span class=\"rule\">Size ≥ 5 cm</span>" in html
    assert "Age &lt; 18 years and" in html
    for raw in ("\\u003e", "size_cm &gt;", "&amp;lt;", "&amp;gt;", "&amp;ge;", "&#34;size_cm"):
        assert raw not in html, raw
    # "Still to ask" and the findings entered use the knowledge base's labels
    still = re.search(r"Still to ask \(safety\): ([^<]+)</p>", html).group(1)
    assert "Saddle numbness" in still and "History of cancer" in still
    assert "_" not in still and "saddle anaesthesia" not in still
    assert "<dt>Size:</dt> <dd>8 cm</dd>" in html
    assert "<dt>Depth:</dt> <dd>deep to the fascia</dd>" in html
    # the note in the page says the same, in Markdown escaped once for the textarea
    note = re.search(r'<textarea id="note-text"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert "(rule: Size ≥ 5 cm; " in note and "Age &lt; 18 years" in note
    assert "size cm" not in note and "age years" not in note and "&amp;" not in note


def test_clinician_page_has_region_buttons_a_jump_link_and_a_polite_status(client):
    html = client.get("/clinician").text
    buttons = re.findall(r'<button type="button" class="region-button" data-region="([a-z_]+)" '
                         r'data-side="([a-z]+)">', html)
    regions = set(re.findall(r'data-location="([a-z_]+)" data-side="([a-z]+)"', html))
    assert set(buttons) == regions and len(buttons) == len(regions) == 18
    assert buttons[0] == ("posterior_superior_iliac_spine", "left")  # the key site first
    assert 'id="jump-result"' in html and 'href="#result-panel"' in html
    assert re.search(r'<p id="result-status"[^>]*role="status" aria-live="polite"', html)
    assert not re.search(r'<div id="result"[^>]*aria-live', html)  # no re-reading of it all


def test_feedback_forms_and_reviewer_page(client, login_as):
    response = client.post("/conditions/lipoma/feedback",
                           data={"kind": "inaccuracy", "text": "Reference 2 is a broken link",
                                 "contact": ""}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/conditions/lipoma?thanks=inaccuracy#feedback"
    thanks = client.get(response.headers["location"]).text
    assert "Thank you" in thanks
    client.post("/conditions/lipoma/feedback", data={"kind": "helpful", "helpful": "yes"})
    reviewer = login_as("reviewer")
    del reviewer.headers["x-csrf-token"]  # a browser form: the token travels in the form
    review = reviewer.get("/reviewer").text
    assert "Reference 2 is a broken link" in review
    row = review[review.index("Reference 2 is a broken link"):]
    fid = re.search(r'action="/reviewer/feedback/(\d+)"', row).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', row).group(1)
    forged = reviewer.post(f"/reviewer/feedback/{fid}", data={"status": "resolved"},
                           follow_redirects=False)
    assert forged.status_code == 403 and "csrf_failed" in forged.text
    done = reviewer.post(f"/reviewer/feedback/{fid}",
                         data={"status": "resolved", "back": "open", "csrf_token": csrf},
                         follow_redirects=False)
    assert done.status_code == 303
    assert "Reference 2 is a broken link" in reviewer.get("/reviewer?status=resolved").text
    bad = client.post("/conditions/lipoma/feedback", data={"kind": "inaccuracy", "text": ""},
                      headers={"accept": "text/html"})
    assert bad.status_code == 422 and "text" in bad.text


def test_reviewer_page_asks_for_a_login(remote_client, login_as):
    page = remote_client.get("/reviewer", headers={"accept": "text/html"})
    assert page.status_code == 401 and 'action="/login"' in page.text
    assert 'name="next" value="/reviewer"' in page.text
    wrong = login_as("clinician").get("/reviewer", headers={"accept": "text/html"})
    assert wrong.status_code == 403


@pytest.mark.parametrize("url", ["/clinician", "/interview", "/conditions",
                                 "/conditions/episacral_lipoma", "/about", "/clinician/result"])
def test_no_page_shows_a_bare_citation_marker(client, url):
    """KB prose cites sources as [R40]; on a page every such marker is a link (the result
    panel: a back mouse, whose treatments' texts cite the trials)."""
    if url == "/clinician/result":
        example = Path(__file__).parents[2] / "examples" / "back_mouse.json"
        page = client.post(url, content=example.read_bytes(),
                           headers={"content-type": "application/json"}).text
        assert "Treatment options" in page
    else:
        page = client.get(url).text
    outside_links = re.sub(r"<a\b[^>]*>.*?</a>", "", page, flags=re.S)
    assert not re.findall(r"\[R\d+\]", outside_links)


# --- navigation by role ----------------------------------------------------------------------
# What each visitor's header offers, written out here (not read from the code under test).
NAV_BY_ROLE = {
    (): ["/interview", "/conditions", "/about"],
    ("clinician",): ["/clinician", "/patients", "/clinic/outcomes", "/clinic/worklist",
                     "/knowledge-base", "/account/password"],
    ("reviewer",): ["/reviewer", "/knowledge-base", "/account/password"],
    ("admin",): ["/knowledge-base", "/admin/users", "/admin/audit", "/account/password"],
    ("clinician", "reviewer", "admin"): ["/clinician", "/patients", "/clinic/outcomes",
                                         "/clinic/worklist", "/reviewer", "/knowledge-base",
                                         "/admin/users", "/admin/audit", "/account/password"],
}


def _header_navs(html: str) -> list[list[str]]:
    """The links of each main navigation in the page header (staff get a wide one and a
    phone menu with the same links)."""
    header = re.search(r'<header class="site-header.*?</header>', html, re.S).group(0)
    navs = re.findall(r'<nav aria-label="Main"[^>]*>(.*?)</nav>', header, re.S)
    return [re.findall(r'<a href="([^"]+)"', nav) for nav in navs]


@pytest.mark.parametrize("roles", list(NAV_BY_ROLE), ids=lambda r: "+".join(r) or "anonymous")
def test_each_role_sees_exactly_its_links_and_none_answers_403(client, login_as, roles):
    visitor = login_as(*roles) if roles else client
    expected = NAV_BY_ROLE[roles]
    pages = ["/", "/conditions/lipoma", "/about", *expected]
    for path in pages:
        response = visitor.get(path, headers={"accept": "text/html"})
        assert response.status_code == 200, path
        navs = _header_navs(response.text)
        assert navs and all(links == expected for links in navs), (path, navs)
        footer = response.text[response.text.index('<footer'):]
        if roles:
            assert "Log out" in response.text and "Staff sign-in" not in footer
        else:
            assert 'href="/login" class="staff-sign-in">Staff sign-in</a>' in footer
            assert "Log out" not in response.text and len(navs) == 1
    for path in expected:  # every link opens for this visitor: no 401, no 403
        assert visitor.get(path, headers={"accept": "text/html"}).status_code == 200, path


def test_the_current_page_is_marked_in_the_nav(client, login_as):
    html = client.get("/conditions/lipoma").text
    assert '<a href="/conditions" aria-current="page">Conditions</a>' in html
    assert html.count('aria-current="page"') == 1
    staff = login_as("clinician").get("/patients").text
    assert staff.count('<a href="/patients" aria-current="page">Patients</a>') == 2


@pytest.mark.parametrize(("roles", "start"), [
    (("clinician",), "/patients"), (("reviewer",), "/reviewer"), (("admin",), "/admin/users"),
    (("reviewer", "admin"), "/reviewer")])
def test_each_role_lands_on_its_own_start_page(web_app, store, roles, start):

    name = "land-" + "-".join(roles)
    store.accounts.create_user(username=name, password=TEST_PASSWORD, roles=roles)
    with TestClient(web_app) as visitor:
        answer = log_in(visitor, name)
        assert answer.status_code == 303 and answer.headers["location"] == start
        assert visitor.get(start, headers={"accept": "text/html"}).status_code == 200


# --- honest review wording -------------------------------------------------------------------
def test_review_wording_claims_medical_review_only_when_a_clinician_reviewed(kb):

    team = Review(reviewed_by="backmice core team", reviewed_on=dt.date(2026, 11, 24),
                  last_modified=dt.date(2026, 12, 7))
    note = review_note(team, authors="backmice core team")
    assert note == ("Written by backmice core team; not yet reviewed by a clinician. "
                    "Last checked on 2026-11-24.")
    doctor = team.model_copy(update={"reviewed_by": "Dr A. Example", "by_clinician": True})
    assert review_note(doctor, authors="backmice core team") == (
        "Medically reviewed by Dr A. Example on 2026-11-24.")
    # the knowledge base as shipped has had no clinical review: no page may claim one
    for cid, condition in kb.conditions.items():
        assert not condition.review.by_clinician, cid
        text = condition_markdown(kb, cid)
        assert "not yet reviewed by a clinician" in text and "Medically reviewed" not in text


def test_about_and_knowledge_base_pages_say_what_review_happened(client):
    for path in ("/about", "/knowledge-base"):
        html = client.get(path).text
        assert "not yet reviewed by a clinician" in html, path
        assert "Medically reviewed" not in html and "Reviewed by backmice" not in html, path
    twin = client.get("/api/v1/kb/conditions/lipoma").json()
    assert twin["review"]["by_clinician"] is False
    assert "not yet reviewed by a clinician" in twin["review_note"]


# --- "Was this page helpful?  No" asks what was wrong ----------------------------------------
def test_no_asks_what_was_wrong_and_keeps_it_with_the_answer(client, store, login_as):
    page = client.get("/conditions/lipoma").text
    form = page[page.index('<details class="helpful-no"'):page.index("</details>",
                                                                     page.index("helpful-no"))]
    assert "<summary>No</summary>" in form
    assert re.findall(r'name="reason" value="([a-z_]+)"', form) == [
        "hard_to_understand", "not_my_problem", "worried_me", "wrong_or_out_of_date"]
    assert '<label for="fb-no-text">' in form and 'maxlength="1000"' in form
    sent = client.post("/conditions/lipoma/feedback",
                       data={"kind": "helpful", "helpful": "no",
                             "reason": ["worried_me", "hard_to_understand"],
                             "text": "  The treatment part is unclear. "},
                       follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/conditions/lipoma?thanks=helpful#feedback"
    saved = store.list_feedback()[0]
    assert saved.kind == "helpful" and saved.helpful is False
    assert saved.text == ("What was wrong: hard to understand; it worried me\n"
                          "The treatment part is unclear.")
    bare = client.post("/conditions/lipoma/feedback",
                       data={"kind": "helpful", "helpful": "no"}, follow_redirects=False)
    assert bare.status_code == 303 and store.list_feedback()[0].text is None
    review = login_as("reviewer").get("/reviewer").text
    assert "What was wrong: hard to understand; it worried me" in review


def test_no_follow_up_refuses_bad_input_on_the_same_page(client, store):
    unknown = client.post("/conditions/lipoma/feedback",
                          data={"kind": "helpful", "helpful": "no",
                                "reason": ["worried_me", "moon"], "text": "kept"})
    assert unknown.status_code == 422
    html = unknown.text
    assert '<details class="helpful-no" id="helpful-no" open>' in html
    assert re.search(r'id="fb-reason-error" role="alert">Please tick only the reasons listed', html)
    assert 'value="worried_me" checked' in html and ">kept</textarea>" in html
    long = client.post("/conditions/lipoma/feedback",
                       data={"kind": "helpful", "helpful": "no", "text": "x" * 1001})
    assert long.status_code == 422
    assert "Please shorten your comment to 1000 characters or fewer (it has 1001 now)" in long.text
    assert 'aria-invalid="true" aria-describedby="fb-no-text-error"' in long.text
    with_yes = client.post("/conditions/lipoma/feedback",
                           data={"kind": "helpful", "helpful": "yes", "reason": "worried_me"},
                           headers={"accept": "text/html"})
    assert with_yes.status_code == 422 and "reason" in with_yes.text
    too_long_report = client.post("/conditions/lipoma/feedback",
                                  data={"kind": "inaccuracy", "text": "y" * 5001})
    assert too_long_report.status_code == 422
    assert "Please shorten your report to 5000 characters" in too_long_report.text
    assert store.list_feedback() == []  # nothing half-written
