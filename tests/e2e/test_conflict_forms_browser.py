"""A form the record refuses (409): the page says why at the field, as for bad input (422).

A complication dated before its procedure cannot be sent from an up-to-date form (the date
field's ``min`` is the procedure's day), so the test plays a form that no longer matches the
record by removing that bound. Screenshots at 1366 and 390 px wide.
"""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def page_409(browser):
    """Like the conftest's ``page``: any script or console error fails the test, except the
    line Chromium logs for the expected 409."""
    context = browser.new_context(viewport={"width": 1366, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert not [e for e in errors if "status of 409" not in e], errors


@pytest.mark.parametrize("width", [1366, 390])
def test_a_complication_before_its_procedure_is_refused_at_its_field(page_409, live_app,
                                                                      log_in, shot, width):
    pg = page_409
    pg.set_viewport_size({"width": width, "height": 1000})
    name = log_in(pg, "clinician")
    actor = live_app.store.accounts.find_user(name).actor()
    patient = live_app.store.patients.create(actor, {"display_name": "Form Conflict"})
    lesion = live_app.store.patients.add_lesion(actor, patient.id, {"label": "left PSIS"})
    performed = dt.date.today() - dt.timedelta(days=10)
    excision = live_app.store.visits.add_procedure(actor, patient.id, {
        "kind": "excision", "lesion_id": lesion.id, "performed_on": performed.isoformat()})
    pg.goto(f"{live_app.url}/patients/{patient.id}")
    box = pg.locator(f"form[action$='/procedures/{excision.id}/complications']")
    box.locator("xpath=..").locator("summary").click()
    field = pg.locator(f"#complication-{excision.id}-noted_on")
    field.evaluate("el => el.removeAttribute('min')")  # a form older than the record
    field.fill((performed - dt.timedelta(days=1)).isoformat())
    with pg.expect_navigation():
        box.locator("button[type='submit']").click()
    alert = pg.locator("[role='alert'][data-error-field='noted_on']")
    assert alert.is_visible()
    text = alert.inner_text()
    assert "Not saved." in text and "Noted on" in text and "is before the procedure" in text
    assert performed.isoformat() in text
    alert.scroll_into_view_if_needed()
    shot(pg, f"conflict-complication-before-procedure-{width}")
    assert not live_app.store.visits.timeline(actor, patient.id).procedures[0].complications
