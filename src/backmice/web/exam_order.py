"""The order in which the finding forms ask, as a clinician examines a back lump: the history,
then what is seen, then what is felt, then the safety (systemic) questions, then the later
tests. Used by templates/_fields.html for the clinician workspace and the record-a-visit form.

A finding the table does not name (one the knowledge base adds later) is not lost: it goes to
the section of its knowledge-base group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# (section id, title, finding ids in the order they are asked)
EXAM_SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("history", "History", (
        "age_years", "sex", "duration_weeks", "growth", "pain",
        "pain_worse_sitting_or_lying_on_it", "pain_with_bending_or_twisting", "radiating_leg_pain",
        "trauma_history", "repetitive_bending_or_twisting", "prior_surgery_here")),
    ("look", "Look", ("erythema", "warmth", "discharge", "punctum")),
    ("feel", "Feel", (
        "size_cm", "consistency", "mobile", "tender", "pain_reproduced_by_pressure", "depth",
        "palpable_lump", "nodule_count", "location", "laterality")),
    ("safety", "Safety questions", (
        "fever", "systemically_unwell", "immunocompromised_or_diabetic", "history_of_cancer",
        "neurological_deficit", "bladder_or_bowel_dysfunction", "saddle_anaesthesia",
        "bilateral_leg_symptoms", "spreading_redness", "bleeding", "recent_procedure_here",
        "pain_increasing_after_procedure", "recurrent_after_excision")),
    ("later_tests", "Later tests", (
        "anesthetic_injection_relief", "ultrasound_finding", "mri_finding",
        "histopathology_finding")),
)
# Where a finding the table does not name goes, by its knowledge-base group.
SECTION_OF_GROUP = {"history": "history", "examination": "feel", "safety": "safety",
                    "later_tests": "later_tests"}
# A category with at most this many values is a row of toggles; a longer one stays a list.
MAX_TOGGLES = 5


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    fields: tuple[Mapping[str, Any], ...]


def exam_sections(groups: Iterable[Sequence[Any]], scope: str, *,
                  skip: Iterable[str] = ()) -> list[Section]:
    """The findings of ``scope`` ("patient" or "lump") from the page's (group id, title, items)
    groups, in examination order; empty sections are left out, as are the ids in ``skip``."""
    left_out = set(skip)
    items = [f for _gid, _title, fields in groups for f in fields
             if f["scope"] == scope and f["id"] not in left_out]
    by_id = {f["id"]: f for f in items}
    named = {fid for _sid, _title, ids in EXAM_SECTIONS for fid in ids}
    out = []
    for sid, title, ids in EXAM_SECTIONS:
        fields = [by_id[fid] for fid in ids if fid in by_id]
        fields += [f for f in items
                   if f["id"] not in named and SECTION_OF_GROUP.get(f["group"], "feel") == sid]
        if fields:
            out.append(Section(sid, title, tuple(fields)))
    return out


def as_toggles(f: Mapping[str, Any]) -> bool:
    """A yes/no finding, or a short category, is answered with a row of toggles."""
    return f["kind"] == "boolean" or (
        f["kind"] == "category" and len(f.get("values") or ()) <= MAX_TOGGLES)
