"""Reading cases: the JSON Lines case format of case-format.md, and the native patient document.

Two shapes are accepted wherever one case is read (``backmice assess``, the API):

* a case-format object: ``{"id", "findings": {...}, "later_tests": {...}, ...}`` (one lump);
* the native patient document: ``{"setting", "patient": {...}, "lumps": [{"id", "findings",
  "later_tests"}, ...]}``: patient-level findings apply to every lump.

Free-text imaging and pathology reports go through :mod:`backmice.nlp.later_tests`. Every
problem raises :class:`~backmice.errors.InputError` naming the field and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backmice.errors import CaseFormatError, InputError
from backmice.findings import (
    FINDINGS,
    FindingSet,
    LumpInput,
    PatientInput,
    Value,
    parse_findings,
    parse_value,
)
from backmice.nlp.later_tests import finding_for, read_report

TEXT_REPORTS = ("ultrasound", "mri", "histopathology")
RELIEF_THRESHOLD = 0.7  # fraction of the index pain that must go (EVIDENCE.md 5.1, estimate)
LATER_KEYS = ("anesthetic_injection_relief", "injection_pain_before", "injection_pain_after",
              "minutes_after", *TEXT_REPORTS, "ultrasound_finding", "mri_finding",
              "histopathology_finding")


@dataclass(frozen=True)
class CaseRecord:
    """One case of the exchange format: the first-visit findings and, separately, later tests."""

    id: str
    gold: str | None
    urgent_expected: bool | None
    first_visit: FindingSet
    with_later_tests: FindingSet
    notes: tuple[str, ...] = ()


def _pain(raw: Any, path: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 10:
        raise InputError(path, f"expected a pain score, got {raw!r}", "a number from 0 to 10")
    return float(raw)


def read_later_tests(raw: Any, *, path: str = "later_tests") -> tuple[dict[str, Value], list[str]]:
    """Later tests → finding values, plus notes on anything that could not be read."""
    if raw is None:
        return {}, []
    if not isinstance(raw, Mapping):
        raise InputError(path, "expected an object")
    unknown = [k for k in raw if k not in LATER_KEYS]
    if unknown:
        raise InputError(f"{path}.{unknown[0]}", "unknown later test", ", ".join(LATER_KEYS))
    values: dict[str, Value] = {}
    notes: list[str] = []
    relief = parse_value(FINDINGS["anesthetic_injection_relief"],
                         raw.get("anesthetic_injection_relief"),
                         f"{path}.anesthetic_injection_relief")
    before = _pain(raw.get("injection_pain_before"), f"{path}.injection_pain_before")
    after = _pain(raw.get("injection_pain_after"), f"{path}.injection_pain_after")
    if relief is None and before is not None and after is not None:
        if before > 0:
            relief = (before - after) / before >= RELIEF_THRESHOLD
            notes.append(f"Anaesthetic test: pain {before:g} → {after:g} counted as "
                         f"{'relief' if relief else 'no relief'} (threshold 70%).")
        else:
            notes.append("Anaesthetic test: no pain before the injection, result not used.")
    if relief is not None:
        values["anesthetic_injection_relief"] = relief
    for kind in TEXT_REPORTS:
        finding = finding_for(kind)
        coded = parse_value(FINDINGS[finding], raw.get(finding), f"{path}.{finding}")
        text = raw.get(kind)
        if text is not None and not isinstance(text, str):
            raise InputError(f"{path}.{kind}", "expected free text", "a string or null")
        if coded is None and text and text.strip():
            coded = read_report(kind, text)
            if coded is None:
                notes.append(f"The {kind} report could not be read into a finding; it was "
                             "not used.")
        if coded is not None:
            values[finding] = coded
    return values, notes


def _parse_json(text: str) -> Any:
    if not text.strip():
        raise CaseFormatError("(input)", "the input is empty", "one JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFormatError("(input)", f"not valid JSON: {exc.msg} at line {exc.lineno} "
                                         f"column {exc.colno}", "one JSON object") from None
    except (ValueError, RecursionError) as exc:  # over-long integers, absurd nesting
        raise CaseFormatError("(input)", f"JSON that cannot be read safely ({exc})"[:160],
                              "one JSON object of ordinary size") from None


def read_case(obj: Any, *, strict: bool = True) -> CaseRecord:
    """One case-format object. ``strict=False`` ignores unknown finding keys (validation runs)."""
    if not isinstance(obj, Mapping):
        raise CaseFormatError("(case)", "expected a JSON object")
    case_id = obj.get("id")
    first = parse_findings(obj.get("findings"), strict=strict)
    later, notes = read_later_tests(obj.get("later_tests"))
    gold = obj.get("gold")
    if gold is not None and not isinstance(gold, str):
        raise InputError("gold", "expected a condition id or other:<name>")
    urgent = obj.get("urgent_expected")
    if urgent is not None and not isinstance(urgent, bool):
        raise InputError("urgent_expected", "expected true, false or null")
    both = first.with_values(**later) if later else first
    return CaseRecord(id=str(case_id) if case_id is not None else "case", gold=gold,
                      urgent_expected=urgent, first_visit=first, with_later_tests=both,
                      notes=tuple(notes))


class _Lump(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=100)
    findings: dict[str, Any] = Field(default_factory=dict)
    later_tests: dict[str, Any] | None = None


class PatientDocument(BaseModel):
    """The native input: one patient, any number of lumps (JSON Schema: ``backmice schema``)."""

    model_config = ConfigDict(extra="forbid")
    setting: str | None = Field(default=None, description="primary_care (default), "
                                "spine_pain_clinic or dermatology_surgery")
    patient: dict[str, Any] = Field(default_factory=dict,
                                    description="patient-level findings, applied to every lump")
    lumps: list[_Lump] = Field(min_length=1, max_length=2000)


def _allowed(err: Any) -> str:
    """What the patient document accepts at the place of a pydantic error."""
    loc = [p for p in err["loc"] if not isinstance(p, int)]
    if err["type"] == "extra_forbidden":
        fields = _Lump.model_fields if loc[:1] == ["lumps"] else PatientDocument.model_fields
        return ", ".join(fields)
    if loc == ["lumps"]:
        return "a list of 1 to 2000 lumps, each {id, findings, later_tests}"
    if loc[-1:] == ["id"]:
        return "a text of at most 100 characters"
    if loc[-1:] in (["findings"], ["patient"], ["later_tests"]):
        return "an object (see backmice schema input)"
    if loc == ["setting"]:
        return "primary_care, spine_pain_clinic, dermatology_surgery or null"
    return "see backmice schema input"


def _patient(obj: Mapping[str, Any]) -> tuple[PatientInput, list[str]]:
    try:
        doc = PatientDocument.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(where, err["msg"], _allowed(err)) from None
    shared = parse_findings(doc.patient, path="patient")
    lumps = []
    notes: list[str] = []
    for i, lump in enumerate(doc.lumps):
        own = parse_findings(lump.findings, path=f"lumps.{i}.findings")
        for key in own:
            if key in shared and shared[key] != own[key]:
                raise InputError(f"lumps.{i}.findings.{key}",
                                 "contradicts the patient-level value",
                                 f"{json.dumps(shared[key])} or leave it out")
        later, lump_notes = read_later_tests(lump.later_tests, path=f"lumps.{i}.later_tests")
        values = {**own, **later}
        merged = shared.with_values(**values)
        lumps.append(LumpInput(id=lump.id or f"lump-{i + 1}", findings=merged))
        notes.extend(lump_notes)
    return PatientInput(lumps=tuple(lumps), setting=doc.setting), notes


def read_document(text: str, *, setting: str | None = None) -> tuple[PatientInput, list[str]]:
    """Parse either accepted shape from JSON text into a PatientInput (and reading notes)."""
    obj = _parse_json(text)
    if not isinstance(obj, Mapping):
        raise CaseFormatError("(input)", "expected one JSON object",
                              "a case-format object or a patient document with lumps")
    if "lumps" in obj:
        patient, notes = _patient(obj)
        if setting:
            patient = PatientInput(lumps=patient.lumps, setting=setting)
        return patient, notes
    if "findings" not in obj:
        raise CaseFormatError("(input)", "found neither 'findings' nor 'lumps'",
                              "a case-format object or a patient document with lumps")
    case = read_case(obj)
    lump = LumpInput(id=case.id, findings=case.with_later_tests)
    return PatientInput(lumps=(lump,), setting=setting), list(case.notes)

