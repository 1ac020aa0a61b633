"""Recording a visit: build the engine's input from the lesions and procedures on file, assess
it, and turn the result into the immutable snapshot storage keeps (with one summary line per
lesion). Shared by the JSON API and the patient pages."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from backmice.engine import ENGINE_VERSION
from backmice.errors import InputError, StateConflictError
from backmice.followup.encounters import LumpEntry, encounter_document, lump_key
from backmice.followup.records import Timeline
from backmice.kb.base import KnowledgeBase
from backmice.storage.visits import EncounterDraft
from backmice.web.assessing import assess_text
from backmice.web.record_views import injection_window


def draft_encounter(kb: KnowledgeBase, timeline: Timeline, *, occurred_on: Any,
                    note: str | None, setting: str | None,
                    patient_findings: Mapping[str, Any],
                    lumps: Sequence[Mapping[str, Any]]) -> EncounterDraft:
    """Assess the visit; ``lumps`` are ``{lesion_id, findings, later_tests}`` objects."""
    lesions = {le.id: le for le in timeline.lesions}
    if not lumps:
        raise InputError("lumps", "a visit assesses at least one lesion",
                         "a list of {lesion_id, findings, later_tests}")
    entries = []
    seen = set()
    for i, lump in enumerate(lumps):
        lesion = lesions.get(lump.get("lesion_id"))
        if lesion is None:
            raise StateConflictError(  # the body is well formed; the record refuses it: 409
                f"lumps.{i}.lesion_id", "is not one of this patient's lesions",
                "the id of one of this patient's lesions: "
                + (", ".join(str(k) for k in lesions) or "none yet (add one)"))
        if lesion.id in seen:
            raise InputError(f"lumps.{i}.lesion_id", "appears twice", "each lesion once")
        seen.add(lesion.id)
        entries.append(LumpEntry(lesion, lump.get("findings") or {}, lump.get("later_tests")))
    doc = encounter_document(setting=setting, patient_findings=patient_findings,
                             entries=entries, procedures=timeline.procedures,
                             within_minutes=injection_window(kb))
    done = assess_text(kb, json.dumps(doc))
    result = done.document
    by_key = {lump["lump_id"]: lump for lump in result["lumps"]}
    lines = []
    for entry in entries:
        lump = by_key[lump_key(entry.lesion.id)]
        top = lump["differential"][0]
        size = lump["findings"].get("size_cm") if isinstance(lump["findings"], dict) else None
        lines.append((entry.lesion.id, lump_key(entry.lesion.id), top["id"],
                      float(top["probability"]), lump["triage"]["level"],
                      size if isinstance(size, int | float) else None))
    return EncounterDraft(occurred_on=occurred_on, note=note, input_doc=doc, result_doc=result,
                          kb_version=kb.version, engine_version=ENGINE_VERSION,
                          triage=result["triage"]["level"], lesions=tuple(lines))
