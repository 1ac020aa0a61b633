"""End to end in a real browser: the clinician and the reviewer, as they would (the patient:
test_interview_browser.py)."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_clinician_places_two_lumps_and_sees_a_red_flag(page, live_server, shot):
    page.goto(f"{live_server}/clinician")
    shot(page, "clinician-1-empty")
    page.click("#bodymap path[data-location='iliac_crest'][data-side='left']")
    expect(page.locator("#lump-list li")).to_have_count(1)
    page.locator("#patient-sex input[value='female'] + label").click()
    page.fill("#patient-age_years", "52")
    page.press("#patient-age_years", "Tab")
    page.locator("#lump-tender input[value='true'] + label").click()
    page.locator("#lump-pain_reproduced_by_pressure input[value='true'] + label").click()
    page.locator("#lump-mobile input[value='true'] + label").click()
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
    page.locator("#lump-depth input[value='deep_to_fascia'] + label").click()
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
        control = page.locator(f"#patient-{finding}, #lump-{finding}").first
        expect(control).not_to_have_js_property("value", "")

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
