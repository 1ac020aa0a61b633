"""One patient urgency across the interview's alert, its result page and the step API;
stopping early told apart from "I don't know"; capitalised options; the feedback form keeps
what was typed."""

from __future__ import annotations

import html as html_lib
import re

from backmice.render.patient import ALERT_HEADINGS

from .test_interview_pages import PLACE, alert_box, give, post, screen, start

# The reviewer's path: No to every safety question but "I don't know" to both parts of the
# bladder one, then soft, then growing slowly (in whatever order the interview asks them).
ANSWERS = {"location": PLACE, "bladder_or_bowel_dysfunction#0": None,
           "bladder_or_bowel_dysfunction#1": None, "consistency": "soft", "growth": "slow"}
SAFETY_NO = ("spreading_redness", "saddle_anaesthesia", "neurological_deficit",
             "systemically_unwell", "fever", "bilateral_leg_symptoms")


def _walk(client) -> str:
    """Answer until the growth answer is given; every other question gets "No"."""
    html = start(client)
    for _ in range(20):
        finding = screen(html)
        html = give(client, html, finding, ANSWERS.get(finding, "false"))
        if finding == "growth":
            return html
    raise AssertionError("the interview never asked about growth")


def _banner(html: str) -> str:
    match = re.search(r'<section class="triage-banner.*?</section>', html, re.S)
    assert match
    return html_lib.unescape(match.group(0))


def test_alert_and_result_give_the_same_urgency(client, kb):
    html = _walk(client)
    alert = html_lib.unescape(alert_box(html))
    assert alert, "the growth answer fires a red flag"
    assert "See a doctor within a few days" in alert.split("</h2>")[0]
    assert "within 2 weeks" not in alert.split("</h2>")[0]  # not the heading any more
    assert "You said the lump has been getting bigger, slowly, over months." in alert
    # the sign left open by "I don't know" is named in the alert
    cauda = next(f for f in kb.red_flags if f.id == "cauda_equina")
    assert cauda.patient_message in alert and "I don't know" in alert
    result = post(client, html, action="finish").text
    assert "See a doctor within a few days" in _banner(result)


def _api_walk(client) -> dict:
    answers = {**dict.fromkeys(SAFETY_NO, False), "consistency": "soft", "growth": "slow"}
    return client.post("/api/v1/interview/step",
                       json={"answers": answers,
                             "dont_know": ["bladder_or_bowel_dysfunction"]}).json()


def test_api_has_one_patient_urgency(client, kb):
    step = _api_walk(client)
    advice = step["patient_advice"]
    assert advice["level"] == "soon" and advice["raised_from"] == "urgent_2_weeks"
    assert step["alert"]["level"] == advice["level"]
    assert step["alert"]["heading"] == ALERT_HEADINGS[advice["level"]]
    assert step["alert"]["advice"] == advice["text"]
    assert [s["id"] for s in step["alert"]["open_signs"]] == ["cauda_equina"]
    # the engine's triage stays the clinician rule result, but never tells a patient less
    assert step["triage"]["level"] == "urgent_2_weeks"
    assert step["triage"]["advice_patient"] == advice["text"]
    assert step["assessment"]["triage"]["advice_patient"] == advice["text"]
    assert all(lump["triage"]["advice_patient"] == advice["text"]
               for lump in step["assessment"]["lumps"])


def test_routine_triage_never_advises_a_routine_booking_when_raised(client, kb):
    step = client.post("/api/v1/interview/step",
                       json={"answers": {"pain": True}, "finish": True}).json()
    assert step["triage"]["level"] == "routine"
    assert step["patient_advice"]["level"] == "soon"
    assert step["triage"]["advice_patient"] == step["patient_advice"]["text"]
    assert kb.texts.triage["routine"].patient not in str(step)


def test_openapi_says_which_urgency_a_patient_app_shows(client):
    props = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["InterviewStepOut"][
        "properties"]
    assert "clinicians" in props["triage"]["description"]
    assert "show patient_advice" in props["triage"]["description"]
    assert "apps must show it" in props["patient_advice"]["description"]


def test_same_day_alert_matches_its_reasons(client, kb):
    step = client.post("/api/v1/interview/step",
                       json={"answers": {"age_years": 15, "growth": "slow"},
                             "finish": True}).json()
    alert = step["alert"]
    assert alert["heading"] == "See a doctor today"
    same_day = [s for s in alert["signs"] if s["urgency"] == "urgent_same_day"]
    assert same_day and all("today" in s["message"] for s in same_day)
    assert not any("two days" in s["message"] or "tomorrow" in s["message"]
                   for s in alert["signs"])


def test_stopping_early_is_not_called_dont_know(client):
    html = give(client, start(client), "location", PLACE)
    html = give(client, html, screen(html), "false")
    banner = _banner(post(client, html, action="finish").text)
    assert "not asked because you stopped early" in banner
    assert "I don't know" not in banner
    api = client.post("/api/v1/interview/step",
                      json={"answers": {"spreading_redness": False}, "finish": True}).json()
    assert api["triage"]["unanswered_red_flag_questions"]
    assert api["triage"]["unknown_red_flag_questions"] == []
    assert "don't know" not in api["triage"]["reason"]
    assert "I don't know" not in api["patient_advice"]["reason"]
    assert all(s["questions"] for s in api["not_ruled_out"])  # the questions still to answer


def test_stopping_after_a_dont_know_names_both(client):
    api = client.post("/api/v1/interview/step",
                      json={"dont_know": ["spreading_redness"], "finish": True}).json()
    reason = api["patient_advice"]["reason"]
    assert "I don't know" in reason and "stopped early" in reason
    assert api["triage"]["unknown_red_flag_questions"] == ["spreading_redness"]


def test_patient_options_are_capitalised(client):
    step = client.post("/api/v1/interview/step",
                       json={"answers": {**dict.fromkeys(SAFETY_NO, False),
                                         "bladder_or_bowel_dysfunction": False,
                                         "consistency": "soft"}}).json()
    assert step["question"]["finding"] == "growth"
    labels = [o["label"] for o in step["question"]["options"]]
    assert "No, same size" in labels
    assert all(label[:1].isupper() for label in labels)
    html = _walk_to_growth(client)
    assert "No, same size" in html and "no, same size" not in html


def _walk_to_growth(client) -> str:
    """Answer the safety questions (No; "I don't know" to the bladder one) and "soft", in
    whatever order the interview asks them, until it asks about growth."""
    answers = {**ANSWERS, "growth": "stable"}
    html = start(client)
    for _ in range(20):
        finding = screen(html)
        if finding == "growth":
            return html
        html = give(client, html, finding, answers.get(finding, "false"))
    raise AssertionError("the interview never asked about growth")


def test_blank_inaccuracy_report_keeps_what_was_typed(client, store):
    before = store.count_feedback()
    response = client.post("/conditions/lipoma/feedback",
                           data={"kind": "inaccuracy", "text": "   ",
                                 "contact": "me@example.org"},
                           headers={"accept": "text/html"})
    assert response.status_code == 422
    page = response.text
    assert "Please write what is wrong or missing" in page
    assert 'value="me@example.org"' in page
    assert '<details class="report" id="report" open>' in page
    assert 'aria-invalid="true"' in page
    assert "Lipoma" in page  # the condition page itself, not a generic error page
    assert store.count_feedback() == before
    # the same form with text is saved as before
    ok = client.post("/conditions/lipoma/feedback",
                     data={"kind": "inaccuracy", "text": "typo", "contact": "me@example.org"},
                     follow_redirects=False)
    assert ok.status_code == 303 and store.count_feedback() == before + 1
