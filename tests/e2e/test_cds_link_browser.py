"""A CDS Hooks card's link opens the clinician workspace with the lump's findings filled in,
from the URL fragment (never sent to the server), and the assessment shows at once."""

from __future__ import annotations

from playwright.sync_api import expect

from backmice.engine import assess_patient
from backmice.findings import LumpInput, PatientInput, parse_findings
from backmice.web.cds_hooks.routes import _workspace_link


def test_a_card_link_fills_the_workspace(page, live_server, kb, shot):
    findings = parse_findings({"age_years": 52, "sex": "male", "location": "buttock",
                               "laterality": "right", "size_cm": 7, "depth": "deep_to_fascia",
                               "palpable_lump": True})
    result = assess_patient(kb, PatientInput(lumps=(LumpInput(id="l1", findings=findings),)))
    link = _workspace_link(live_server, result.lumps[0])
    page.goto(link)
    expect(page.locator("#result .top-three").first).to_be_visible()
    expect(page.locator("#lump-size_cm")).to_have_value("7")
    expect(page.locator("#map-status")).to_contain_text("Filled in from the EHR's card")
    assert "#case=" not in page.url  # dropped once read: a reload keeps a draft instead
    shot(page, "cds-link-workspace-1366")
