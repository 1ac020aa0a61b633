"""The patient record in a real browser: a clinician logs in, creates a patient, places two lumps
on the body map, records visits, an injection with pain 8 → 1 (the next assessment shifts to
the back-mouse family), an excision with a complication and later pain scores, and sees the
chart; the patient page has no sideways scroll on a phone. Screenshots in test-artifacts/."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

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
