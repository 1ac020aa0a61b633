"""Fast entry in a real browser: the yes / no / unknown toggles (real radios: one Tab stop, the
arrow keys, a letter answers), the groups in examination order with the safety questions open,
the anatomical body map (one Tab stop, arrow keys between neighbouring regions, a live line
naming the region, Enter places a lump), the next questions styled as questions, the visit
form's toggles posting without JavaScript, and a typical back mouse entered from the keyboard
with its key presses counted (asserted) and its time measured (reported, never asserted).
Screenshots at 1366 and 390 px in test-artifacts/."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS

NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"
PATIENT_SAFETY = ("fever", "systemically_unwell", "immunocompromised_or_diabetic",
                  "history_of_cancer", "neurological_deficit", "bladder_or_bowel_dysfunction",
                  "saddle_anaesthesia", "bilateral_leg_symptoms")
LUMP_SAFETY = ("spreading_redness", "bleeding", "recent_procedure_here",
               "pain_increasing_after_procedure", "recurrent_after_excision")
LOOK = ("erythema", "warmth", "discharge", "punctum")
KEY_BUDGET = 25  # the aim: fewer than 25 key presses for a typical back mouse


class Keyboard:
    """The page's keyboard, counting every key press (each typed character is one)."""

    def __init__(self, page):
        self.page = page
        self.count = 0
        self.log: list[str] = []

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.count += 1
        self.log.append(key)

    def type(self, text: str) -> None:
        for ch in text:
            self.press(ch)


def _assessed(page) -> list[dict]:
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data))
            if r.url.endswith("/clinician/result") and r.method == "POST" else None)
    return sent


def _focused(page) -> str:
    """What has the keyboard focus: an id, a group's id, or a map region's key."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        const group = el.closest('choice-group');
        return group ? group.id : (el.dataset.key || el.id || el.tagName);
    }""")


def test_a_typical_back_mouse_from_the_keyboard(page, live_server, shot):
    """A 47-year-old woman, a tender 1.5 cm firm rubbery mobile nodule over the left PSIS for 6
    months, pressure reproduces the pain, pain 6 -> 1 after local anaesthetic, the skin normal and
    every safety question answered no: from a fresh page to the assessment, keyboard only."""
    sent = _assessed(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    keys = Keyboard(page)
    started = time.perf_counter()
    page.goto(f"{live_server}/clinician")
    expect(page.locator("#patient-age_years")).to_be_focused()  # the page starts at the age
    keys.type("47")
    keys.press("Tab")
    assert _focused(page) == "patient-sex"
    keys.press("f")  # female, and on to the map
    assert _focused(page) == "posterior_superior_iliac_spine:left"
    keys.press("Enter")  # a lump on the left PSIS; on to its first question
    assert _focused(page) == "lump-duration_weeks"
    keys.type("26")  # weeks
    keys.press("PageDown")  # Look: "Skin normal"
    expect(page.locator("#lump-look button.all-no")).to_be_focused()
    keys.press("Enter")
    keys.press("PageDown")
    assert _focused(page) == "lump-size_cm"  # Feel
    keys.type("1.5")
    keys.press("Tab")
    keys.press("f")  # firm and rubbery
    assert _focused(page) == "lump-mobile"
    keys.press("y")
    keys.press("y")  # tender
    keys.press("y")  # pressure reproduces the pain
    keys.press("PageDown")  # the safety questions: "No to every unanswered safety question"
    expect(page.locator("#lump-safety button.all-no")).to_be_focused()
    keys.press("Enter")
    keys.press("PageDown")  # the injection test
    assert _focused(page) == "inj-before"
    keys.type("6")
    keys.press("Tab")
    keys.type("1")
    expect(page.locator("#result .assessment > .note").first).to_contain_text("6 → 1")
    elapsed = time.perf_counter() - started

    page.wait_for_timeout(400)
    doc = sent[-1]
    patient, lump = doc["patient"], doc["lumps"][0]
    assert patient == {"age_years": 47, "sex": "female", **dict.fromkeys(PATIENT_SAFETY, False)}
    assert lump["findings"] == {
        "location": "posterior_superior_iliac_spine", "laterality": "left",
        "palpable_lump": True, "duration_weeks": 26, "size_cm": 1.5,
        "consistency": "firm_rubbery", "mobile": True, "tender": True,
        "pain_reproduced_by_pressure": True, **dict.fromkeys(LUMP_SAFETY + LOOK, False)}
    assert lump["later_tests"] == {"injection_pain_before": 6, "injection_pain_after": 1}
    expect(page.locator("#result .red-flag-banner")).to_have_count(0)
    assert keys.count < KEY_BUDGET, (keys.count, keys.log)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "entry-typical-back-mouse.json").write_text(json.dumps(
        {"key_presses": keys.count, "keys": keys.log, "seconds": round(elapsed, 2)}, indent=1))
    print(f"\ntypical back mouse: {keys.count} key presses, {elapsed:.1f} s (scripted run)")
    page.locator("#lump-feel").scroll_into_view_if_needed()
    shot(page, "entry-typical-1366")


def test_toggles_are_radio_groups_with_one_tab_stop(page, live_server, shot):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}/clinician")
    page.focus("#bodymap circle.psis[data-side='left']")
    page.keyboard.press("Enter")
    tender = page.locator("#lump-tender")
    expect(tender).to_have_attribute("role", "radiogroup")
    expect(page.get_by_role("radiogroup", name="Tender")).to_have_count(1)
    radios = tender.locator("input[type='radio']")
    expect(radios).to_have_count(3)
    expect(tender.locator("input:checked")).to_have_value("")  # unknown by default
    expect(tender.locator("label")).to_have_text(["yes", "no", "unknown"])
    # one Tab stop per group: from "Mobile" one Tab lands on "Tender", the next on the next group
    page.locator("#lump-mobile").focus()
    page.keyboard.press("Tab")
    assert _focused(page) == "lump-tender"
    page.keyboard.press("Tab")
    assert _focused(page) == "lump-pain_reproduced_by_pressure"
    # the arrow keys move within the group and answer; a letter answers and moves on
    page.locator("#lump-tender").focus()
    page.keyboard.press("ArrowLeft")  # from unknown (last) back to "no"
    expect(tender.locator("input:checked")).to_have_value("false")
    page.keyboard.press("ArrowLeft")
    expect(tender.locator("input:checked")).to_have_value("true")
    assert _focused(page) == "lump-tender"
    page.keyboard.press("u")
    expect(tender.locator("input:checked")).to_have_value("")
    assert _focused(page) == "lump-pain_reproduced_by_pressure"
    # a letter two answers share takes each in turn and stays in the group
    page.locator("#lump-consistency").focus()
    page.keyboard.press("s")
    expect(page.locator("#lump-consistency input:checked")).to_have_value("soft")
    page.keyboard.press("s")
    expect(page.locator("#lump-consistency input:checked")).to_have_value("fluctuant")
    assert _focused(page) == "lump-consistency"
    # the groups follow the examination, the safety questions open from the start
    sections = page.locator("#lump-form .exam-section > summary")
    expect(sections).to_have_text(["History", "Look", "Feel", "Safety questions",
                                   "Injection test and later tests"])
    for section in ("#lump-safety", "#patient-safety", "#lump-later_tests"):
        expect(page.locator(section)).to_have_attribute("open", "")
    # the "Go to" link reaches the injection test without tabbing through the form
    page.click(".section-jumps a[href='#lump-later_tests']")
    expect(page.locator("#inj-before")).to_be_focused()
    page.locator("#lump-form-title").scroll_into_view_if_needed()
    shot(page, "entry-toggles-1366")


def test_the_body_map_from_the_keyboard(page, live_server, shot):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}/clinician")
    regions = page.locator("#bodymap .region")
    keys = regions.evaluate_all("rs => rs.map(r => r.dataset.key)")
    assert len(keys) == len(set(keys)) == 18
    # every neighbour named exists; one region is the map's single Tab stop
    moves = regions.evaluate_all("""rs => rs.flatMap(r => ['left', 'right', 'up', 'down']
        .filter(w => r.dataset[w]).map(w => r.dataset[w]))""")
    assert set(moves) <= set(keys) and set(moves) == set(keys)
    expect(page.locator("#bodymap .region[tabindex='0']")).to_have_count(1)
    # Tab from the sex toggles enters the map once, on the left PSIS
    page.locator("#patient-sex").focus()
    page.keyboard.press("Tab")
    assert _focused(page) == "posterior_superior_iliac_spine:left"
    where = page.locator("#bodymap-where")
    expect(where).to_have_attribute("aria-live", "polite")
    expect(where).to_contain_text("left PSIS")
    page.keyboard.press("ArrowUp")
    assert _focused(page) == "lumbar_paraspinal:left"
    expect(where).to_contain_text("left lumbar paraspinal")
    page.keyboard.press("ArrowRight")
    assert _focused(page) == "lumbar_paraspinal:right"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    assert _focused(page) == "iliac_crest:right"
    expect(page.locator("#bodymap .region[tabindex='0']")).to_have_count(1)
    # the focused region is drawn with a ring (a thick dark outline), not only a colour
    stroke = page.locator("#bodymap .region[data-key='iliac_crest:right']").evaluate(
        "el => getComputedStyle(el).strokeWidth")
    assert stroke == "3px", stroke
    shot(page, "entry-map-focus-1366")
    # Tab leaves the map at once; Shift+Tab comes back to the same region
    page.keyboard.press("Tab")
    assert not _focused(page).endswith((":left", ":right", ":midline"))
    page.keyboard.press("Shift+Tab")
    assert _focused(page) == "iliac_crest:right"
    page.keyboard.press("Enter")
    expect(page.locator("#lump-list li")).to_have_count(1)
    expect(page.locator("#lump-list li").first).to_contain_text("right iliac crest")
    expect(page.locator("#lump-location")).to_have_value("iliac_crest")
    expect(page.locator("#lump-laterality input:checked")).to_have_value("right")
    assert _focused(page) == "lump-duration_weeks"


def test_next_questions_are_questions_and_red_flags_stay_alarms(page, live_server, choose,
                                                                shot):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}/clinician")
    page.click("#bodymap circle.psis[data-side='left']")
    expect(page.locator("#result .questions li").first).to_be_visible()
    question = page.locator("#result .questions li.rf-question").first
    expect(question).to_be_visible()
    colour = question.locator(".question-text").evaluate("el => getComputedStyle(el).color")
    assert colour != "rgb(176, 0, 32)", colour  # not the alarm red (--emergency)
    before = question.locator(".question-text").evaluate(
        "el => getComputedStyle(el, '::before').content")
    assert "Not yet asked" in before
    # a fired red flag keeps the alarm
    page.fill("#lump-size_cm", "7")
    choose(page, "#lump-depth", "deep_to_fascia")
    banner = page.locator("#result .red-flag-banner").first
    expect(banner).to_be_visible()
    assert banner.evaluate("el => getComputedStyle(el).borderTopColor") == "rgb(176, 0, 32)"
    page.locator("#result .questions").first.scroll_into_view_if_needed()
    shot(page, "entry-questions-1366")


def test_the_workspace_form_on_a_phone(browser, live_server, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{live_server}/clinician")
    expect(pg.locator("#patient-age_years")).not_to_be_focused()  # no keyboard popping up
    pg.locator("#bodymap").scroll_into_view_if_needed()
    shot(pg, "entry-map-390")
    pg.focus("#bodymap .region[data-key='iliac_crest:left']")
    expect(pg.locator("#bodymap-where")).to_contain_text("left iliac crest")
    shot(pg, "entry-map-focus-390")
    pg.tap(".region-button[data-region='posterior_superior_iliac_spine'][data-side='left']")
    pg.locator("#lump-tender input[value='true'] + label").tap()
    expect(pg.locator("#lump-tender input:checked")).to_have_value("true")
    assert pg.evaluate(NO_SIDEWAYS)
    pg.locator("#lump-feel").scroll_into_view_if_needed()
    shot(pg, "entry-toggles-390")
    pg.locator("#lump-safety").scroll_into_view_if_needed()
    shot(pg, "entry-safety-390")
    context.close()
    assert not errors, errors


def test_visit_form_toggles_post_without_javascript(browser, live_server, log_in, shot):
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  java_script_enabled=False)
    pg = context.new_page()
    log_in(pg, "clinician")
    pg.fill("#new-display_name", "Toggle Test")
    pg.click("#form-patient-new button[type='submit']")
    expect(pg.locator("h1")).to_have_text("Toggle Test")
    patient_url = pg.url.split("?")[0]
    pg.fill("#lesion-label", "left PSIS")
    pg.select_option("#lesion-region", "posterior_superior_iliac_spine")
    pg.select_option("#lesion-side", "left")
    pg.click("#form-lesion button[type='submit']")
    expect(pg.locator(".notice")).to_contain_text("Lesion saved")
    pg.goto(patient_url + "/encounters/new")
    lid = pg.locator("fieldset.visit-lesion").first.get_attribute("data-lesion")
    pg.fill("#patient-age_years", "47")
    pg.locator("#patient-sex input[value='female'] + label").click()
    for finding in ("tender", "mobile", "pain_reproduced_by_pressure"):
        pg.locator(f"#l{lid}-{finding} input[value='true'] + label").click()
    pg.locator("#patient-fever input[value='false'] + label").click()
    expect(pg.locator(f"#l{lid}-safety")).to_have_attribute("open", "")
    pg.locator(f"#l{lid}-feel").scroll_into_view_if_needed()
    shot(pg, "entry-visit-form-1366")
    pg.set_viewport_size({"width": 390, "height": 844})
    assert pg.evaluate(NO_SIDEWAYS)
    pg.locator(f"#l{lid}-feel").scroll_into_view_if_needed()
    shot(pg, "entry-visit-form-390")
    pg.click("#visit-form button.primary[type='submit']")
    expect(pg.locator("h1")).to_contain_text("Visit of")
    text = pg.locator("main").text_content()
    assert re.search(r"Tender:\s*yes", text), text[:3000]
    assert re.search(r"Fever:\s*no", text)
    context.close()
