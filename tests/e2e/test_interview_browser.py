"""The patient interview in Chromium, as a worried patient on a phone (390 px) and on a laptop
(1366 px) uses it: the start screen, a tap on the body picture, the questions, the summary, a
changed answer, the result; the emergency alert with its call button; "Back" keeping the answer;
the autofocused option not looking chosen. Screenshots: test-artifacts/interview-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

WIDTHS = {"phone": 390, "laptop": 1366}
TYPICAL_NUMBERS = {"age_years": "45", "size_cm": "2", "duration_weeks": "30", "nodule_count": "1"}
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(params=list(WIDTHS))
def patient(request, browser):
    """A page at phone or laptop width; any script or console error fails the test."""
    width = WIDTHS[request.param]
    phone = request.param == "phone"
    context = browser.new_context(viewport={"width": width, "height": 844 if phone else 900},
                                  is_mobile=phone, has_touch=phone)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.device = request.param  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert not errors, f"browser errors: {errors}"


def _screen(pg) -> str:
    return pg.locator("input[name='finding']").first.get_attribute("value")


def _next(pg) -> None:
    with pg.expect_navigation():
        pg.click("#question-form button[value='answer']")


def _answer(pg, answers: dict[str, str]) -> None:
    """Answer the current screen: ``answers`` by key, else "No", the first option or a number."""
    key = _screen(pg)
    radios = pg.locator("#question-form input[name='value'][type='radio']")
    if radios.count():
        wanted = answers.get(key) or ("false" if pg.locator(
            "#question-form input[value='false']").count() else radios.first.get_attribute("value"))
        pg.check(f"#question-form input[name='value'][value='{wanted}']")
    else:
        pg.fill("#answer", answers.get(key, TYPICAL_NUMBERS.get(key, "1")))
    _next(pg)


def _to_summary(pg, answers: dict[str, str]) -> int:
    """Answer until the summary; the number of screens answered."""
    for screens in range(45):
        if pg.locator("h1", has_text="Check your answers").count():
            return screens
        _answer(pg, answers)
    raise AssertionError("the summary was never reached")


def _tap(pg, selector: str) -> None:
    if pg.device == "phone":  # type: ignore[attr-defined]
        pg.tap(selector)
    else:
        pg.click(selector)


def test_start_to_result_through_the_picture_the_summary_and_a_change(patient, live_server,
                                                                      shot):
    pg, device = patient, patient.device  # type: ignore[attr-defined]
    pg.goto(f"{live_server}/interview")
    expect(pg.locator("h1")).to_contain_text("Check a lump")
    expect(pg.locator(".start-emergency .call-button")).to_have_attribute("href", "tel:999")
    assert pg.evaluate(OVERFLOW) <= 1
    shot(pg, f"interview-1-start-{device}", full_page=True)
    with pg.expect_navigation():
        pg.click("button[value='start']")

    # the place first: tap the picture, the matching radio is chosen and the region marked
    expect(pg.locator("h1.question-text")).to_have_text("Where is the lump?")
    region = ".patient-map .region[data-location='buttock'][data-side='left']"
    expect(pg.locator(".patient-map")).not_to_have_attribute("inert", "")
    shot(pg, f"interview-2-place-{device}")
    _tap(pg, region)
    expect(pg.locator("input[name='value'][value='buttock:left']")).to_be_checked()
    expect(pg.locator(region)).to_have_class("region chosen")
    # the picture's title speaks the patient's words, never the clinician's
    assert pg.locator(f"{region} title").text_content() == "Left buttock"
    assert pg.evaluate(OVERFLOW) <= 1, "the place screen scrolls sideways"
    # what was chosen, and "Next", right under the picture: no scrolling after a tap
    expect(pg.locator(".place-chosen")).to_have_text("You chose: Left buttock")
    button = pg.locator(".patient-map .place-next")
    expect(button).to_be_in_viewport()
    shot(pg, f"interview-3-place-tapped-{device}")
    with pg.expect_navigation():
        button.click()

    # the emergency questions come next, one thing per screen
    assert _screen(pg) == "spreading_redness#0"
    shot(pg, f"interview-4-first-safety-question-{device}")
    # a typical back mouse: a small, soft, tender lump that brings on the usual pain
    screens = 1 + _to_summary(pg, {"consistency": "soft", "growth": "stable", "mobile": "true",
                                   "palpable_lump": "true", "tender": "true", "pain": "true",
                                   "pain_reproduced_by_pressure": "true"})
    expect(pg.locator(".answer-list")).to_contain_text("Left buttock")
    assert pg.evaluate(OVERFLOW) <= 1, "the summary scrolls sideways"
    shot(pg, f"interview-5-summary-{device}", full_page=True)

    # change one answer: it comes back selected; the new one replaces it, the rest stay
    count = pg.locator(".answer-list li").count()
    row = pg.locator(".answer-list li", has_text="How does the lump feel when pressed?")
    with pg.expect_navigation():
        row.locator("button[value='change']").click()
    expect(pg.locator("input[name='value'][value='soft']")).to_be_checked()
    shot(pg, f"interview-6-change-{device}")
    pg.check("input[name='value'][value='firm_rubbery']")
    _next(pg)
    _to_summary(pg, {})
    expect(row).to_contain_text("Firm and rubbery")
    expect(pg.locator(".answer-list li", has_text="Where is the lump?")).to_contain_text(
        "Left buttock")
    assert pg.locator(".answer-list li").count() >= count

    with pg.expect_navigation():
        pg.click("button[value='result']")
    expect(pg.locator("h1")).to_have_text("What we found")
    banner = pg.locator(".triage-banner")
    expect(banner).to_contain_text("Book a routine appointment with your GP")
    expect(banner).not_to_contain_text("Routine")
    expect(pg.locator("main")).to_contain_text("not a diagnosis")
    expect(pg.locator(".clinician-checks")).to_contain_text("how deep the lump lies")
    assert pg.evaluate(OVERFLOW) <= 1, "the result scrolls sideways"
    shot(pg, f"interview-7-result-{device}", full_page=True)
    print(f"\n{device}: {screens} screens from the place to the summary")


def test_emergency_alert_quotes_the_answer_and_offers_a_call(patient, live_server, shot):
    pg, device = patient, patient.device  # type: ignore[attr-defined]
    pg.goto(f"{live_server}/interview")
    with pg.expect_navigation():
        pg.click("button[value='start']")
    pg.check("input[name='value'][value='lateral_hip:right']")  # the list, not the picture
    _next(pg)
    pg.check("input[name='value'][value='true']")  # redness spreading quickly
    _next(pg)
    box = pg.locator(".interview-alert")
    expect(box).to_have_attribute("role", "alert")
    expect(box.locator("h2")).to_have_text("Call 999 now")
    expect(box).to_contain_text("You said redness is spreading quickly around the lump.")
    expect(box).not_to_contain_text("much worse than the lump looks")
    call = box.locator("a.call-button")
    expect(call).to_have_attribute("href", "tel:999")
    call_box = call.bounding_box()
    assert call_box["y"] + call_box["height"] < pg.viewport_size["height"]  # no scrolling
    assert call_box["height"] >= 44  # a thumb-sized target
    assert pg.evaluate(OVERFLOW) <= 1, "the alert scrolls sideways"
    shot(pg, f"interview-8-emergency-alert-{device}")
    with pg.expect_navigation():
        box.locator("button[value='finish']").click()
    expect(pg.locator(".triage-banner h2")).to_have_text("Call 999 now")
    expect(pg.locator(".triage-banner a.call-button")).to_be_visible()
    shot(pg, f"interview-9-emergency-result-{device}", full_page=True)


def test_back_keeps_the_answer_and_focus_does_not_look_chosen(page, live_server, shot):
    page.goto(f"{live_server}/interview")
    with page.expect_navigation():
        page.click("button[value='start']")
    # keyboard only: the first place has the focus but is not chosen; arrows choose
    first = page.locator(".place-options input").first
    expect(first).to_be_focused()
    expect(first).not_to_be_checked()
    style = ("el => { const s = getComputedStyle(el.closest('label'));"
             " return [s.backgroundColor, s.outlineStyle, s.borderTopWidth]; }")
    focused = first.evaluate(style)
    page.keyboard.press("ArrowDown")
    second = page.locator(".place-options input").nth(1)
    expect(second).to_be_checked()
    page.keyboard.press("Tab")  # focus leaves the group: the chosen one keeps its look
    chosen = second.evaluate(style)
    assert focused[0] != chosen[0] and focused[1] == "dashed" and chosen[1] != "dashed"
    shot(page, "interview-10-keyboard-choice")
    second.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the form with the chosen place
    assert _screen(page) == "spreading_redness#0"
    page.check("input[name='value'][value='false']")
    _next(page)
    with page.expect_navigation():
        page.click("button[value='back']")
    assert _screen(page) == "spreading_redness#0"
    expect(page.locator("input[name='value'][value='false']")).to_be_checked()
    with page.expect_navigation():
        page.click("button[value='back']")
    expect(page.locator("input[name='value'][value='thoracolumbar:right']")).to_be_checked()
    expect(page.locator(".patient-map .region.chosen")).to_have_count(1)
    shot(page, "interview-11-back-keeps-the-place")


def test_every_interview_state_passes_axe(page, live_server):
    """axe-core: no serious or critical violation on the start screen, the picture, a question
    under an alert, the summary and the result (skipped where axe-playwright is missing)."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    found: dict[str, list[str]] = {}

    def check(state: str) -> None:
        violations = axe.run(page).response["violations"]
        found[state] = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]

    page.goto(f"{live_server}/interview")
    check("start")
    with page.expect_navigation():
        page.click("button[value='start']")
    check("place")
    page.click(".patient-map .region[data-location='buttock'][data-side='left']")
    check("place chosen")
    with page.expect_navigation():
        page.click(".patient-map .place-next")
    _answer(page, {"spreading_redness#0": "false", "spreading_redness#1": "false"})
    _answer(page, {})
    page.check("input[name='value'][value='true']")  # lost control: an emergency alert
    _next(page)
    check("question under an alert")
    _to_summary(page, {})
    check("summary")
    with page.expect_navigation():
        page.click("button[value='result']")
    check("result")
    assert found == {state: [] for state in found} and len(found) == 6
