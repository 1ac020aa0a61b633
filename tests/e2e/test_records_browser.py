"""The patient record in a real browser: a clinician logs in, creates a patient, places two lumps
on the body map, records visits, an injection with pain 8 → 1 (the next assessment shifts to
the back-mouse family), an excision with a complication and later pain scores, and sees the
chart; the patient page has no sideways scroll on a phone. Screenshots in test-artifacts/."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from backmice.testing import TEST_PASSWORD

FAMILY = ("Episacral lipoma", "Lumbar fascial fat herniation", "Iliac crest pain syndrome")


def ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


def _family(page, lesion_id: str) -> float:
    text = page.locator(f"#result-lesion-{lesion_id} h4").first.inner_text()
    return float(re.search(r"family (\d+)", text).group(1))


def _place_lump(page, selector: str, label: str, size: str | None = None) -> None:
    page.click(selector)
    expect(page.locator("#lesion-label")).to_be_focused()
    page.fill("#lesion-label", label)
    if size:
        page.fill("#lesion-size_cm", size)
    page.click("#form-lesion button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("Lesion saved")
    expect(page.locator(".lesion-legend")).to_contain_text(label)


def _record_visit(page, patient_url: str, when: str) -> None:
    page.goto(patient_url + "/encounters/new")
    page.fill("#occurred_on", when)
    page.fill("#patient-age_years", "58")
    page.locator("#patient-sex input[value='female'] + label").click()
    for lesion in page.locator("fieldset.visit-lesion").all():
        lid = lesion.get_attribute("data-lesion")
        # The form starts with the size on record (1.5 cm for the left buttock); this story's
        # visits do not measure the lumps, so the size is cleared, as it was before prefilling.
        page.fill(f"#l{lid}-size_cm", "")
        page.locator(f"#l{lid}-palpable_lump input[value='true'] + label").click()
        page.locator(f"#l{lid}-tender input[value='true'] + label").click()
        page.locator(f"#l{lid}-pain input[value='true'] + label").click()
    expect(page.locator("#preview .top-three").first).to_be_visible()


def _procedure(page, kind: str, lesion: str, when: str, **fields: str) -> None:
    page.click("#record-procedure > summary")
    page.select_option("#proc-kind", kind)
    page.select_option("#proc-lesion_id", lesion)
    page.fill("#proc-performed_on", when)
    for name, value in fields.items():
        page.fill(f"#proc-{name}", value)
    page.click("#form-procedure button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("Procedure recorded")


def _pain(page, lesion: str, when: str, pain: str) -> None:
    page.click("#record-outcome > summary")
    page.select_option("#out-lesion_id", lesion)
    page.fill("#out-measured_on", when)
    page.fill("#out-pain", pain)
    page.click("#form-outcome button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("Outcome recorded")


def test_a_patient_record_from_first_visit_to_excision(page, live_server, log_in, shot):
    log_in(page, "clinician")
    page.fill("#new-display_name", "Maria Example")
    page.fill("#new-birth_date", "1966-05-02")
    page.select_option("#new-sex", "female")
    page.click("#form-patient-new button[type='submit']")
    expect(page.locator("h1")).to_have_text("Maria Example")
    patient_url = page.url.split("?")[0]

    _place_lump(page, "#bodymap path[data-location='buttock'][data-side='left']",
                "left buttock", "1.5")
    page.focus("#bodymap path[data-location='iliac_crest'][data-side='right']")
    page.keyboard.press("Enter")  # the keyboard places a lump too
    expect(page.locator("#lesion-region")).to_have_value("iliac_crest")
    page.fill("#lesion-label", "right crest")
    page.click("#form-lesion button[type='submit']")
    expect(page.locator("#markers a.marker")).to_have_count(2)
    left, right = (c.get_attribute("id").split("-")[1]
                   for c in page.locator("article.lesion-card").all())
    shot(page, "records-1-two-lumps")

    _record_visit(page, patient_url, ago(40))
    shot(page, "records-2-visit-form")
    page.click("#visit-form button[type='submit']")
    expect(page.locator("h1")).to_contain_text("Visit of")
    before = _family(page, left)

    page.goto(patient_url)
    _procedure(page, "diagnostic_injection", left, ago(39), pain_before="8", pain_after="1",
               minutes_after="15")
    expect(page.locator(f"#lesion-{left}")).to_contain_text("pain 8 → 1")
    _record_visit(page, patient_url, ago(30))
    expect(page.locator("fieldset.visit-lesion").first).to_contain_text("pain 8 → 1")
    page.click("#visit-form button[type='submit']")
    after = _family(page, left)
    assert after > before, (before, after)
    top = page.locator(f"#result-lesion-{left} .top-three .dx-name").first.inner_text()
    assert top.startswith(FAMILY), top
    shot(page, "records-3-after-injection")

    page.goto(patient_url)
    _procedure(page, "excision", left, ago(20))
    page.select_option(".procedure:has-text('Excision') select[name='histopathology']",
                       "adipose_tissue")
    page.click(".procedure:has-text('Excision') button:has-text('Save result')")
    page.locator(".procedure:has-text('Excision') summary", has_text="complication").click()
    page.select_option(".procedure:has-text('Excision') select[name='kind']", "discharge")
    page.fill(".procedure:has-text('Excision') input[name='noted_on']", ago(15))
    page.click(".procedure:has-text('Excision') button:has-text('Add complication')")
    expect(page.locator(".alert-banner")).to_contain_text("Discharge")
    for days, pain in ((41, "8"), (10, "2"), (2, "1")):
        _pain(page, left, ago(days), pain)
    card = page.locator(f"#lesion-{left}")
    expect(card.locator(".tag").first).to_have_text("excised")
    chart = card.locator("svg.pain-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("circle.pain-point")).to_have_count(3)
    expect(chart.locator(".proc-mark text")).to_have_text(["DI", "EX"])
    card.scroll_into_view_if_needed()
    shot(page, "records-4-chart")
    page.locator("#procedures").scroll_into_view_if_needed()
    shot(page, "records-5-procedures")
    assert right

    page.goto(f"{live_server}/clinic/outcomes")
    expect(page.locator("svg.bar-chart")).to_be_visible()
    expect(page.locator("table.data-table")).to_contain_text("Excision with fascial repair")
    shot(page, "records-6-clinic-outcomes")


def test_the_patient_page_fits_a_phone(browser, live_app, log_in, shot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    log_in(pg, "clinician", "admin")
    pg.fill("#new-display_name", "Phone Patient")
    pg.click("#form-patient-new button[type='submit']")
    pg.tap("#bodymap path[data-location='lumbar_paraspinal'][data-side='left']")
    pg.click("#form-lesion button[type='submit']")
    expect(pg.locator("#markers a.marker")).to_have_count(1)
    patient_url = pg.url.split("?")[0]
    for path in (patient_url, patient_url + "/encounters/new", f"{live_app.url}/patients",
                 f"{live_app.url}/clinic/outcomes", f"{live_app.url}/admin/users",
                 f"{live_app.url}/admin/audit"):
        pg.goto(path)
        overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
    pg.goto(patient_url)
    shot(pg, "records-phone-patient", full_page=True)
    context.close()


def _seed_follow_up(live_app, kb, username: str):
    """A patient whose deep 7 cm lump was triaged urgent within two weeks 20 days ago (its
    referral is overdue), with an excision of another lump followed by an infection, and a pain
    score; made through the store, as earlier visits would have been."""
    from backmice.web.recording import draft_encounter

    store = live_app.store
    me = store.accounts.find_user(username).actor("e2e")
    p = store.patients.create(me, {"display_name": "Rosa Follow-up", "birth_date": "1961-03-14",
                                   "sex": "female"})
    deep = store.patients.add_lesion(me, p.id, {"label": "right flank, deep",
                                                "region": "flank", "side": "right",
                                                "size_cm": 7})
    calm = store.patients.add_lesion(me, p.id, {"label": "left PSIS", "size_cm": 1.5})
    draft = draft_encounter(kb, store.visits.visit_context(me, p.id), occurred_on=ago(20),
                            note=None, setting=None,
                            patient_findings={"age_years": 65, "sex": "female"},
                            lumps=[{"lesion_id": deep.id, "findings": {
                                "palpable_lump": True, "size_cm": 7,
                                "depth": "deep_to_fascia"}}])
    assert draft.lesions[0][4] == "urgent_2_weeks", draft.lesions
    store.visits.record_encounter(me, p.id, draft)
    store.visits.add_procedure(me, p.id, {
        "lesion_id": calm.id, "kind": "excision", "performed_on": ago(6),
        "complications": [{"kind": "infection", "noted_on": ago(3)}]})
    store.visits.add_outcome(me, p.id, {"lesion_id": calm.id, "measured_on": ago(2),
                                        "pain": 6})
    return p


def test_alerts_referrals_corrections_and_the_password_page(page_422, live_app, log_in, shot,
                                                           kb):
    page = page_422  # the refused password answers 422, which Chromium logs
    name = log_in(page, "clinician")
    p = _seed_follow_up(live_app, kb, name)
    patient_url = f"{live_app.url}/patients/{p.id}"
    store = live_app.store
    before = store.audit.count()
    page.goto(patient_url)
    assert store.audit.count() - before == 1  # one "read" row for one page view
    assert store.audit.events(limit=1)[0].action == "read"

    # The top buttons open their form and move the focus into it.
    page.click("a[data-opens='record-procedure']")
    expect(page.locator("#record-procedure")).to_have_attribute("open", "")
    expect(page.locator("#proc-kind")).to_be_focused()
    page.click("a[data-opens='record-outcome']")
    expect(page.locator("#record-outcome")).to_have_attribute("open", "")
    expect(page.locator("#out-lesion_id")).to_be_focused()

    # Alerts until reviewed; the referral is overdue.
    banner = page.locator(".alert-banner")
    expect(banner).to_contain_text("1 urgent lesion, 1 complication after a procedure")
    expect(page.locator("#referrals")).to_contain_text("1 open, 1 overdue")
    expect(page.locator("#referrals .overdue-tag")).to_have_text("Overdue")
    item = page.locator(".alert-item", has_text="Infection")
    item.locator("input[name='note']").fill("seen today, on antibiotics")
    item.locator("button", has_text="Mark reviewed").click()
    expect(page.locator(".notice")).to_contain_text("Alert marked reviewed")
    expect(banner).not_to_contain_text("Infection")
    page.click("#reviewed-alerts > summary")
    expect(page.locator("#reviewed-alerts")).to_contain_text(f"reviewed by {name}")

    # A correction with its reason; the timeline says the outcome was corrected.
    page.locator("#outcomes a", has_text="Correct or delete").click()
    expect(page.locator("#c-pain")).to_have_value("6")
    page.fill("#c-pain", "5")
    page.click("#form-correct button[type='submit']")  # no reason: the browser refuses
    expect(page.locator("h1")).to_have_text("Correct or delete an outcome")  # still here
    page.fill("#c-reason", "misread the scale: the patient said 5")
    shot(page, "records-7b-correct-outcome-1366", full_page=True)
    page.click("#form-correct button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("Correction saved")
    expect(page.locator("#outcomes .corrected-tag")).to_have_count(1)
    expect(page.locator("#corrections")).to_contain_text("misread the scale")
    page.goto(patient_url)
    shot(page, "records-7-alerts-referrals-correction-1366", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the patient page scrolls sideways by {overflow}px on a phone"
    shot(page, "records-7-alerts-referrals-correction-390", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    page.goto(f"{live_app.url}/clinic/worklist")
    expect(page.locator("#referrals")).to_contain_text("Rosa Follow-up")
    expect(page.locator("#referrals .overdue-tag")).to_have_count(1)
    shot(page, "records-8-clinic-worklist-1366", full_page=True)

    # The visit form starts from the record: age at the visit date, sex, the last size.
    page.goto(patient_url + "/encounters/new")
    expect(page.locator("#patient-sex input[value='female']")).to_be_checked()
    page.fill("#occurred_on", "2026-03-13")
    page.locator("#occurred_on").dispatch_event("change")
    expect(page.locator("#patient-age_years")).to_have_value("64")
    page.fill("#occurred_on", "2026-03-14")
    page.locator("#occurred_on").dispatch_event("change")
    expect(page.locator("#patient-age_years")).to_have_value("65")
    expect(page.locator("#prefill-note")).to_contain_text("From the record")
    shot(page, "records-8b-visit-prefilled-1366")

    # The referral is marked done.
    page.goto(patient_url)
    page.click("#referrals details > summary")
    page.select_option("#referrals select[name='how']", "sent")
    page.click("#referrals button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("Referral marked done")
    expect(page.locator("#referrals")).to_contain_text("No open referral.")

    # Every user changes their own password from the menu.
    page.click("nav a[href='/account/password']")
    page.fill("#current_password", "not the password")
    page.fill("#new_password", "a new secret 42")
    page.fill("#new_password_again", "a new secret 42")
    page.click("#form-password button[type='submit']")
    expect(page.locator("#form-error")).to_contain_text("Current password")
    shot(page, "records-9-password-refused-1366")
    page.fill("#current_password", TEST_PASSWORD)
    page.fill("#new_password", "a new secret 42")
    page.fill("#new_password_again", "a new secret 42")
    page.click("#form-password button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("Password changed")
    shot(page, "records-9-password-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "records-9-password-390", full_page=True)
    assert store.accounts.authenticate(name, "a new secret 42").username == name
