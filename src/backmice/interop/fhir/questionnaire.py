"""The interview as a FHIR Questionnaire, and the two halves of one SDC adaptive-form step
(``$next-question``) around the engine: :func:`read_response` takes the answers out of a
QuestionnaireResponse with its contained Questionnaire, :func:`answer_response` returns the same
with the next item appended, or ``completed`` with the result contained when the interview
stops (the web adapter runs the engine's interview step in between).

Every question is asked in the patient's words; each item carries the finding's code. An item
of the response with no answer means "I don't know" (never "no"). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backmice.errors import InputError
from backmice.findings import FINDINGS, Kind, Value, parse_value
from backmice.interop.fhir.vocabulary import (
    FINDING_SYSTEM,
    UCUM,
    UNITS,
    VALUE_SYSTEM,
    words,
)
from backmice.interop.fhir.writing import assessment_bundle
from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import FindingGroup
from backmice.results import Assessment, PatientAssessment

QUESTIONNAIRE_ID = "backmice-interview"
ADAPTIVE_PROFILE = ("http://hl7.org/fhir/uv/sdc/StructureDefinition/"
                    "sdc-questionnaire-adapt")
UNIT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
MIN_EXTENSION = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_EXTENSION = "http://hl7.org/fhir/StructureDefinition/maxValue"
# A question that only makes sense after a "yes" to another (answer is implied otherwise).
ENABLED_BY = {"recurrent_after_excision": "prior_surgery_here",
              "pain_increasing_after_procedure": "recent_procedure_here"}


def _label(kb: KnowledgeBase, finding: str, value: str) -> str:
    entry = kb.findings[finding]
    return entry.patient_value_labels.get(value) or entry.value_label(value)


def item(kb: KnowledgeBase, finding: str) -> dict[str, Any]:
    """One Questionnaire item: the patient's question, its type, options or unit and range."""
    spec, entry = FINDINGS[finding], kb.findings[finding]
    out: dict[str, Any] = {
        "linkId": finding, "text": entry.question.patient, "required": False,
        "code": [{"system": FINDING_SYSTEM, "code": finding, "display": words(finding)}]}
    if spec.kind is Kind.BOOLEAN:
        out["type"] = "boolean"
    elif spec.kind is Kind.CATEGORY:
        out["type"] = "choice"
        out["answerOption"] = [{"valueCoding": {"system": VALUE_SYSTEM, "code": v,
                                                "display": _label(kb, finding, v)}}
                               for v in spec.values]
    else:
        out["type"] = "integer" if spec.kind is Kind.COUNT else "decimal"
        kind = "valueInteger" if spec.kind is Kind.COUNT else "valueDecimal"
        out["extension"] = [{"url": MIN_EXTENSION, kind: spec.minimum},
                            {"url": MAX_EXTENSION, kind: spec.maximum}]
        if finding in UNITS:
            code, display = UNITS[finding]
            out["extension"].append({"url": UNIT_EXTENSION, "valueCoding": {
                "system": UCUM, "code": code, "display": display}})
    if entry.question.help:
        out["item"] = [{"linkId": f"{finding}.help", "type": "display",
                        "text": entry.question.help}]
    if finding in ENABLED_BY:
        out["enableWhen"] = [{"question": ENABLED_BY[finding], "operator": "=",
                              "answerBoolean": True}]
    return out


def questionnaire(kb: KnowledgeBase, *, items: list[dict[str, Any]] | None = None,
                  qid: str = QUESTIONNAIRE_ID) -> dict[str, Any]:
    """The full interview (every finding a patient can be asked), or an adaptive one holding
    ``items`` only."""
    asked = [f for f, e in kb.findings.items() if e.group is not FindingGroup.LATER_TESTS]
    full = items is None
    return {
        "resourceType": "Questionnaire", "id": qid,
        "meta": {"profile": [ADAPTIVE_PROFILE]},
        "url": f"https://backmice.org/fhir/Questionnaire/{QUESTIONNAIRE_ID}",
        "version": kb.version, "name": "BackmiceInterview",
        "title": "A lump on the lower back, buttock or hip", "status": "active",
        "subjectType": ["Patient"],
        "description": "The backmice patient interview. It supports, and does not replace, a "
                       "clinician's judgement; in an emergency call the emergency number.",
        "item": [item(kb, f) for f in asked] if full else items,
    }


_ANSWER_KEYS = ("valueBoolean", "valueCoding", "valueDecimal", "valueInteger", "valueQuantity")


def _answer(spec_id: str, answers: Any, path: str) -> Any:
    if not answers:
        return None
    if not isinstance(answers, list) or not isinstance(answers[0], dict):
        raise InputError(path, "expected a list of answers", "one answer object")
    first = answers[0]
    key = next((k for k in _ANSWER_KEYS if k in first), None)
    if key is None:
        raise InputError(f"{path}[0]", "no value", ", ".join(_ANSWER_KEYS))
    value = first[key]
    if key == "valueCoding":
        if not isinstance(value, dict) or value.get("system") != VALUE_SYSTEM:
            raise InputError(f"{path}[0].valueCoding", "not a backmice value",
                             f"a coding with system {VALUE_SYSTEM}")
        return value.get("code")
    if key == "valueQuantity":
        return value.get("value") if isinstance(value, dict) else value
    return value


def unwrap(body: Any) -> Any:
    """The QuestionnaireResponse of a ``$next-question`` body: the resource itself, or the
    ``in`` parameter of a Parameters."""
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        for param in body.get("parameter") or []:
            if isinstance(param, dict) and param.get("name") == "in":
                return param.get("resource")
        raise InputError("Parameters.parameter", "no parameter named 'in'",
                         "a parameter 'in' holding the QuestionnaireResponse")
    return body


def read_response(response: Any
                  ) -> tuple[list[tuple[str, Value | None]], list[dict[str, Any]], str]:
    """The answers of a QuestionnaireResponse in the order of its items (None: "don't know"),
    checked, with the contained Questionnaire's items so far and that Questionnaire's id."""
    if not isinstance(response, dict) or response.get("resourceType") != "QuestionnaireResponse":
        raise InputError("resourceType", "expected a QuestionnaireResponse",
                         "a QuestionnaireResponse (Parameters with one is accepted too)")
    contained = [r for r in response.get("contained") or [] if isinstance(r, dict)
                 and r.get("resourceType") == "Questionnaire"]
    items = list(contained[0].get("item") or []) if contained else []
    qid = str(contained[0].get("id") or "adaptive") if contained else "adaptive"
    answers: list[tuple[str, Value | None]] = []
    for i, entry in enumerate(response.get("item") or []):
        path = f"QuestionnaireResponse.item[{i}]"
        link = entry.get("linkId") if isinstance(entry, dict) else None
        if link not in FINDINGS:
            raise InputError(f"{path}.linkId", f"unknown question {link!r}",
                             "a linkId of the Questionnaire")
        raw = _answer(link, entry.get("answer"), f"{path}.answer")
        answers.append((link, parse_value(FINDINGS[link], raw, f"{path}.answer[0]")))
    return answers, items, qid


def _contained_result(kb: KnowledgeBase, result: PatientAssessment, subject: str | None,
                      when: str, new_id: Callable[[], str] | None) -> list[dict[str, Any]]:
    """The result's resources, contained: full-URL references become local ``#id`` ones."""
    bundle = assessment_bundle(kb, result, patient_reference=subject, when=when, new_id=new_id)
    resources = [e["resource"] for e in bundle["entry"]]

    def local(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"#{v[9:]}" if k == "reference" and isinstance(v, str)
                        and v.startswith("urn:uuid:") else local(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [local(v) for v in node]
        return node

    return [local(r) for r in resources]


def answer_response(kb: KnowledgeBase, response: dict[str, Any], items: list[dict[str, Any]],
                    qid: str, *, next_finding: str | None, assessment: Assessment, when: str,
                    new_id: Callable[[], str] | None = None) -> dict[str, Any]:
    """The response with ``next_finding``'s item added to its contained Questionnaire, or,
    when there is no next question, ``completed`` with ``assessment`` contained."""
    out = {k: v for k, v in response.items() if k != "contained"}
    out["questionnaire"] = f"#{qid}"
    if next_finding is not None:
        if next_finding not in {i.get("linkId") for i in items}:
            items = [*items, item(kb, next_finding)]
        out["contained"] = [questionnaire(kb, items=items, qid=qid)]
        out["status"] = "in-progress"
        return out
    result = PatientAssessment(kb_version=assessment.kb_version,
                               engine_version=assessment.engine_version,
                               setting=assessment.setting, lumps=(assessment,),
                               triage=assessment.triage, disclaimer=assessment.disclaimer)
    subject = response.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    out["contained"] = [questionnaire(kb, items=items, qid=qid),
                        *_contained_result(kb, result, reference, when, new_id)]
    out["status"] = "completed"
    return out


__all__ = ["QUESTIONNAIRE_ID", "answer_response", "item", "questionnaire", "read_response",
           "unwrap"]
