"""The HTML pages: each renders, names its JSON twin, carries the disclaimer; the interview and
feedback forms work without JavaScript."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

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
    for cid, condition in kb.conditions.items():
        assert f'href="/conditions/{cid}"' in index
        html = client.get(f"/conditions/{cid}").text
        assert condition.review.reviewed_by in html
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
    interview = client.get("/interview").text
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


def _form_state(html: str) -> str:
    match = re.search(r'name="state" value="([^"]*)"', html)
    assert match
    return match.group(1).replace("&#34;", '"').replace("&quot;", '"')


def _question(html: str) -> str:
    return re.search(r'name="finding" value="([^"]+)"', html).group(1)


def test_interview_pages_without_javascript(client):
    html = client.get("/interview").text
    assert "Question 1" in html and "I don't know" in html
    first = _question(html)
    html = client.post("/interview", data={"state": _form_state(html), "finding": first,
                                           "value": "false", "action": "answer"}).text
    assert "Question 2" in html
    back = client.post("/interview", data={"state": _form_state(html), "action": "back"}).text
    assert "Question 1" in back and _question(back) == first
    dont = client.post("/interview", data={"state": _form_state(back), "finding": first,
                                           "action": "dont_know"}).text
    assert "Question 2" in dont and _question(dont) != first


def test_interview_reaches_a_result_with_urgency(client):
    html = client.get("/interview").text
    for _ in range(45):
        if "What we found" in html:
            break
        finding = _question(html)
        options = re.findall(r'name="value" value="([^"]+)"', html)
        value = "false" if "false" in options else (options[0] if options else "40")
        html = client.post("/interview", data={"state": _form_state(html), "finding": finding,
                                               "value": value, "action": "answer"}).text
    assert "What we found" in html
    assert "How soon to be seen" in html
    assert "only an examination" in html.lower()
    assert "not a diagnosis" in html
    assert 'href="/conditions/' in html


def _post(client, html: str, **data):
    return client.post("/interview", data={"state": _form_state(html), **data})


def _answer_until(client, finding: str, answers: dict[str, str] | None = None) -> str:
    """Answer "no" (or the first option, or ``answers``) until ``finding`` is asked."""
    html = client.get("/interview").text
    for _ in range(45):
        asked = _question(html)
        if asked == finding:
            return html
        options = re.findall(r'name="value" value="([^"]+)"', html)
        value = (answers or {}).get(asked) or ("false" if "false" in options else
                                                (options[0] if options else "2"))
        html = _post(client, html, finding=asked, value=value, action="answer").text
    raise AssertionError(f"{finding} was never asked")


def _alert(html: str) -> str:
    match = re.search(r'<section class="interview-alert[^"]*"[^>]*>.*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_interview_emergency_answer_warns_at_once(client, kb):
    empty = json.dumps({"answers": {}, "dont_know": [], "order": []})
    html = client.post("/interview", data={
        "state": empty, "finding": "bladder_or_bowel_dysfunction", "value": "true",
        "action": "answer"}).text
    assert "Question 2" in html  # the patient may carry on...
    box = _alert(html)  # ...but the alert comes first, before the next question
    assert box and html.index(box) < html.index('class="question-text"')
    assert 'role="alert"' in box and "Get emergency help now" in box
    assert "emergency department" in box and "cauda equina" in box
    assert 'value="finish"' in box and "See my result now" in box
    assert 'href="#question-form"' in box and 'id="question-form"' in html
    # the next page keeps the alert while the red flag stands
    nxt = _post(client, html, finding=_question(html), value="false", action="answer").text
    assert "Get emergency help now" in _alert(nxt)
    # the JSON twin says the same
    step = client.post("/api/v1/interview/step",
                       json={"answers": {"bladder_or_bowel_dysfunction": True}}).json()
    assert step["triage"]["level"] == "emergency" and step["alert"]["urgent"]


def test_same_day_red_flag_gets_an_alert_and_a_two_week_flag_a_calm_note(client):
    state = json.dumps({"answers": {"neurological_deficit": True}, "dont_know": [],
                        "order": ["neurological_deficit"]})
    html = client.post("/interview", data={"state": state, "action": "continue"}).text
    assert 'role="alert"' in _alert(html) and "See a doctor today" in _alert(html)
    state = json.dumps({"answers": {"size_cm": 7}, "dont_know": [], "order": ["size_cm"]})
    html = client.post("/interview", data={"state": state, "action": "continue"}).text
    assert 'role="status"' in _alert(html) and "within two weeks" in _alert(html)
    assert 'role="alert"' not in _alert(html)
    assert "Get emergency help" not in html.split('class="question-text"')[0]


def test_dont_know_to_an_emergency_question_gets_a_note_at_once(client):
    state = json.dumps({"answers": {}, "dont_know": ["bladder_or_bowel_dysfunction"],
                        "order": ["bladder_or_bowel_dysfunction"]})
    note = _alert(client.post("/interview", data={"state": state, "action": "continue"}).text)
    assert 'role="status"' in note and "Talk to a doctor soon" in note
    assert "Not ruled out, because you answered" in note
    assert "Loss of bladder or bowel control" in note and "Why: because" not in note


def test_emergency_result_leads_with_the_red_flag(client, kb):
    html = client.post("/interview", data={
        "state": json.dumps({"answers": {"bladder_or_bowel_dysfunction": True},
                             "dont_know": [], "order": ["bladder_or_bowel_dysfunction"]}),
        "action": "finish"}).text
    assert "What we found" in html and "How soon to be seen: Emergency" in html
    why = html.index("Why: a warning sign")
    assert why < html.index("About the lump itself")
    assert "cauda equina" in html[why:html.index("About the lump itself")].lower()
    assert 'href="/conditions/cauda_equina_syndrome"' in html
    assert "numb it with a small injection" not in html  # the routine lump advice is not shown
    assert "after you have been checked" in html
    assert "only an examination" in html.lower() and "not a diagnosis" in html
    assert "You stopped before the end" in html and 'value="continue"' in html
    summary = html[html.index('id="answers"'):]
    assert kb.findings["bladder_or_bowel_dysfunction"].question.patient in summary
    assert "<td>Yes</td>" in summary


def test_dont_know_to_every_question_is_not_a_routine_all_clear(client, kb):
    html = client.get("/interview").text
    for _ in range(60):
        if "What we found" in html:
            break
        html = _post(client, html, finding=_question(html), action="dont_know").text
    assert "What we found" in html
    banner = html[html.index("triage-banner"):html.index("</section>")]
    assert "Soon, within a few days" in banner and "Routine" not in banner
    section = html[html.index('id="nro"'):]
    assert "Warning signs we could not rule out" in html
    cauda = next(f for f in kb.red_flags if f.id == "cauda_equina")
    assert cauda.patient_message in section
    assert "not the same as &#34;no&#34;" in section or 'not the same as "no"' in section
    summary = html[html.index('id="answers"'):]
    assert summary.count("<td>I don&#39;t know</td>") >= 10
    step = client.post("/api/v1/interview/step",
                       json={"dont_know": list(json.loads(_form_state(html))["dont_know"])})
    body = step.json()
    assert body["done"] and body["triage"]["provisional"]
    assert "bladder_or_bowel_dysfunction" in body["triage"]["unknown_red_flag_questions"]
    assert body["patient_advice"]["level"] == "soon"
    assert body["patient_advice"]["raised_from"] == body["triage"]["level"] == "routine"


def test_warning_signs_list_every_red_flag(client, kb):
    for html in (client.get("/interview").text,
                 client.post("/interview", data={"state": "{}", "action": "finish"}).text):
        for flag in kb.red_flags:
            assert flag.patient_message.replace("&", "&amp;") in html, flag.id
    assert "Redness that is spreading fast" in client.get("/interview").text


def test_location_options_are_plain_words(client):
    html = _answer_until(client, "location")
    assert "dimples at the top of the buttocks (PSIS)</label>" in html
    assert "natal cleft" not in html
    for jargon in ("over the sacroiliac joint",
                   "at the PSIS (the dimple at the top of the buttock)"):
        assert f"> {jargon}</label>" not in html  # the clinician's wording is not shown


def test_interview_rejects_a_bad_answer_in_plain_words(client):
    html = _answer_until(client, "size_cm")
    again = _post(client, html, finding="size_cm", value="perhaps", action="answer")
    assert again.status_code == 422 and _question(again.text) == "size_cm"
    assert "Please type a number from 0 to 100" in again.text
    assert "null" not in again.text and "allowed are" not in again.text
    where = _answer_until(client, "location")
    choice = _post(client, where, finding="location", value="moon", action="answer")
    assert choice.status_code == 422 and "Please choose one of the answers" in choice.text


def test_damaged_state_gets_an_html_page_with_a_restart(client):
    for headers in ({}, {"accept": "text/html"}, {"accept": "*/*"}):
        broken = client.post("/interview", data={"state": "{not json", "action": "answer"},
                             headers=headers)
        assert broken.status_code == 422
        assert broken.headers["content-type"].startswith("text/html")
        assert 'href="/interview"' in broken.text and "Start the questions again" in broken.text
        assert "not a diagnosis" in broken.text
    odd = client.post("/interview", data={"state": "{}", "finding": "nope", "value": "1"})
    assert odd.status_code == 422 and "Start the questions again" in odd.text
    api = client.post("/interview", data={"state": "[1]", "action": "back"},
                      headers={"accept": "application/json"})
    assert api.status_code == 422 and api.json()["error"]["field"] == "state"


def test_patient_can_stop_early_and_carry_on(client):
    html = client.get("/interview").text
    first = _question(html)
    html = _post(client, html, finding=first, value="false", action="answer").text
    assert 'value="finish"' in html  # offered once there is an answer
    result = _post(client, html, action="finish").text
    assert "What we found" in result and "You stopped before the end" in result
    assert "Warning signs we could not rule out" in result
    again = _post(client, result, action="continue").text
    assert "Question 2" in again


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
