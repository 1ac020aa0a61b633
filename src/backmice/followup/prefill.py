"""What the record already knows for a new visit, so it is not asked again: the age at the
visit date (from the date of birth), the sex, and each lesion's last recorded size. The
clinician can change every value; later tests come from the procedures on file
(``followup.encounters``) and need no prefill.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from backmice.followup.records import Lesion, LesionSummary, Patient

# The record's sexes that are values of the engine's ``sex`` finding (others stay unknown).
FINDING_SEXES = ("female", "male")


@dataclass(frozen=True, slots=True)
class VisitPrefill:
    patient: dict[str, object] = field(default_factory=dict)  # finding id → value
    lesions: dict[int, dict[str, object]] = field(default_factory=dict)  # lesion id → findings
    size_from: dict[int, dt.date] = field(default_factory=dict)  # when each size was measured


def age_on(birth_date: dt.date, day: dt.date) -> int | None:
    """Whole years of age on ``day``; None when ``day`` is before the birth date."""
    years = day.year - birth_date.year - ((day.month, day.day) < (birth_date.month,
                                                                  birth_date.day))
    return years if years >= 0 else None


def last_sizes(lesions: Iterable[Lesion],
               visit_lines: Iterable[tuple[dt.date, int, LesionSummary]]
               ) -> dict[int, tuple[dt.date, float]]:
    """Each lesion's latest size: from the latest visit that recorded one, else its first
    size when it was added."""
    found: dict[int, tuple[dt.date, float]] = {}
    for le in lesions:
        if le.first_size_cm is not None:
            found[le.id] = (le.created_at.date(), le.first_size_cm)
    for day, _, line in sorted(visit_lines, key=lambda item: (item[0], item[1])):
        if line.size_cm is None:
            continue
        if line.lesion_id not in found or found[line.lesion_id][0] <= day:
            found[line.lesion_id] = (day, line.size_cm)
    return found


def visit_prefill(patient: Patient, lesions: Iterable[Lesion],
                  visit_lines: Iterable[tuple[dt.date, int, LesionSummary]], *,
                  on: dt.date) -> VisitPrefill:
    """The values a visit on ``on`` starts with."""
    lesions = list(lesions)
    known: dict[str, object] = {}
    if patient.birth_date is not None:
        age = age_on(patient.birth_date, on)
        if age is not None:
            known["age_years"] = age
    if patient.sex in FINDING_SEXES:
        known["sex"] = patient.sex
    sizes = last_sizes(lesions, visit_lines)
    ids = {le.id for le in lesions}
    return VisitPrefill(
        patient=known,
        lesions={lid: {"size_cm": size} for lid, (_, size) in sizes.items() if lid in ids},
        size_from={lid: day for lid, (day, _) in sizes.items() if lid in ids})
