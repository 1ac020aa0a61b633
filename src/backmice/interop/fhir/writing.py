"""Write an assessment as FHIR R4 resources in a Bundle.

Per lump: a BodyStructure (site and side), one Observation per known finding, a RiskAssessment
(one prediction per differential entry, with its probability and the findings for and against
it), a ClinicalImpression (the triage, the red flags, the findings), the suggested work-up as
ServiceRequests in draft, and one DetectedIssue per red flag, which an EHR can alert on
(severity ``high`` for the emergency and same-day levels). Every resource carries the
disclaimer; the knowledge-base and engine versions are in ``RiskAssessment.method``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from backmice.findings import FINDINGS
from backmice.interop.fhir.vocabulary import (
    CONDITION_SYSTEM,
    FROM_BODY_STRUCTURE,
    FROM_PATIENT,
    RED_FLAG_SYSTEM,
    URGENCY_SYSTEM,
    WORKUP_SYSTEM,
    condition_concept,
    finding_concept,
    value_concept,
    value_element,
    words,
)
from backmice.kb.base import KnowledgeBase
from backmice.results import Assessment, PatientAssessment, RankedDiagnosis

# triage level -> (ServiceRequest.priority, DetectedIssue.severity)
PRIORITY = {"emergency": ("stat", "high"), "urgent_same_day": ("asap", "high"),
            "urgent_2_weeks": ("urgent", "moderate"), "routine": ("routine", "low"),
            "self_care": ("routine", "low")}
CONTRIBUTIONS_SHOWN = 3


def _rationale(entry: RankedDiagnosis) -> str:
    def part(title: str, items: Any) -> str:
        shown = [f"{c.label} {c.value} (likelihood ratio {c.likelihood_ratio:.2g})"
                 for c in items[:CONTRIBUTIONS_SHOWN]]
        return f"{title}: " + "; ".join(shown) if shown else ""

    parts = [p for p in (part("for", entry.supporting), part("against", entry.opposing)) if p]
    return ". ".join(parts) or "no finding moves it away from its prior"


class _Bundle:
    """The entries of a collection Bundle, each under a ``urn:uuid`` full URL."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self.entries: list[dict[str, Any]] = []
        self.new_id = new_id

    def add(self, resource: dict[str, Any]) -> str:
        rid = self.new_id()
        resource = {"resourceType": resource["resourceType"], "id": rid,
                    **{k: v for k, v in resource.items() if k != "resourceType"}}
        url = f"urn:uuid:{rid}"
        self.entries.append({"fullUrl": url, "resource": resource})
        return url


def _ref(url: str, display: str | None = None) -> dict[str, Any]:
    return {"reference": url, **({"display": display} if display else {})}


def _lump(bundle: _Bundle, kb: KnowledgeBase, result: Assessment, subject: dict[str, Any],
          when: str, disclaimer: str) -> None:
    findings = result.findings
    site: dict[str, Any] = {"resourceType": "BodyStructure", "patient": subject,
                            "description": f"lump {result.lump_id}",
                            "identifier": [{"system": "urn:backmice:lump",
                                            "value": result.lump_id}]}
    if "location" in findings:
        site["location"] = value_concept(str(findings["location"]))
    if "laterality" in findings:
        site["locationQualifier"] = [value_concept(str(findings["laterality"]))]
    site_url = bundle.add(site)
    observations = []
    for finding, value in findings.items():
        if finding in FROM_PATIENT | FROM_BODY_STRUCTURE:
            continue
        spec = FINDINGS[finding]
        url = bundle.add({"resourceType": "Observation", "status": "final",
                          "code": finding_concept(finding), "subject": subject,
                          "focus": [_ref(site_url)], "effectiveDateTime": when,
                          **value_element(spec, value)})
        observations.append(_ref(url, words(finding)))
    note = [{"text": disclaimer}]
    codes = {c.id: c.codes for c in kb.conditions.values()}
    risk = bundle.add({
        "resourceType": "RiskAssessment", "status": "final", "subject": subject,
        "occurrenceDateTime": when,
        "method": {"coding": [{"system": "https://backmice.org", "code": "backmice",
                               "display": f"backmice engine {result.engine_version}, knowledge "
                                          f"base {result.kb_version}"}],
                   "text": f"backmice {result.engine_version} / KB {result.kb_version}"},
        "basis": [*observations, _ref(site_url, "the lump")],
        "prediction": [{
            "outcome": condition_concept(d.id, d.name, codes.get(d.id, ())),
            "probabilityDecimal": round(d.probability, 4),
            "rationale": _rationale(d)} for d in result.differential],
        "note": note})
    level = str(result.triage.level)
    priority = PRIORITY[level][0]
    flags = []
    for hit in result.red_flags:
        hit_priority, hit_severity = PRIORITY[str(hit.urgency)]
        url = bundle.add({
            "resourceType": "DetectedIssue", "status": "final", "severity": hit_severity,
            "code": {"coding": [{"system": RED_FLAG_SYSTEM, "code": hit.id,
                                 "display": hit.title}], "text": hit.title},
            "patient": subject, "identifiedDateTime": when,
            "implicated": [_ref(site_url, "the lump")],
            "detail": f"{hit.rationale} Action: {hit.action}",
            "mitigation": [{"action": {"text": hit.action}}]})
        flags.append((hit, url, hit_priority))
    impression = bundle.add({
        "resourceType": "ClinicalImpression", "status": "completed", "subject": subject,
        "date": when,
        "code": {"coding": [{"system": URGENCY_SYSTEM, "code": level,
                             "display": result.triage.label}], "text": result.triage.label},
        "description": result.triage.reason,
        "summary": f"{result.triage.label}. {result.triage.advice_clinician} Leading: "
                   f"{result.differential[0].name} ({result.differential[0].probability:.0%}).",
        "finding": [{"itemReference": obs} for obs in observations],
        "prognosisReference": [_ref(risk, "differential")],
        "supportingInfo": [_ref(url, hit.title) for hit, url, _ in flags],
        "note": note + [{"text": f"Red flag: {hit.title}. {hit.action}"}
                        for hit, _, _ in flags]})
    for step in result.workup:
        bundle.add({"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
                    "priority": priority, "subject": subject, "authoredOn": when,
                    "code": {"coding": [{"system": WORKUP_SYSTEM, "code": step.id,
                                         "display": step.name}], "text": step.name},
                    "reasonCode": [{"text": step.purpose}],
                    "supportingInfo": [_ref(impression, "assessment")],
                    "note": note})


def assessment_bundle(kb: KnowledgeBase, result: PatientAssessment, *,
                      patient_reference: str | None, when: str,
                      new_id: Callable[[], str] | None = None) -> dict[str, Any]:
    """A collection Bundle of the assessment of every lump, most urgent lump first.

    ``patient_reference`` is the subject (``Patient/123``); without one the Bundle holds an
    anonymous Patient. ``when`` is the date of the findings; ``new_id`` makes resource ids
    (random UUIDs unless given, so tests can fix them)."""
    bundle = _Bundle(new_id or (lambda: str(uuid.uuid4())))
    if patient_reference:
        subject = _ref(patient_reference)
    else:
        subject = _ref(bundle.add({"resourceType": "Patient", "active": True}))
    for lump in result.lumps:
        _lump(bundle, kb, lump, subject, when, result.disclaimer)
    return {"resourceType": "Bundle", "type": "collection", "timestamp": f"{when}T00:00:00Z",
            "entry": bundle.entries}


def operation_outcome(issues: list[Mapping[str, str]]) -> dict[str, Any]:
    """An OperationOutcome: each issue with its severity, code, text and FHIR element path."""
    return {"resourceType": "OperationOutcome", "issue": [
        {"severity": i.get("severity", "error"), "code": i.get("code", "invalid"),
         "diagnostics": i["text"],
         **({"expression": [i["path"]]} if i.get("path") else {})} for i in issues]}


__all__ = ["CONDITION_SYSTEM", "assessment_bundle", "operation_outcome"]
