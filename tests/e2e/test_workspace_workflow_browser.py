"""One workflow in a real browser: a patient of the records → "Assess in workspace" (prefilled
from the record) → entries kept in the browser over a reload, with a leave warning → saved as a
visit of that patient → the stored visit with its chart note → back to the patient."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from backmice.testing import make_user


def _patient(store, clinic_user: str) -> tuple[int, int]:
    actor = make_user(store, clinic_user)
    pid = store.patients.create(actor, {"display_name": "Ann Example", "local_id": "MRN-77",
                                        "birth_date": "1971-03-15", "sex": "female"}).id
    lesion = store.patients.add_lesion(actor, pid, {
        "label": "L PSIS", "region": "posterior_superior_iliac_spine", "side": "left",
        "x": 0.42, "y": 0.54})
    return pid, lesion.id


@pytest.mark.parametrize("width", [1366, 390])
def test_patient_to_workspace_to_saved_visit_and_back(browser, live_app, log_in, shot, width):
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 400 else 844},
                                  is_mobile=width < 400, has_touch=width < 400)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(pg, "clinician")
    pid, lesion_id = _patient(live_app.store, f"colleague-{width}")
    pg.goto(f"{live_app.url}/patients/{pid}")
    pg.click("#assess-in-workspace")
    pg.wait_for_url(f"{live_app.url}/clinician?patient={pid}")

    # prefilled from the record: age from the date of birth, sex, the lesion as a lump
    today = dt.date.today()
    age = today.year - 1971 - (1 if (today.month, today.day) < (3, 15) else 0)
    expect(pg.locator("#patient-age_years")).to_have_value(str(age))
    expect(pg.locator("#patient-sex input[value='female']")).to_be_checked()
    expect(pg.locator("#lump-list li")).to_have_count(1)
    expect(pg.locator("#lump-location")).to_have_value("posterior_superior_iliac_spine")
    article = pg.locator(f"#result-lesion-{lesion_id}")
    expect(article).to_be_visible()
    expect(article.locator("h3 .lump-name")).to_have_text("L PSIS")
    expect(pg.locator(".workspace-from")).to_contain_text("Ann Example")
    expect(pg.locator("#pid-name")).to_have_value("Ann Example")
    shot(pg, f"workflow-{width}-1-prefilled")

    # an entry, then a reload: the entries come back with a notice
    pg.fill("#lump-size_cm", "2.5")
    expect(article.locator(".compact-findings")).to_contain_text("2.5 cm")
    seen: list[str] = []

    def accept(dialog):
        seen.append(dialog.type)
        dialog.accept()

    pg.on("dialog", accept)
    pg.reload()
    assert seen == ["beforeunload"], seen  # leaving with unsaved entries asks first
    notice = pg.locator("#restored-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Restored your unsaved entries")
    expect(pg.locator("#lump-size_cm")).to_have_value("2.5")
    expect(pg.locator(f"#result-lesion-{lesion_id} .compact-findings")).to_contain_text("2.5 cm")
    shot(pg, f"workflow-{width}-2-restored")

    # saved as a visit of the patient: the draft is gone and leaving no longer asks
    pg.click("#save-visit")
    link = pg.locator("#saved-visit-link")
    expect(link).to_be_visible()
    expect(link).to_contain_text(f"Saved as the visit of {today.isoformat()}")
    assert pg.evaluate(f"() => localStorage.getItem('backmice.workspace.patient-{pid}')") is None
    shot(pg, f"workflow-{width}-3-saved")
    link.click()
    pg.wait_for_url(f"{live_app.url}/encounters/*")
    assert seen == ["beforeunload"], seen

    # the stored visit: the assessment with the chart note, Copy and Print
    expect(pg.locator("h1")).to_contain_text(f"Visit of {today.isoformat()}")
    expect(pg.locator(".snapshot-lines")).to_contain_text("2.5 cm")
    note = pg.locator("#note-text")
    expect(note).to_be_visible()
    assert "### L PSIS" in note.input_value() and "**References:**" in note.input_value()
    pg.click(".copy-chart-note")
    expect(pg.locator(".note-tools-status")).to_have_text("Chart note copied.")
    assert pg.evaluate("() => navigator.clipboard.readText()") == note.input_value()
    pg.emulate_media(media="print")
    head = pg.locator(".print-lump-head").first
    expect(head).to_be_visible()
    expect(head).to_contain_text("Ann Example")
    expect(head).to_contain_text("1971-03-15")
    expect(head).to_contain_text("MRN-77")
    expect(pg.locator(".chart-note")).to_be_hidden()
    pg.emulate_media(media="screen")
    shot(pg, f"workflow-{width}-4-visit", full_page=True)

    # back to the patient, where the visit is listed
    pg.click(f"main a[href='/patients/{pid}']:has-text('Back to the patient')")
    pg.wait_for_url(f"{live_app.url}/patients/{pid}")
    expect(pg.locator("main")).to_contain_text(today.isoformat())
    assert not errors, errors
    context.close()


def test_clearing_the_workspace_forgets_the_entries(page, live_server):
    page.goto(f"{live_server}/clinician")
    page.locator("#bodymap [role='button'][data-location='buttock'][data-side='left']"
                 ).first.press("Enter")
    expect(page.locator("#result .assessment")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('backmice.workspace.anonymous')")
    page.on("dialog", lambda d: d.accept())  # "Clear every lump and finding entered here?"
    page.click("#clear-workspace")
    expect(page.locator("#lump-list li")).to_have_count(0)
    expect(page.locator("#restored-notice")).to_be_hidden()
    assert page.evaluate("() => localStorage.getItem('backmice.workspace.anonymous')") is None
