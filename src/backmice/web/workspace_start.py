"""Starting the clinician workspace from a patient of the records: what the record already
knows, in the workspace's own terms (patient findings, one lump per active lesion with its last
size and its later tests, the identification printed on each page).

Nothing here is saved; the workspace posts the visit through the records API
(POST /api/v1/patients/{id}/encounters) once the clinician chooses to save it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from backmice.findings import FINDINGS
from backmice.followup.encounters import lump_key
from backmice.followup.later_tests import later_tests_for
from backmice.followup.records import Lesion, Timeline
from backmice.kb.base import KnowledgeBase
from backmice.web.record_views import injection_window

SEX_FINDINGS = ("female", "male")  # the record's "other" / "unknown" leave the finding unknown


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (1 if before_birthday else 0)


def _last_sizes(t: Timeline) -> dict[int, float]:
    """Each lesion's size at its latest visit that measured it, else as first recorded."""
    sizes = {le.id: le.first_size_cm for le in t.lesions if le.first_size_cm is not None}
    for _, _, line in t.visit_lines():  # oldest first: a later visit's size wins
        if line.size_cm is not None:
            sizes[line.lesion_id] = line.size_cm
    return sizes


def _lump(kb: KnowledgeBase, t: Timeline, lesion: Lesion, size: float | None) -> dict[str, Any]:
    findings: dict[str, Any] = {"palpable_lump": True}
    if lesion.region:
        findings["location"] = lesion.region
    if lesion.side:
        findings["laterality"] = lesion.side
    if lesion.nodule_count > 1:
        findings["nodule_count"] = lesion.nodule_count
    if size is not None:
        findings["size_cm"] = size
    return {"id": lump_key(lesion.id), "lesion_id": lesion.id, "label": lesion.label,
            "x": lesion.x, "y": lesion.y, "findings": findings,
            "later": later_tests_for(lesion.id, t.procedures,
                                     within_minutes=injection_window(kb))}


def start_data(kb: KnowledgeBase, t: Timeline, *, today: dt.date) -> dict[str, Any]:
    """The workspace's starting point for this patient (JSON for clinician.js)."""
    p = t.patient
    patient: dict[str, Any] = {}
    age_spec = FINDINGS["age_years"]
    if p.birth_date is not None:
        age = age_on(p.birth_date, today)
        if age_spec.minimum <= age <= age_spec.maximum:
            patient["age_years"] = age
    if p.sex in SEX_FINDINGS:
        patient["sex"] = p.sex
    sizes = _last_sizes(t)
    active = [le for le in t.lesions if le.status == "active"]
    return {
        "patient_id": p.id, "label": p.label, "record_url": f"/patients/{p.id}",
        "print_id": {"name": p.display_name or "", "identifier": p.local_id or "",
                     "birth_date": p.birth_date.isoformat() if p.birth_date else ""},
        "patient": patient,
        "lumps": [_lump(kb, t, le, sizes.get(le.id)) for le in active],
        "not_active": [f"{le.label} ({le.status})" for le in t.lesions if le.status != "active"],
    }
