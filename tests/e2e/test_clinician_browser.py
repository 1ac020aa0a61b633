"""The clinician workspace in a real browser: keyboard focus after a one-click answer, a 375 px
phone, the page height, values that cannot be used, and the printed assessment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

ACTIVE = """() => { const a = document.activeElement;
  return {tag: a.tagName, id: a.id, cls: a.className, lump: a.dataset ? a.dataset.lump : null,
          finding: a.dataset ? a.dataset.finding : null}; }"""


# every field holding a value, as id=value
ENTERED = """() => Array.from(document.querySelectorAll('[data-scope], [data-later]'))
  .filter((el) => el.value !== '').map((el) => el.id + '=' + el.value).sort()"""


def _place_left_psis(page, live_server):
    page.goto(f"{live_server}/clinician")
    page.click("#bodymap circle.psis[data-side='left']")
    expect(page.locator("#lump-list li")).to_have_count(1)
    expect(page.locator("#result .assessment")).to_be_visible()


def _answer_with_the_keyboard(page):
    button = page.locator("#result-lump-1 button.answer:not([data-focus])").first
    finding, value = button.get_attribute("data-finding"), button.get_attribute("data-value")
    button.focus()
    page.keyboard.press("Enter")
    control = page.locator(f"#patient-{finding}, #lump-{finding}").first
    expect(control).to_have_js_property("value", value)  # a field or a row of toggles
    # the result came back without the question just answered
    answered = page.locator(f"#result-lump-1 button.answer[data-finding='{finding}']")
    expect(answered).to_have_count(0)
    return finding


def test_one_click_answer_keeps_the_keyboard_focus(page, live_server, shot):
    _place_left_psis(page, live_server)
    for _ in range(2):  # answer two questions in a row, from the keyboard only
        finding = _answer_with_the_keyboard(page)
        active = page.evaluate(ACTIVE)
        assert active["tag"] != "BODY", "the focus fell back to <body>"
        # never on an answer button: a second Enter must not answer an unread question
        assert active["tag"] != "BUTTON" and "answer" not in active["cls"], active
        on_next_question = active["tag"] == "LI" and "question" in active["cls"] \
            and page.evaluate("() => !!document.activeElement.closest('#result-lump-1')")
        on_the_field = active["id"] in (f"patient-{finding}", f"lump-{finding}")
        assert on_next_question or on_the_field, active
    expect(page.locator("#result-lump-1 .questions li.question:focus")).to_be_visible()
    expect(page.locator("#result-status")).to_contain_text("Assessment updated")
    expect(page.locator("#result-status")).to_contain_text("Triage:")
    shot(page, "clinician-7-keyboard-answer")


def test_enter_twice_after_an_answer_records_nothing_more(page, live_server):
    """The reviewer's accident: Enter on a "yes", then Enter again, answered the next question
    (a red flag) without it being read."""
    _place_left_psis(page, live_server)
    finding = _answer_with_the_keyboard(page)
    recorded = page.evaluate(ENTERED)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    # an answer button sets its field at once, in the key's own click handler: no waiting needed
    after = page.evaluate(ENTERED)
    assert after == recorded, (finding, recorded, after)


def test_phone_375_fits_and_has_big_targets_and_a_way_to_the_result(browser, live_server, shot):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    pg.goto(f"{live_server}/clinician")
    sideways = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert pg.evaluate(sideways) <= 0
    buttons = pg.locator(".region-button")
    expect(buttons).to_have_count(18)
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (buttons.nth(i).inner_text(), box)
    dot = pg.locator("#bodymap circle.psis[data-side='left']").bounding_box()
    hit = pg.locator("#bodymap circle.hit-area[data-side='left']").bounding_box()
    assert hit["width"] > 1.5 * dot["width"]  # the tap area is larger than the drawn dot
    pg.tap(".region-button[data-region='posterior_superior_iliac_spine'][data-side='left']")
    expect(pg.locator("#lump-list li")).to_have_count(1)
    expect(pg.locator("#lump-location")).to_have_value("posterior_superior_iliac_spine")
    jump = pg.locator("#jump-result")
    expect(jump).to_be_visible()
    expect(jump).to_contain_text("Triage: ")
    expect(jump).to_contain_text("%")
    # red-flag questions are still open: the bar says the triage is provisional, as the banner does
    expect(pg.locator("#result .triage-banner .tag")).to_have_text("provisional")
    expect(jump).to_contain_text("(provisional)")
    assert pg.evaluate(sideways) <= 0, "the page scrolls sideways once a result is shown"
    shot(pg, "phone-375-clinician-map")
    jump.tap()
    expect(pg.locator("#res-h")).to_be_in_viewport()
    expect(jump).to_be_hidden()  # the result is on screen: the bar steps aside
    shot(pg, "phone-375-clinician-result")
    context.close()


def test_no_hidden_element_stretches_the_desktop_page(page, live_server, shot):
    page.set_viewport_size({"width": 1366, "height": 768})
    _place_left_psis(page, live_server)
    page.locator("#lump-tender input[value='true'] + label").click()
    expect(page.locator("#result .assessment")).to_be_visible()
    heights = page.evaluate("""() => ({
        page: document.documentElement.scrollHeight,
        content: Math.ceil(document.querySelector('.site-footer').getBoundingClientRect().bottom
                           + window.scrollY)})""")
    assert heights["page"] <= heights["content"] + 2, heights
    shot(page, "clinician-desktop-1366", full_page=True)


def test_a_value_that_cannot_be_used_is_marked_at_its_field(page_422, live_server, shot):
    page = page_422
    _place_left_psis(page, live_server)
    size = page.locator("#lump-size_cm")
    size.press_sequentially("-1")  # no Tab: typed values are used after a short pause
    expect(size).to_have_attribute("aria-invalid", "true")
    error = page.locator("#lump-size_cm-error")
    expect(error).to_contain_text("Size")
    expect(error).to_contain_text("from 0 to 100 cm")
    assert "lump-size_cm-error" in size.get_attribute("aria-describedby")
    # the last good result stays, marked as out of date; no field path is shown to the reader
    expect(page.locator("#result .assessment")).to_be_visible()
    expect(page.locator("#result")).to_have_class("stale")
    expect(page.locator("#result-stale")).to_contain_text("Out of date")
    expect(page.locator("main")).not_to_contain_text("lumps.0")
    shot(page, "clinician-8-invalid-field")

    size.fill("7")  # an input event only, no blur: the result follows as you type
    expect(page.locator(".red-flag-banner").first).to_contain_text("Size ≥ 5 cm")
    expect(size).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lump-size_cm-error")).to_have_count(0)
    expect(page.locator("#result-stale")).to_be_hidden()
    expect(page.locator("#result")).not_to_have_class("stale")

    # a value only the server refuses: its 422 names lumps.0.findings.size_cm, mapped to the field
    size.evaluate("el => el.removeAttribute('max')")
    size.fill("500")
    expect(size).to_have_attribute("aria-invalid", "true")
    expect(error).to_contain_text("out of range")
    expect(page.locator("#result .assessment")).to_be_visible()
    expect(page.locator("#result")).to_have_class("stale")
    size.fill("3")
    expect(size).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#result")).not_to_have_class("stale")


def test_a_cluster_needs_at_least_two_nodules(page, live_server):
    page.goto(f"{live_server}/clinician")
    count, mode = page.locator("#cluster-count"), page.locator("#cluster-mode")
    for bad in ("0", "", "1"):
        count.fill(bad)
        mode.click()
        expect(count).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#cluster-count-error")).to_contain_text("at least 2 nodules")
        expect(mode).to_have_attribute("aria-pressed", "false")
    count.fill("12")
    mode.click()
    expect(mode).to_have_attribute("aria-pressed", "true")
    expect(count).not_to_have_attribute("aria-invalid", "true")
    count.fill("0")  # changed after choosing cluster mode: nothing is placed
    page.click("#bodymap path[data-location='buttock'][data-side='left']")
    expect(page.locator("#cluster-count-error")).to_contain_text("at least 2 nodules")
    expect(page.locator("#lump-list li")).to_have_count(0)
    count.fill("12")
    page.click("#bodymap path[data-location='buttock'][data-side='left']")
    expect(page.locator("#lump-list li")).to_contain_text("12 nodules")


def test_print_shows_what_a_chart_needs_headed_with_the_patient(page, live_server, shot):
    _place_left_psis(page, live_server)
    page.fill("#patient-age_years", "50")
    page.locator("#lump-tender input[value='true'] + label").click()
    page.fill("#lump-size_cm", "6")
    expect(page.locator(".red-flag-banner").first).to_be_visible()
    page.click(".workspace-patient summary")
    page.fill("#pid-name", "Ann Example")
    page.fill("#pid-birth", "1971-03-15")
    page.fill("#pid-ident", "MRN-77")
    tables = page.locator("#result details.reasoning table")
    assert tables.count() >= 2

    page.emulate_media(media="print")
    head = page.locator("#result-lump-1 .print-lump-head")
    expect(head).to_be_visible()
    expect(head.locator(".pid-name")).to_have_text("Ann Example")
    expect(head.locator(".pid-birth")).to_have_text("1971-03-15")
    expect(head.locator(".pid-ident")).to_have_text("MRN-77")
    expect(head.locator(".pid-date")).not_to_be_empty()
    expect(page.locator(".print-head")).to_contain_text("knowledge base ")
    summary = page.locator("#result-lump-1 .lump-summary")
    expect(summary).to_be_visible()
    expect(summary.locator(".red-flag-banner").first).to_contain_text("Rule: Size ≥ 5 cm")
    entered = page.locator("#result-lump-1 .compact-findings")
    expect(entered).to_be_visible()
    expect(entered).to_contain_text("Size: 6 cm")
    expect(page.locator("#result-lump-1 .workup")).to_be_visible()
    expect(page.locator("#result-lump-1 .print-treatments")).to_be_visible()
    expect(page.locator("#result-lump-1 .print-treatments")).to_contain_text("evidence ")
    expect(page.locator("#result-lump-1 .print-disclaimer")).to_be_visible()  # on each page
    # the long texts stay on screen, one click away: not printed
    expect(page.locator("#result .fold-why")).to_be_hidden()
    expect(page.locator("#result .treatments")).to_be_hidden()
    expect(page.locator(".findings-panel")).to_be_hidden()
    expect(page.locator("#result .answer-buttons").first).to_be_hidden()
    shot(page, "clinician-9-print", full_page=True)

    page.emulate_media(media="screen")
    expect(page.locator("#result-lump-1 .fold-workup")).not_to_have_attribute("open", "")
    expect(page.locator("#result-lump-1 .print-lump-head")).to_be_hidden()


@pytest.mark.parametrize("path", ["/conditions/episacral_lipoma", "/knowledge-base", "/conditions"])
def test_reference_pages_fit_a_375_px_phone(browser, live_server, shot, path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    pg.goto(live_server + path)
    widths = pg.evaluate("""() => ({scroll: document.documentElement.scrollWidth,
                                    client: document.documentElement.clientWidth})""")
    assert widths["scroll"] <= widths["client"], (path, widths)
    shot(pg, "phone-375" + path.replace("/", "-"))
    if path != "/conditions":  # the long DOIs are the ones that stretched it
        pg.locator(".references a[href^='https://doi.org/']").first.scroll_into_view_if_needed()
        shot(pg, "phone-375" + path.replace("/", "-") + "-references")
    context.close()


def test_a_lump_with_0_nodules_is_refused_at_its_field(page_422, live_server):
    page = page_422
    _place_left_psis(page, live_server)
    field = page.locator("#lump-nodule_count")
    field.fill("0")
    field.dispatch_event("change")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#lump-nodule_count-error")).to_contain_text(
        "a whole number of 1 or more")
    expect(page.locator("#result")).to_have_class(re.compile(r"\bstale\b"))
    field.fill("3")
    field.dispatch_event("change")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#result")).not_to_have_class(re.compile(r"\bstale\b"))


def test_a_saved_assessment_lists_its_questions_without_buttons(page, live_server, shot):
    _place_left_psis(page, live_server)
    page.click("#save")
    link = page.locator("#tool-status a")
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("h1")).to_contain_text("Saved assessment")
    expect(page.locator(".questions li").first).to_be_visible()
    expect(page.locator("main .questions button")).to_have_count(0)
    # the chart note's own tools, handled by the page's script
    expect(page.locator("main button")).to_have_count(2)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click(".copy-chart-note")
    expect(page.locator(".note-tools-status")).to_have_text("Chart note copied.")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("## Back lump assessment (backmice)") and "**References:**" in copied
    shot(page, "saved-assessment-questions", full_page=True)


# --- the answer first: most urgent lump first, its summary, everything else folded ----------
PANEL_HEIGHT = "() => document.querySelector('#result-panel').scrollHeight"
PAGE_COUNT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def _region(pg, location, side):
    """Place a lump with the keyboard (Enter on the map region): the same at every width."""
    pg.locator(f"#bodymap [role='button'][data-location='{location}'][data-side='{side}']"
               ).first.press("Enter")


def _two_lumps(pg, live_server):
    """A routine back mouse placed first, then a 7 cm lump on the right buttock."""
    pg.goto(f"{live_server}/clinician")
    _region(pg, "posterior_superior_iliac_spine", "left")
    expect(pg.locator("#result .assessment")).to_be_visible()
    pg.fill("#lump-size_cm", "1.5")
    expect(pg.locator("#result-lump-1 .compact-findings")).to_contain_text("1.5 cm")
    _region(pg, "buttock", "right")
    expect(pg.locator("#lump-list li")).to_have_count(2)
    pg.fill("#lump-size_cm", "7")
    expect(pg.locator("#result .lump-result")).to_have_count(2)
    expect(pg.locator("#result-lump-2 .red-flag-banner").first).to_be_visible()


IN_ORDER = """([first, second]) => !!(document.querySelector(first).compareDocumentPosition(
    document.querySelector(second)) & Node.DOCUMENT_POSITION_FOLLOWING)"""


@pytest.mark.parametrize("width", [1366, 390])
def test_the_most_urgent_lump_comes_first_with_its_summary(browser, live_server, shot, width):
    context = browser.new_context(viewport={"width": width, "height": 800 if width > 400 else 844},
                                  is_mobile=width < 400, has_touch=width < 400)
    pg = context.new_page()
    _two_lumps(pg, live_server)
    articles = pg.locator("#result .lump-result")
    # placed second, shown first: the urgent lump's summary before anything of the routine lump
    expect(articles.first).to_have_attribute("data-lump", "lump-2")
    assert pg.evaluate(IN_ORDER, ["#result-lump-2 .lump-summary", "#result-lump-1"])
    summary = pg.locator("#result-lump-2 .lump-summary")
    expect(summary.locator(".lump-triage")).to_contain_text("Urgent, within 2 weeks")
    expect(summary.locator(".top-three li")).to_have_count(3)
    expect(summary.locator(".top-three li").first).to_contain_text("%")
    expect(summary.locator(".first-step")).to_contain_text("First step:")
    expect(summary.locator(".red-flag-banner").first).to_contain_text("Size ≥ 5 cm")
    expect(summary.locator(".dont-miss")).to_contain_text("Don't miss:")
    # the banner says whose red flag it is
    flags = pg.locator("#result .triage-banner .flags-by-lump li")
    expect(flags).to_have_count(1)
    expect(flags.first).to_contain_text("Lump 2")
    expect(flags.first).to_contain_text("Lump 5 cm or larger")
    expect(flags.first.locator("a")).to_have_attribute("href", "#result-lump-2")

    # folded by default, opened on demand (mouse and keyboard), the state on the element
    folds = pg.locator("#result-lump-2 details.fold")
    assert folds.count() >= 4
    for i in range(folds.count()):
        expect(folds.nth(i)).not_to_have_attribute("open", "")
    why = pg.locator("#result-lump-2 .fold-why")
    expect(why.locator("table").first).to_be_hidden()
    why.locator("> summary").click()
    expect(why).to_have_attribute("open", "")
    expect(why.locator("table").first).to_be_visible()
    treatments = pg.locator("#result-lump-2 .fold-treatments")
    treatments.locator("> summary").focus()
    pg.keyboard.press("Enter")
    expect(treatments).to_have_attribute("open", "")
    expect(treatments.locator(".treatments li").first).to_be_visible()
    pg.keyboard.press("Enter")
    expect(treatments).not_to_have_attribute("open", "")
    pg.locator("#result .triage-banner").evaluate("el => el.scrollIntoView()")
    shot(pg, f"clinician-answer-first-{width}")
    pg.locator("#result-lump-1").evaluate("el => el.scrollIntoView()")
    shot(pg, f"clinician-answer-first-{width}-second-lump")
    context.close()


def test_the_result_panel_height_of_one_lump_is_reported(page, live_server, shot):
    """A figure for the report (not asserted): the result panel of one lump with a red flag,
    folded as it opens, and with every section opened."""
    page.set_viewport_size({"width": 1366, "height": 768})
    _place_left_psis(page, live_server)
    page.fill("#patient-age_years", "50")
    page.fill("#lump-size_cm", "6")
    expect(page.locator(".red-flag-banner").first).to_be_visible()
    folded = page.evaluate(PANEL_HEIGHT)
    card = page.locator("#result-lump-1 .lump-summary").evaluate(
        "el => Math.round(el.getBoundingClientRect().height)")
    page.evaluate("() => document.querySelectorAll('#result details').forEach(d => d.open = true)")
    opened = page.evaluate(PANEL_HEIGHT)
    print(f"\nresult panel, one lump at 1366x768: {folded} px folded ({card} px its summary), "
          f"{opened} px all open")
    assert opened > folded  # the folded sections hold the rest: nothing was removed


def test_two_lumps_print_one_page_each(page, live_server, shot):
    page.set_viewport_size({"width": 1366, "height": 768})
    _two_lumps(page, live_server)
    page.click(".workspace-patient summary")
    page.fill("#pid-name", "Ann Example")
    page.fill("#pid-birth", "1971-03-15")
    page.emulate_media(media="print")
    second = page.locator("#result .lump-result").nth(1)
    assert second.evaluate("a => getComputedStyle(a).breakBefore") == "page"
    expect(page.locator("#result .print-lump-head")).to_have_count(2)
    for i in range(2):
        head = page.locator("#result .print-lump-head").nth(i)
        expect(head).to_be_visible()
        expect(head).to_contain_text("Ann Example")
        expect(head).to_contain_text(f"Lump {i + 1} of 2")
        expect(page.locator("#result .print-disclaimer").nth(i)).to_be_visible()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, for the picture
    shot(page, "clinician-print-two-lumps", full_page=True)
    pdf = page.pdf(format="A4")
    pages = len(PAGE_COUNT.findall(pdf))
    print(f"\ntwo lumps printed on A4 (Chromium page.pdf): {pages} pages")
    assert pages == 2, f"{pages} pages for two lumps: a lump runs over its page"
