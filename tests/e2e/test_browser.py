"""End to end in a real browser: the clinician, the patient and the reviewer, as they would."""

from __future__ import annotations

import re

from playwright.sync_api import expect

# A typical back mouse: a 50-year-old with a 2 cm lump for 30 weeks.
TYPICAL_NUMBERS = {"age_years": "50", "size_cm": "2", "duration_weeks": "30", "nodule_count": "1"}


def test_clinician_places_two_lumps_and_sees_a_red_flag(page, live_server, shot):
    page.goto(f"{live_server}/clinician")
    shot(page, "clinician-1-empty")
    page.click("#bodymap path[data-location='iliac_crest'][data-side='left']")
    expect(page.locator("#lump-list li")).to_have_count(1)
    page.select_option("#patient-sex", "female")
    page.fill("#patient-age_years", "52")
    page.press("#patient-age_years", "Tab")
    page.select_option("#lump-tender", "true")
    page.select_option("#lump-pain_reproduced_by_pressure", "true")
    page.select_option("#lump-mobile", "true")
    page.fill("#lump-size_cm", "1.5")
    page.press("#lump-size_cm", "Tab")
    expect(page.locator("#result .top-three").first).to_be_visible()
    expect(page.locator("#result meter").first).to_be_visible()
    shot(page, "clinician-2-one-lump")

    # second lump, placed with the keyboard on the right PSIS: big and deep to the fascia
    page.focus("#bodymap circle.psis[data-side='right']")
    page.keyboard.press("Enter")
    expect(page.locator("#lump-list li")).to_have_count(2)
    expect(page.locator("#lump-location")).to_have_value("posterior_superior_iliac_spine")
    page.fill("#lump-size_cm", "7")
    page.press("#lump-size_cm", "Tab")
    page.select_option("#lump-depth", "deep_to_fascia")
    banner = page.locator(".red-flag-banner").first
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("RED FLAG")
    expect(page.locator(".assessment > .triage-banner")).to_contain_text("Urgent")
    shot(page, "clinician-3-red-flag")

    # injection on the first lump: pain 8 -> 1 moves it towards the back-mouse family
    page.click("#lump-list li:first-child button:first-child")
    family = page.locator("#result-lump-1 h4").first
    before = float(re.search(r"family (\d+)", family.inner_text()).group(1))
    page.fill("#inj-before", "8")
    page.fill("#inj-after", "1")
    page.press("#inj-after", "Tab")
    expect(page.locator("#result .assessment > .note").first).to_contain_text("8 → 1")
    after = float(re.search(r"family (\d+)", family.inner_text()).group(1))
    assert after >= before
    shot(page, "clinician-4-after-injection")

    # answer a suggested question with one click
    button = page.locator("#result button.answer").first
    finding = button.get_attribute("data-finding")
    if not button.get_attribute("data-focus"):
        button.click()
        expect(page.locator(f"#patient-{finding}, #lump-{finding}").first).not_to_have_value("")

    # copy note and save: the shareable link renders the same assessment
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-note")
    expect(page.locator("#tool-status")).to_contain_text("copied")
    page.click("#save")
    link = page.locator("#tool-status a")
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("h1")).to_contain_text("Saved assessment")
    expect(page.locator(".red-flag-banner").first).to_be_visible()
    shot(page, "clinician-5-saved", full_page=True)


def test_clinician_cluster_of_nodules(page, live_server, shot):
    page.goto(f"{live_server}/clinician")
    page.fill("#cluster-count", "40")
    page.click("#cluster-mode")
    page.click("#bodymap path[data-location='buttock'][data-side='right']")
    expect(page.locator("#lump-list li")).to_contain_text("40 nodules")
    expect(page.locator("#lump-nodule_count")).to_have_value("40")
    expect(page.locator("#result")).to_contain_text("liposuction")
    shot(page, "clinician-6-cluster")


def test_patient_interview_reaches_a_result(page, live_server, shot):
    page.goto(f"{live_server}/interview")
    shot(page, "patient-1-first-question")
    for _ in range(45):
        if page.locator("h1", has_text="What we found").count():
            break
        options = page.locator("input[name='value'][type='radio']")
        if options.count():
            no = page.locator("input[name='value'][value='false']")
            (no if no.count() else options.first).check()
        else:
            finding = page.locator("input[name='finding']").get_attribute("value")
            page.fill("#answer", TYPICAL_NUMBERS.get(finding, "1"))
        with page.expect_navigation():  # read the next page only once it has loaded
            page.click("button[value='answer']")
    expect(page.locator("h1")).to_have_text("What we found")
    expect(page.locator(".triage-banner")).to_contain_text("How soon to be seen")
    expect(page.locator("main")).to_contain_text("only an examination")
    shot(page, "patient-2-result", full_page=True)


def _answer_no_until(page, finding: str) -> None:
    """Answer "no" (or the first option, or a typical number) until ``finding`` is asked."""
    for _ in range(45):
        asked = page.locator("input[name='finding']").get_attribute("value")
        if asked == finding:
            return
        options = page.locator("input[name='value'][type='radio']")
        if options.count():
            no = page.locator("input[name='value'][value='false']")
            (no if no.count() else options.first).check()
        else:
            page.fill("#answer", TYPICAL_NUMBERS.get(asked, "1"))
        with page.expect_navigation():
            page.click("button[value='answer']")
    raise AssertionError(f"{finding} was never asked")


def test_patient_emergency_answer_shows_an_alert_at_once(page, live_server, shot):
    page.goto(f"{live_server}/interview")
    _answer_no_until(page, "bladder_or_bowel_dysfunction")
    page.check("input[name='value'][value='true']")
    with page.expect_navigation():
        page.click("button[value='answer']")
    # the next question is shown, but under an alert that says what to do now
    box = page.locator(".interview-alert")
    expect(box).to_be_visible()
    expect(box).to_have_attribute("role", "alert")
    expect(box.locator("h2")).to_have_text("Get emergency help now")
    expect(box).to_contain_text("emergency department")
    expect(box).to_contain_text("cauda equina")
    assert box.bounding_box()["y"] < page.locator("h1.question-text").bounding_box()["y"]
    assert box.bounding_box()["y"] < 400  # at the top: seen without scrolling
    shot(page, "patient-3-emergency-alert")
    # keyboard: the alert's "See my result now" has the focus; Tab reaches "Carry on answering"
    focused = page.evaluate("[document.activeElement.value, document.activeElement.textContent]")
    assert focused == ["finish", "See my result now"]
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Carry on answering"
    page.keyboard.press("Shift+Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("What we found")
    expect(page.locator(".triage-banner")).to_contain_text("Emergency")
    expect(page.locator(".red-flags")).to_contain_text("cauda equina")
    expect(page.locator("main")).not_to_contain_text("small injection")
    expect(page.locator(".answers-summary")).to_contain_text("bladder")
    shot(page, "patient-4-emergency-result", full_page=True)


def test_interview_fits_a_375px_phone(browser, live_server, shot):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    pg.goto(f"{live_server}/interview")
    _answer_no_until(pg, "location")  # the longest option labels
    shot(pg, "phone-interview-location")
    overflow = "document.documentElement.scrollWidth - window.innerWidth"
    assert pg.evaluate(overflow) <= 1, "the location question scrolls sideways"
    pg.goto(f"{live_server}/interview")
    _answer_no_until(pg, "bladder_or_bowel_dysfunction")
    pg.check("input[name='value'][value='true']")
    with pg.expect_navigation():
        pg.click("button[value='answer']")
    expect(pg.locator(".interview-alert")).to_be_visible()
    shot(pg, "phone-interview-alert")
    assert pg.evaluate(overflow) <= 1, "the alert scrolls sideways"
    with pg.expect_navigation():
        pg.click(".interview-alert button[value='finish']")
    expect(pg.locator("h1")).to_have_text("What we found")
    shot(pg, "phone-interview-result", full_page=True)
    assert pg.evaluate(overflow) <= 1, "the result scrolls sideways"
    context.close()


def test_patient_can_go_back_and_say_dont_know(page, live_server):
    page.goto(f"{live_server}/interview")
    first = page.locator("h1.question-text").inner_text()
    page.click("button[value='dont_know']")
    expect(page.locator("label[for='progress']")).to_have_text("Question 2")
    page.click("button[value='back']")
    expect(page.locator("h1.question-text")).to_have_text(first)


def test_feedback_reaches_the_reviewer(page, live_server, shot, log_in):
    page.goto(f"{live_server}/conditions/episacral_lipoma")
    page.click("button[name='helpful'][value='yes']")
    expect(page.locator(".notice")).to_contain_text("Thank you")
    page.click("details.report summary")
    page.fill("#fb-text", "The treatment section should mention recurrence after injection.")
    page.fill("#fb-contact", "reader@example.org")
    page.click("details.report button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("report")
    shot(page, "feedback-1-sent")
    log_in(page, "reviewer", land="/reviewer")  # the reviewer page needs the reviewer role
    row = page.locator("tr", has_text="mention recurrence after injection")
    expect(row).to_be_visible()
    shot(page, "feedback-2-reviewer")
    row.locator("button", has_text="Mark resolved").click()
    page.goto(f"{live_server}/reviewer?status=resolved")
    expect(page.locator("tr", has_text="mention recurrence after injection")).to_be_visible()


def test_phone_layout_has_no_horizontal_scroll(browser, live_server, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    for path in ("/clinician", "/interview", "/conditions/lipoma", "/reviewer"):
        pg.goto(live_server + path)
        overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
    pg.goto(live_server + "/clinician")
    pg.tap("#bodymap path[data-location='lumbar_paraspinal'][data-side='left']")
    expect(pg.locator("#lump-list li")).to_have_count(1)
    shot(pg, "phone-clinician")
    context.close()
