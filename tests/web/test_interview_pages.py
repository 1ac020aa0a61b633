"""The patient interview pages, as a worried patient on a phone uses them, without JavaScript:
a start screen; the place of the lump first, on a body picture with patient words; the emergency
questions right after it, one thing per screen; alerts that quote the answers that fired them,
with a tap-to-call button; "Back" keeping the answer; a summary where any answer can be changed;
plain urgency words on the result."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from fastapi.testclient import TestClient

from backmice.config import Settings
from backmice.errors import InputError
from backmice.render.patient_interview import PLACES, place_label
from backmice.web.app import create_app

PLACE = "posterior_superior_iliac_spine:left"
JARGON = ("PSIS", "sacroiliac", "Sacroiliac", "fascia", "iliac", "natal cleft", "sacrum",
          "thoracolumbar", "paraspinal")


# --- helpers (also used by test_interview_consistency.py) -----------------------------------
def form_state(html: str) -> str:
    match = re.search(r'name="state" value="([^"]*)"', html)
    assert match
    return html_lib.unescape(match.group(1))


def screen(html: str) -> str:
    """The key of the screen shown: a finding, ``location`` or ``<finding>#<part>``."""
    match = re.search(r'name="finding" value="([^"]+)"', html)
    assert match, "no question on this page"
    return match.group(1)


def post(client, html: str, **data):
    return client.post("/interview", data={"state": form_state(html), **data})


def start(client) -> str:
    return client.post("/interview", data={"action": "start"}).text


def alert_box(html: str) -> str:
    match = re.search(r'<section class="interview-alert[^"]*"[^>]*>.*?</section>', html, re.S)
    return match.group(0) if match else ""


def text_of(html: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def selected(html: str) -> list[str]:
    return re.findall(r'name="value" value="([^"]+)"[^>]*\schecked', html)


TYPICAL_NUMBERS = {"age_years": "45", "duration_weeks": "8", "size_cm": "2", "nodule_count": "1"}


def usual_answer(html: str) -> str:
    """"No", else the first option, else a typical number."""
    options = re.findall(r'name="value" value="([^"]+)"', html)
    if options:
        return "false" if "false" in options else options[0]
    return TYPICAL_NUMBERS.get(screen(html), "2")


def answer_until(client, key: str, answers: dict[str, str | None] | None = None) -> str:
    """From the start: the place, then "no" (or the first option, or ``answers``; None is
    "I don't know") until screen ``key`` is shown."""
    answers = {"location": PLACE, **(answers or {})}
    html = start(client)
    for _ in range(45):
        asked = screen(html)
        if asked == key:
            return html
        html = give(client, html, asked, answers.get(asked, usual_answer(html)))
    raise AssertionError(f"{key} was never asked")


def give(client, html: str, key: str, value: str | None) -> str:
    if value is None:
        return post(client, html, finding=key, action="dont_know").text
    return post(client, html, finding=key, value=value, action="answer").text


def walk_to_summary(client, answers: dict[str, str | None] | None = None) -> str:
    answers = {"location": PLACE, **(answers or {})}
    html = start(client)
    for _ in range(45):
        if "Check your answers" in html:
            return html
        asked = screen(html)
        html = give(client, html, asked, answers.get(asked, usual_answer(html)))
    raise AssertionError("the summary was never reached")


# --- 1. the start screen ----------------------------------------------------------------------
def test_start_screen_says_who_what_not_and_how_long(client, kb):
    html = client.get("/interview").text
    words = text_of(html)
    assert "Adults with a lump" in words and "lower back, the buttock or the hip" in words
    assert "It is not a diagnosis" in words
    assert "Not for emergencies" in words and "Call 999 now" in words
    assert 'href="tel:999"' in html
    for flag in kb.red_flags:
        if flag.urgency.value == "emergency":
            assert flag.patient_message in words
    assert "About 5 minutes" in words
    assert re.search(r'<button type="submit" name="action" value="start"[^>]*>Start</button>',
                     html)
    assert 'name="finding"' not in html  # no question before "Start"
    assert screen(start(client)) == "location"


# --- 2. the place first, on a picture, in patient words ---------------------------------------
def test_the_place_is_asked_first_on_a_picture_with_patient_words(client):
    html = start(client)
    assert screen(html) == "location" and "Where is the lump?" in html
    picture = re.search(r'<figure class="patient-map" inert>(.*?)</figure>', html, re.S)
    assert picture and 'class="region"' in picture.group(1)
    regions = set(re.findall(r'class="region"[^>]*data-location="([a-z_]+)" data-side="([a-z]+)"',
                             picture.group(1)))
    radios = re.findall(r'<label class="option"><input type="radio" name="value" value="([^"]+)" '
                        r'data-location="([a-z_]+)" data-side="([a-z]*)"', html)
    listed = {(loc, side) for _, loc, side in radios}
    assert regions <= listed  # every region of the picture has its radio button
    assert set(PLACES) <= listed and ("other", "") in listed
    labels = re.findall(r'data-side="[a-z]*" required[^>]*> ([^<]+)</label>', html)
    assert len(labels) == len(PLACES) + 1
    assert "Left dimple above the buttock" in labels and "Tailbone area" in " ".join(labels)
    for label in labels:
        assert not any(j in label for j in JARGON), label
    assert not any(j in text_of(html.split("<figure")[0]) for j in JARGON)
    assert '<script src="/static/interview.js" defer></script>' in html


def test_tapping_a_place_answers_place_and_side(client):
    html = post(client, start(client), finding="location", value="buttock:right",
                action="answer").text
    state = json.loads(form_state(html))
    assert state["answers"]["location"] == "buttock" and state["answers"]["laterality"] == "right"
    assert state["order"] == ["location"]
    other = post(client, start(client), finding="location", value="other", action="answer").text
    assert json.loads(form_state(other))["answers"] == {"location": "other"}
    bad = post(client, start(client), finding="location", value="moon:left", action="answer")
    assert bad.status_code == 422 and screen(bad.text) == "location"
    assert "Please choose one of the answers" in bad.text


# --- 3. the emergency question right after the place, one thing per screen --------------------
def test_emergency_questions_follow_the_place_one_thing_per_screen(client):
    html = post(client, start(client), finding="location", value=PLACE, action="answer").text
    assert screen(html) == "spreading_redness#0"
    assert "Is redness spreading quickly around the lump?" in html
    assert " or " not in re.search(r'<h1 class="question-text">(.*?)</h1>', html).group(1)
    html = give(client, html, "spreading_redness#0", "false")
    assert screen(html) == "spreading_redness#1"
    assert "Is the pain much worse than the lump looks?" in html
    html = give(client, html, "spreading_redness#1", "false")
    assert screen(html) == "bladder_or_bowel_dysfunction#0"
    state = json.loads(form_state(html))
    assert state["answers"]["spreading_redness"] is False  # "no" to both parts is "no"


def test_yes_to_one_part_fires_the_flag_and_quotes_that_part_only(client, kb):
    html = post(client, start(client), finding="location", value=PLACE, action="answer").text
    html = give(client, html, "spreading_redness#0", "true")
    box = alert_box(html)
    assert 'role="alert"' in box and "Call 999 now" in box
    words = text_of(box)
    assert "You said redness is spreading quickly around the lump." in words
    assert "much worse than the lump looks" not in words  # not reported: never named
    assert screen(html) == "bladder_or_bowel_dysfunction#0"  # the other part is not needed
    assert json.loads(form_state(html))["answers"]["spreading_redness"] is True


def test_dont_know_to_one_part_leaves_the_sign_open(client):
    html = post(client, start(client), finding="location", value=PLACE, action="answer").text
    html = give(client, html, "spreading_redness#0", None)
    html = give(client, html, "spreading_redness#1", "false")
    state = json.loads(form_state(html))
    assert "spreading_redness" in state["dont_know"]
    assert "spreading_redness" not in state["answers"]
    assert "Not ruled out, because you answered" in alert_box(html)


def test_the_depth_is_left_to_the_clinician(client, kb):
    html = walk_to_summary(client, {"consistency": "soft", "growth": "stable", "size_cm": "2",
                                    "mobile": "true"})
    assert "depth" not in json.loads(form_state(html))["order"]
    assert kb.findings["depth"].question.patient not in html
    result = post(client, html, action="result").text
    words = text_of(result)
    assert "For the clinician to check" in words and "how deep the lump lies" in words
    sarcoma_depth = next(f for f in kb.red_flags if f.id == "sarcoma_depth")
    assert sarcoma_depth.patient_message in words
    banner = text_of(re.search(r'<section class="triage-banner.*?</section>', result,
                               re.S).group(0))
    assert "within 2 weeks" not in banner  # depth alone does not send everyone in 2 weeks
    assert "I don't know" not in banner


# --- 4. alerts quote the answers that fired them ------------------------------------------------
def test_alert_quotes_the_answers_and_names_no_other_sign(client, kb):
    """The issue's case: "soft and squishy" and "growing quickly" fire the abscess rule; the
    alert says so in the patient's answers, not "a red, warm, sore or leaking lump"."""
    html = answer_until(client, "growth", {"consistency": "fluctuant"})
    html = give(client, html, "growth", "rapid")
    box = alert_box(html)
    words = text_of(box)
    assert "You said the lump feels soft and squishy" in words
    assert "the lump has been getting bigger, quickly, over days or weeks" in words
    for unreported in ("red", "warm", "leaking", "sore"):
        assert not re.search(rf"\b{unreported}\b", words), unreported
    assert "because of what you told us so far" not in html
    heading = re.search(r"<h2 id=\"alert-title\">(.*?)</h2>", box).group(1)
    assert heading == "See a doctor today" and words.count(heading) == 1  # said once
    abscess = next(f for f in kb.red_flags if f.id == "abscess_signs")
    assert abscess.patient_message not in words


def test_emergency_alert_has_a_tap_to_call_button(client):
    html = answer_until(client, "bladder_or_bowel_dysfunction#0")
    html = give(client, html, "bladder_or_bowel_dysfunction#0", "true")
    box = alert_box(html)
    assert html.index(box) < html.index('class="question-text"')  # above the next question
    assert re.search(r'<a class="button call-button" href="tel:999">Call 999</a>', box)
    assert "You said you have recently had trouble passing urine." in text_of(box)
    assert "emergency department" in box and 'value="finish"' in box
    result = post(client, html, action="finish").text
    banner = re.search(r'<section class="triage-banner.*?</section>', result, re.S).group(0)
    assert "Call 999 now" in banner and 'href="tel:999"' in banner
    assert "cauda equina" in result.lower()  # what it can mean stays on the result


def test_the_emergency_number_is_a_setting(kb, store, tmp_path):
    settings = Settings.load(data_dir=tmp_path, database_url="sqlite://",
                             environ={"BACKMICE_EMERGENCY_NUMBER": "911"})
    with TestClient(create_app(settings, kb=kb, store=store)) as other:
        assert 'href="tel:911"' in other.get("/interview").text
        state = json.dumps({"answers": {"bladder_or_bowel_dysfunction": True}, "dont_know": [],
                            "order": ["bladder_or_bowel_dysfunction"]})
        box = alert_box(other.post("/interview", data={"state": state,
                                                       "action": "continue"}).text)
        assert "Call 911 now" in box and 'href="tel:911"' in box and "999" not in box
    assert Settings.load(data_dir=tmp_path, environ={}).emergency_number == "999"
    for bad in ("", "9", "call me", "12345678901234567"):
        with pytest.raises(InputError) as err:
            Settings.load(data_dir=tmp_path, environ={"BACKMICE_EMERGENCY_NUMBER": bad})
        assert err.value.field == "BACKMICE_EMERGENCY_NUMBER"


# --- 5. Back keeps the answer; the summary changes any ----------------------------------------
def test_back_keeps_the_previous_answer_selected(client):
    html = post(client, start(client), finding="location", value="buttock:left",
                action="answer").text
    html = give(client, html, "spreading_redness#0", "false")
    back = post(client, html, action="back").text
    assert screen(back) == "spreading_redness#0" and selected(back) == ["false"]
    back = post(client, back, action="back").text
    assert screen(back) == "location" and selected(back) == ["buttock:left"]
    assert post(client, back, action="back").text.count('value="start"') == 1  # the start
    number = answer_until(client, "size_cm")
    number = give(client, number, "size_cm", "3.5")
    again = post(client, number, action="back").text
    assert screen(again) == "size_cm" and 'value="3.5"' in again
    unknown = give(client, answer_until(client, "fever"), "fever", None)
    assert "Your answer was \"I don't know\"." in post(client, unknown, action="back").text


def test_summary_lists_every_answer_with_a_change_button(client):
    html = walk_to_summary(client, {"consistency": "soft"})
    state = json.loads(form_state(html))
    changes = re.findall(r'name="finding" value="([^"]+)">\s*<button type="submit" '
                         r'name="action" value="change"', html)
    assert changes == state["order"] and len(changes) >= 10
    assert changes[:3] == ["location", "spreading_redness#0", "spreading_redness#1"]
    words = text_of(html)
    assert "Where is the lump? Left dimple above the buttock" in words
    assert "How does the lump feel when pressed? Soft, doughy" in words
    assert "See my result" in words


def test_changing_an_answer_keeps_the_others_and_returns_to_the_summary(client):
    html = walk_to_summary(client, {"consistency": "soft"})
    before = json.loads(form_state(html))
    change = post(client, html, finding="consistency", action="change").text
    assert screen(change) == "consistency" and selected(change) == ["soft"]
    assert "Changing an answer" in change and "Question " not in text_of(change).split("?")[0]
    assert 'value="back"' not in change  # "Back" here leads to the summary, unchanged
    unchanged = post(client, change, action="summary").text
    assert "Check your answers" in unchanged and form_state(unchanged) == form_state(html)
    after_html = give(client, change, "consistency", "firm_rubbery")
    after = json.loads(form_state(after_html))
    assert after["answers"]["consistency"] == "firm_rubbery"
    assert after["order"][:len(before["order"])] == before["order"]  # same place, same order
    kept = {k: v for k, v in before["answers"].items() if k != "consistency"}
    assert kept.items() <= after["answers"].items()
    # the flow runs on from the change: any question it now needs, then the summary again
    for _ in range(10):
        if "Check your answers" in after_html:
            break
        after_html = give(client, after_html, screen(after_html), usual_answer(after_html))
    assert "How does the lump feel when pressed? Firm and rubbery" in text_of(after_html)


def test_changing_a_part_to_yes_fires_the_flag_on_the_summary(client):
    html = walk_to_summary(client)
    change = post(client, html, finding="spreading_redness#0", action="change").text
    assert selected(change) == ["false"]
    summary = give(client, change, "spreading_redness#0", "true")
    assert "Check your answers" in summary
    box = alert_box(summary)
    assert "Call 999 now" in box and "redness is spreading quickly" in box
    result = post(client, summary, action="result").text
    assert "Call 999 now" in re.search(r'<section class="triage-banner.*?</section>', result,
                                       re.S).group(0)


# --- 6. the autofocused option is not chosen ----------------------------------------------------
def test_the_autofocused_first_option_is_not_checked(client):
    html = post(client, start(client), finding="location", value=PLACE, action="answer").text
    first = re.search(r'<label class="option"><input[^>]*></label>|<label class="option">'
                      r'<input[^>]*>', html).group(0)
    assert "autofocus" in first and "checked" not in first
    css = client.get("/static/app.css").text
    focus = re.search(r"\.interview \.option:focus-within \{([^}]*)\}", css).group(1)
    chosen = re.search(r"\.interview \.option:has\(input:checked\) \{([^}]*)\}", css).group(1)
    assert "background" in chosen and "background" not in focus
    assert "dashed" in focus and "dashed" not in chosen


# --- 7. plain urgency words on the result --------------------------------------------------------
@pytest.mark.parametrize(("answers", "heading"), [
    ({"bladder_or_bowel_dysfunction#0": "true"}, "Call 999 now"),
    ({"neurological_deficit": "true"}, "See a doctor today"),
    ({"size_cm": "7"}, "See a doctor within 2 weeks"),
])
def test_result_banner_uses_plain_words(client, answers, heading):
    result = post(client, walk_to_summary(client, answers), action="result").text
    banner = text_of(re.search(r'<section class="triage-banner.*?</section>', result,
                               re.S).group(0))
    assert heading in banner
    for jargon in ("routine", "Routine", "urgent_", "Urgent,", "Emergency", "self_care"):
        assert jargon not in banner, jargon


def test_a_routine_result_says_book_with_your_gp(client):
    result = post(client, walk_to_summary(client, {"consistency": "soft", "growth": "stable",
                                                   "mobile": "true", "size_cm": "2"}),
                  action="result").text
    banner = text_of(re.search(r'<section class="triage-banner.*?</section>', result,
                               re.S).group(0))
    assert "Book a routine appointment with your GP" in banner
    words = text_of(result)
    assert "could be one of these" in words and "not a diagnosis" in words
    assert not re.search(r"\b(you have (a|an)|definitely|certainly)\b", words.split(
        "Your answers")[0], re.I)


# --- carried over from the first interview: stop early, errors, warning signs -----------------
def test_patient_can_stop_early_and_carry_on(client):
    html = post(client, start(client), finding="location", value=PLACE, action="answer").text
    assert 'value="finish"' in html  # offered once there is an answer
    result = post(client, html, action="finish").text
    assert "What we found" in result and "You stopped before the end" in result
    assert "Warning signs we could not rule out" in result
    again = post(client, result, action="continue").text
    assert screen(again) == "spreading_redness#0" and "Question 2" in again


def test_interview_rejects_a_bad_answer_in_plain_words(client):
    html = answer_until(client, "size_cm")
    again = post(client, html, finding="size_cm", value="perhaps", action="answer")
    assert again.status_code == 422 and screen(again.text) == "size_cm"
    assert "Please type a number from 0 to 100" in again.text
    assert "null" not in again.text and "allowed are" not in again.text
    choice = post(client, answer_until(client, "consistency"), finding="consistency",
                  value="moon", action="answer")
    assert choice.status_code == 422 and "Please choose one of the answers" in choice.text


def test_damaged_state_gets_an_html_page_with_a_restart(client):
    for headers in ({}, {"accept": "text/html"}, {"accept": "*/*"}):
        broken = client.post("/interview", data={"state": "{not json", "action": "answer"},
                             headers=headers)
        assert broken.status_code == 422
        assert broken.headers["content-type"].startswith("text/html")
        assert 'href="/interview"' in broken.text and "Start the questions again" in broken.text
        assert "not a diagnosis" in broken.text
    for state, finding in (("{}", "nope"), ('{"order": ["fever#7"]}', "fever"),
                           ('{"parts": {"fever": {"0": true}}}', "fever"),
                           ('{"parts": {"spreading_redness": {"0": 5}}}', "fever"),
                           ('{"parts": {"spreading_redness": {"0": 1}}}', "fever")):
        odd = client.post("/interview", data={"state": state, "finding": finding, "value": "1"})
        assert odd.status_code == 422 and "Start the questions again" in odd.text, state
    api = client.post("/interview", data={"state": "[1]", "action": "back"},
                      headers={"accept": "application/json"})
    assert api.status_code == 422 and api.json()["error"]["field"] == "state"


def test_warning_signs_list_every_red_flag(client, kb):
    for html in (start(client),
                 client.post("/interview", data={"state": "{}", "action": "finish"}).text):
        for flag in kb.red_flags:
            assert flag.patient_message.replace("&", "&amp;") in html, flag.id
        assert "Call 999 now if you notice:" in html


def test_dont_know_to_every_question_is_not_an_all_clear(client, kb):
    html = start(client)
    for _ in range(60):
        if "Check your answers" in html:
            break
        html = give(client, html, screen(html), None)
    result = post(client, html, action="result").text
    banner = text_of(re.search(r'<section class="triage-banner.*?</section>', result,
                               re.S).group(0))
    assert "See a doctor within a few days" in banner and "routine" not in banner
    section = result[result.index('id="nro"'):]
    cauda = next(f for f in kb.red_flags if f.id == "cauda_equina")
    assert cauda.patient_message in section
    summary = result[result.index('id="answers"'):]
    assert summary.count("<td>I don&#39;t know</td>") >= 10


def test_place_labels_have_no_jargon():
    assert place_label("buttock", None) == "Buttock"  # a place without its side
    for location, side in PLACES:
        label = place_label(location, side)
        assert label[0].isupper() and not any(j in label for j in JARGON), label
        if side in ("left", "right"):
            assert side in label.lower()


def test_every_setting_is_documented_in_the_readme():
    from pathlib import Path

    import backmice.config as config

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    names = set(re.findall(r"BACKMICE_[A-Z_]+", Path(config.__file__).read_text()))
    assert "BACKMICE_EMERGENCY_NUMBER" in names
    assert not [n for n in sorted(names) if n not in readme]
