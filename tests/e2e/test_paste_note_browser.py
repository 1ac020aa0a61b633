""""Paste the note" in a real browser, in the clinician workspace and in the visit form: the
note's findings fill the fields marked "read from the note", the phrase shows (and is the
field's description) on keyboard focus, unconfirmed values are not sent to the assessment,
confirming makes them count, and an entered value is never overwritten (the conflict is shown).
Screenshots at 1366 and 390 px in test-artifacts/; no sideways scroll on the phone."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

NOTE = ("62M, huge swelling R buttock, getting bigger over the past week. Chills, confused. "
        "Mother had a lipoma.")
NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _assessed(page) -> list[dict]:
    """Every document the workspace posts for assessment, in order."""
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data))
            if r.url.endswith("/clinician/result") and r.method == "POST" else None)
    return sent


def _read(page, note: str = NOTE) -> None:
    page.fill("#paste-text", note)
    page.click("#read-note")
    expect(page.locator("#note-status")).to_contain_text("read from the note")


def _last(page, sent: list[dict]) -> dict:
    expect(page.locator("#result .assessment")).to_be_visible()
    page.wait_for_timeout(400)  # the assessment waits 150 ms for more changes
    return sent[-1]


def test_workspace_note_fills_marked_suggestions_that_count_once_confirmed(page, live_server,
                                                                          shot):
    sent = _assessed(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}/clinician")
    _read(page)
    # no lump was placed: one is placed where the note says, its other findings suggested
    expect(page.locator("#lump-list li")).to_have_count(1)
    expect(page.locator("#lump-list li").first).to_contain_text("right buttock")
    age, fever, size = (page.locator(s) for s in ("#patient-age_years", "#patient-fever",
                                                 "#lump-size_cm"))
    expect(age).to_have_value("62")
    expect(fever).to_have_js_property("value", "true")  # a row of yes / no / unknown toggles
    expect(size).to_have_value("10")
    for control in (age, fever, size):
        field = control.locator("xpath=..")
        expect(field.locator(".note-state")).to_have_text(
            "Read from the note: not used until confirmed")
    # the phrase shows on hover, on keyboard focus, and is the field's description
    phrase = page.locator("#patient-fever-note-phrase")
    expect(phrase).to_be_hidden()
    age.hover()
    expect(page.locator("#patient-age_years-note-phrase")).to_be_visible()
    expect(page.locator("#patient-age_years-note-phrase")).to_have_text("Read from the note: “62M”")
    page.mouse.move(0, 0)
    expect(page.locator("#patient-age_years-note-phrase")).to_be_hidden()
    fever.focus()
    expect(phrase).to_be_visible()
    expect(phrase).to_have_text("Read from the note: “Chills”")
    expect(fever).to_have_accessible_description("Read from the note: “Chills”")
    expect(page.locator("#lump-size_cm-note-phrase")).to_contain_text("described as huge")
    expect(page.locator("#result .assessment")).to_be_visible()
    shot(page, "paste-note-workspace-1366")
    # unconfirmed: not in what the assessment gets
    doc = _last(page, sent)
    assert "fever" not in doc["patient"] and "age_years" not in doc["patient"]
    assert "size_cm" not in doc["lumps"][0]["findings"]
    assert doc["lumps"][0]["findings"]["location"] == "buttock"
    # Confirm one (from the keyboard), then all
    confirm = page.locator("#patient-fever ~ .note-mark button.note-confirm")
    confirm.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#patient-fever ~ .note-mark .note-state")).to_have_text(
        "Confirmed, read from the note")
    expect(fever.locator("input:checked")).to_be_focused()
    page.wait_for_timeout(400)
    assert sent[-1]["patient"]["fever"] is True and "age_years" not in sent[-1]["patient"]
    page.click("#confirm-all")
    expect(page.locator("#confirm-all")).to_be_hidden()
    page.wait_for_timeout(400)
    doc = sent[-1]
    assert doc["patient"]["age_years"] == 62 and doc["patient"]["systemically_unwell"] is True
    assert doc["lumps"][0]["findings"]["size_cm"] == 10
    expect(page.locator("#result .triage-banner").first).to_be_visible()
    page.locator("#paste-note").scroll_into_view_if_needed()
    shot(page, "paste-note-workspace-1366-confirmed")


def test_workspace_never_overwrites_an_entered_value(page, live_server):
    sent = _assessed(page)
    page.goto(f"{live_server}/clinician")
    page.click("#bodymap circle.psis[data-side='left']")
    page.fill("#patient-age_years", "40")
    page.fill("#lump-size_cm", "3")
    page.wait_for_timeout(500)
    _read(page)
    expect(page.locator("#patient-age_years")).to_have_value("40")
    expect(page.locator("#lump-size_cm")).to_have_value("3")
    conflict = page.locator("#patient-age_years ~ .note-mark .note-conflict")
    expect(conflict).to_contain_text("The note says 62")
    expect(conflict).to_contain_text("“62M”")
    expect(page.locator("#lump-size_cm ~ .note-mark .note-conflict")).to_contain_text("10 cm")
    # the lump placed by hand keeps its place; the note's site is a conflict there
    expect(page.locator("#lump-location ~ .note-mark .note-conflict")).to_be_visible()
    page.click("#confirm-all")
    page.wait_for_timeout(400)
    doc = sent[-1]
    assert doc["patient"]["age_years"] == 40 and doc["lumps"][0]["findings"]["size_cm"] == 3
    # editing a suggestion makes it the clinician's own value
    page.locator("#patient-sex input[value='female'] + label").click()
    page.wait_for_timeout(400)
    assert sent[-1]["patient"]["sex"] == "female"


def test_workspace_on_a_phone(browser, live_server, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(f"{live_server}/clinician")
    _read(pg)
    pg.locator("#patient-fever").focus()
    expect(pg.locator("#patient-fever-note-phrase")).to_be_visible()
    assert pg.evaluate(NO_SIDEWAYS)
    pg.locator("#paste-note").scroll_into_view_if_needed()
    shot(pg, "paste-note-workspace-390")
    pg.locator("#patient-fever").scroll_into_view_if_needed()
    shot(pg, "paste-note-workspace-390-fields")
    context.close()
    assert not errors, errors


def _visit_page(page, log_in, live_server) -> str:
    log_in(page, "clinician")
    page.fill("#new-display_name", "Paste Patient")
    page.click("#form-patient-new button[type='submit']")
    page.wait_for_url(f"{live_server}/patients/*")
    patient_url = page.url.split("?")[0]
    page.click("#bodymap [data-location='buttock'][data-side='right']")
    page.fill("#lesion-label", "right buttock")
    page.click("#form-lesion button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("Lesion saved")
    page.goto(patient_url + "/encounters/new")
    return patient_url


def test_visit_form_note(page_422, log_in, live_server, shot):
    page = page_422  # saving with unconfirmed values is refused: the 422 is expected
    sent = _assessed(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    _visit_page(page, log_in, live_server)
    page.locator("#patient-sex input[value='female'] + label").click()
    page.fill("#pasted_note", NOTE)
    page.click("#read-note")
    expect(page.locator("#note-status")).to_contain_text("read from the note")
    lid = page.locator("fieldset.visit-lesion").first.get_attribute("data-lesion")
    age, fever, size = (page.locator(s) for s in ("#patient-age_years", "#patient-fever",
                                                 f"#l{lid}-size_cm"))
    expect(age).to_have_value("62")
    expect(fever).to_have_js_property("value", "true")  # a row of yes / no / unknown toggles
    expect(size).to_have_value("10")
    # never overwritten: the sex entered stays, the note's is shown beside it
    expect(page.locator("#patient-sex")).to_have_js_property("value", "female")
    expect(page.locator("#patient-sex ~ .note-mark .note-conflict")).to_contain_text(
        "The note says male")
    fever.focus()
    expect(page.locator("#patient-fever-note-phrase")).to_be_visible()
    expect(fever).to_have_accessible_description("Read from the note: “Chills”")
    # the preview leaves unconfirmed values out
    expect(page.locator("#preview .top-three").first).to_be_visible()
    page.wait_for_timeout(400)
    assert sent[-1]["patient"] == {"sex": "female"}, sent[-1]
    assert "size_cm" not in sent[-1]["lumps"][0]["findings"]
    shot(page, "paste-note-visit-1366", full_page=True)
    # saving with unconfirmed values is refused, naming the field
    page.click("#visit-form button[type='submit']")
    expect(page.locator("#form-error")).to_contain_text("not confirmed")
    expect(page.locator("#patient-age_years")).to_have_value("62")
    # Confirm all from the keyboard: the preview uses them, saving works
    page.locator("#confirm-all").focus()
    page.keyboard.press("Space")
    expect(page.locator("#patient-fever ~ .note-mark .note-state")).to_have_text(
        "Confirmed, read from the note")
    page.wait_for_timeout(600)
    assert sent[-1]["patient"]["fever"] is True and sent[-1]["patient"]["age_years"] == 62
    assert sent[-1]["patient"]["sex"] == "female"
    page.click("#visit-form button[type='submit']")
    page.wait_for_url(f"{live_server}/encounters/*")
    expect(page.locator("main")).to_contain_text("62")


def test_visit_form_on_a_phone(browser, log_in, live_server, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    _visit_page(pg, log_in, live_server)
    pg.fill("#pasted_note", NOTE)
    pg.click("#read-note")
    expect(pg.locator("#note-status")).to_contain_text("read from the note")
    assert pg.evaluate(NO_SIDEWAYS)
    pg.locator("#paste-note").scroll_into_view_if_needed()
    shot(pg, "paste-note-visit-390")
    pg.locator("#patient-fever").focus()
    shot(pg, "paste-note-visit-390-fields")
    context.close()


def test_visit_form_note_without_javascript(browser, log_in, live_server):
    """Every records form works without JavaScript; so do reading the note and confirming."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1366,
                                                                       "height": 900})
    pg = context.new_page()
    _visit_page(pg, log_in, live_server)
    pg.fill("#pasted_note", NOTE)
    pg.click("#read-note")
    expect(pg.locator("#note-status")).to_contain_text("read from the note: confirm or change")
    expect(pg.locator("#patient-fever input:checked")).to_have_value("true")  # no script: radios
    expect(pg.locator("#patient-fever")).to_have_accessible_description(
        "Read from the note: “Chills”")
    pg.press("#patient-age_years", "Enter")  # Enter saves, as before: refused, not confirmed
    expect(pg.locator("#form-error")).to_contain_text("not confirmed")
    pg.check("#patient-fever ~ .note-mark input[name='confirmed']")
    pg.check("#confirm-all")
    pg.click("#visit-form button[type='submit']")
    pg.wait_for_url(f"{live_server}/encounters/*")
    expect(pg.locator("main")).to_contain_text("Fever")
    context.close()


def test_answering_a_question_counts_a_value_only_suggested(page, live_server):
    """A next-question button whose answer is the value the note suggested makes it count."""
    sent = _assessed(page)
    page.goto(f"{live_server}/clinician")
    _read(page)
    _last(page, sent)
    found = page.evaluate("""() => Array.from(document.querySelectorAll('#result button.answer'))
      .map((b) => [b.dataset.finding, b.dataset.value])
      .find(([f, v]) => { const c = document.getElementById('patient-' + f) ||
        document.getElementById('lump-' + f);
        return c && c.closest('.note-suggested') && c.value === v; })""")
    assert found, "no question whose answer the note suggested"
    finding, value = found
    page.click(f"#result button.answer[data-finding='{finding}'][data-value='{value}']")
    page.wait_for_timeout(500)
    doc = sent[-1]
    where = doc["patient"] if finding in doc["patient"] else doc["lumps"][0]["findings"]
    assert str(where.get(finding)).lower() == value, (finding, value, doc)
    expect(page.locator(f"#patient-{finding}, #lump-{finding}").first.locator("xpath=..")
           ).not_to_have_class(re.compile(r"\bnote-suggested\b"))
