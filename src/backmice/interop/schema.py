"""JSON Schema of the accepted inputs: the native patient document and one case-format object."""

from __future__ import annotations

from typing import Any

from backmice.findings import FINDINGS, Kind, Scope
from backmice.interop.cases import LATER_KEYS, MAX_MINUTES_AFTER, PatientDocument
from backmice.interop.notes import MAX_NOTE_CHARS
from backmice.kb.base import INJECTION_FINDING, KnowledgeBase


def findings_schema(kb: KnowledgeBase, *, scope: Scope | None = None,
                    later_tests: bool = False) -> dict[str, Any]:
    """The findings of ``scope`` (every first-visit finding: None); ``later_tests`` adds the
    coded later tests, which the flat ``findings`` of a case-format object also takes."""
    props: dict[str, Any] = {}
    for fid, spec in FINDINGS.items():
        if (spec.later_test and not later_tests) or (scope is not None
                                                     and spec.scope is not scope):
            continue
        if spec.kind is Kind.BOOLEAN:
            s: dict[str, Any] = {"type": ["boolean", "null"]}
        elif spec.kind is Kind.CATEGORY:
            s = {"enum": [*spec.values, None]}
        elif spec.kind is Kind.COUNT:
            s = {"anyOf": [{"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum},
                           {"const": "many"}, {"type": "null"}]}
        else:
            s = {"type": ["number", "null"], "minimum": spec.minimum, "maximum": spec.maximum}
        s["description"] = kb.findings[fid].question.clinician + (
            "" if spec.in_case_format else " (backmice extension of the case format)")
        props[fid] = s
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if "nodule_count" in props and "palpable_lump" in props:  # cases.check_nodule_count
        out["if"] = {"required": ["nodule_count"], "properties": {"nodule_count": {"const": 0}}}
        out["then"] = {"required": ["palpable_lump"],
                       "properties": {"palpable_lump": {"const": False}}}
    return out


def later_tests_schema(kb: KnowledgeBase) -> dict[str, Any]:
    rule = kb.findings[INJECTION_FINDING].reading
    assert rule is not None  # the knowledge-base checks require it
    relief, window = f"{rule.min_relief:.0%}", f"{rule.within_minutes:g} minutes"
    props: dict[str, Any] = {
        "anesthetic_injection_relief": {"type": ["boolean", "null"], "description":
                                        f"at least {relief} relief of the index pain within "
                                        f"{window} (used instead of the pain scores)"},
        "injection_pain_before": {"type": ["number", "null"], "minimum": 0, "maximum": 10,
                                  "description": "index pain (0-10) just before the injection"},
        "injection_pain_after": {"type": ["number", "null"], "minimum": 0, "maximum": 10,
                                 "description": f"index pain (0-10) after the injection; a fall "
                                 f"of at least {relief} counts as relief"},
        "minutes_after": {"type": ["number", "null"], "minimum": 0,
                          "maximum": MAX_MINUTES_AFTER, "description":
                          f"minutes from the injection to the score after; a score taken later "
                          f"than {window} is not used"},
    }
    for kind in ("ultrasound", "mri", "histopathology"):
        props[kind] = {"type": ["string", "null"], "description": f"free-text {kind} report"}
        coded = f"{kind}_finding"
        props[coded] = {"enum": [*FINDINGS[coded].values, None]}
    assert set(props) == set(LATER_KEYS)
    return {"type": ["object", "null"], "properties": props, "additionalProperties": False}


def places_schemas(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    """The three places of a finding in a patient document (and a recorded visit), as the
    reader requires (cases._check_places): ``patient`` (patient-level findings), a lump's
    ``findings`` (its own) and its ``later_tests``. A document cannot contradict itself."""
    return {
        "patient": findings_schema(kb, scope=Scope.PATIENT) | {
            "description": "patient-level findings, applied to every lump (a lump-level "
                           "finding or a later test here is refused: give it in each lump)"},
        "findings": findings_schema(kb, scope=Scope.LUMP) | {
            "description": "this lump's own findings (a patient-level finding here is "
                           "refused: give it once in patient)"},
        "later_tests": later_tests_schema(kb),
    }


def input_schema(kb: KnowledgeBase) -> dict[str, Any]:
    doc = PatientDocument.model_json_schema()
    places = places_schemas(kb)
    doc["properties"]["patient"] = places["patient"]
    lump = doc["$defs"]["_Lump"]
    lump["properties"]["findings"] = places["findings"]
    lump["properties"]["later_tests"] = places["later_tests"]
    doc["properties"]["setting"] = {"enum": [*kb.setting_ids, None], "description": (
        "the care setting (null: the default); a setting chosen by the caller, such as the "
        "setting query parameter, is used instead, but this one must still be known")}
    case = {
        "title": "Case-format object (one lump)",
        "type": "object",
        "properties": {"id": {"type": ["string", "number", "null"]},
                       "gold": {"type": ["string", "null"],
                                "description": "the diagnosis, for validation sets"},
                       "urgent_expected": {"type": ["boolean", "null"]},
                       "findings": {**findings_schema(kb, later_tests=True),
                                    "type": ["object", "null"]},
                       "later_tests": later_tests_schema(kb),
                       "note": {"type": ["string", "null"], "maxLength": MAX_NOTE_CHARS,
                                "description": "a clinical note (free text): its findings "
                                "fill what the structured findings leave unknown; a conflict "
                                "is reported and the structured value kept"}},
        # any other key is ignored (with a note), except lumps: that makes a patient document
        "not": {"required": ["lumps"]},
        "anyOf": [{"required": ["findings"]}, {"required": ["note"]}],
    }
    doc["title"] = "Patient document (many lumps)"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "backmice input", "oneOf": [doc, case]}
