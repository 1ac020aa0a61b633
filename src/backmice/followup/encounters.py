"""A visit's input for the engine: the native patient document built from the lesions being
assessed, the findings entered for them, and what earlier procedures showed.

Each lesion becomes one lump, keyed ``lesion-<id>`` (no patient data in the key). What the
lesion record already knows (region, side, a cluster's nodule count) fills the matching finding
when the visit leaves it out; later tests come from the lesion's procedures unless the visit
gives its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backmice.followup.later_tests import later_tests_for
from backmice.followup.records import Lesion, Procedure


@dataclass(frozen=True, slots=True)
class LumpEntry:
    """What was entered for one lesion at the visit."""

    lesion: Lesion
    findings: Mapping[str, Any]
    later_tests: Mapping[str, Any] | None = None  # None: take them from the procedures


def lump_key(lesion_id: int) -> str:
    return f"lesion-{lesion_id}"


def _known_from_record(lesion: Lesion) -> dict[str, Any]:
    known: dict[str, Any] = {}
    if lesion.region:
        known["location"] = lesion.region
    if lesion.side:
        known["laterality"] = lesion.side
    if lesion.nodule_count > 1:
        known["nodule_count"] = lesion.nodule_count
    return known


def encounter_document(*, setting: str | None, patient_findings: Mapping[str, Any],
                       entries: Sequence[LumpEntry], procedures: Iterable[Procedure],
                       within_minutes: float) -> dict[str, Any]:
    """The native patient document (see ``backmice schema input``) for this visit;
    ``within_minutes`` is the knowledge base's window for reading the anaesthetic test."""
    procedures = list(procedures)
    lumps = []
    for entry in entries:
        findings = {**_known_from_record(entry.lesion), **entry.findings}
        later = dict(entry.later_tests) if entry.later_tests is not None else \
            later_tests_for(entry.lesion.id, procedures, within_minutes=within_minutes)
        lumps.append({"id": lump_key(entry.lesion.id), "findings": findings,
                      "later_tests": later or None})
    return {"setting": setting, "patient": dict(patient_findings), "lumps": lumps}
