"""FHIR mappings (backmice.interop.fhir): FHIR input read into the native document, the
assessment written as R4 resources that pass two independent validators, the Questionnaire and
the adaptive $next-question step, and errors that name the FHIR element."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from pathlib import Path

import pydantic
import pytest
from fhirclient.models.fhirabstractbase import FHIRValidationError
from tests.fhir_validation import validate

from backmice.engine import assess_patient
from backmice.errors import InputError
from backmice.interop.cases import read_value
from backmice.interop.fhir import assessment_bundle, read_fhir
from backmice.interop.fhir.questionnaire import questionnaire
from backmice.interop.fhir.vocabulary import UCUM, finding_concept, value_concept
from backmice.web.fhir.interview import next_question

TODAY = dt.date(2026, 12, 7)


def ids():
    counter = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


def observation(finding, focus=None, **value):
    obs = {"resourceType": "Observation", "status": "final", "code": finding_concept(finding),
           **value}
    if focus:
        obs["focus"] = [{"reference": f"BodyStructure/{focus}"}]
    return obs


def lump(lid, location, side):
    return {"resourceType": "BodyStructure", "id": lid, "patient": {"reference": "Patient/p1"},
            "location": value_concept(location), "locationQualifier": [value_concept(side)]}


def parameters(*resources, date=None):
    params = [{"name": r["resourceType"].lower(), "resource": r} for r in resources]
    if date:
        params.append({"name": "date", "valueDate": date})
    return {"resourceType": "Parameters", "parameter": params}


PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1979-03-02", "gender": "female"}


def test_a_two_lump_input_reads_into_the_native_document():
    body = parameters(
        PATIENT, lump("a", "posterior_superior_iliac_spine", "left"),
        lump("b", "buttock", "right"),
        observation("size_cm", "a", valueQuantity={"value": 15, "system": UCUM, "code": "mm"}),
        observation("size_cm", "b", valueQuantity={"value": 7, "system": UCUM, "code": "cm"}),
        observation("growth", "b", valueCodeableConcept=value_concept("rapid")),
        observation("fever", valueBoolean=False),
        observation("duration_weeks", "a", valueQuantity={"value": 6, "code": "mo"}),
        date="2026-03-01")
    read = read_fhir(body, today=TODAY)
    assert read.document == {
        "patient": {"age_years": 46.0, "sex": "female", "fever": False},
        "lumps": [
            {"id": "a", "findings": {"location": "posterior_superior_iliac_spine",
                                     "laterality": "left", "size_cm": 1.5, "duration_weeks": 26.0}},
            {"id": "b", "findings": {"location": "buttock", "laterality": "right",
                                     "size_cm": 7, "growth": "rapid"}}]}
    assert read.patient_reference == "Patient/p1"
    assert read.occurrence == "2026-03-01"


def test_the_assessment_bundle_is_valid_r4_and_puts_the_urgent_lump_first(kb):
    body = parameters(PATIENT, lump("a", "posterior_superior_iliac_spine", "left"),
                      lump("b", "buttock", "right"),
                      observation("size_cm", "b", valueQuantity={"value": 7, "code": "cm"}),
                      observation("growth", "b", valueCodeableConcept=value_concept("rapid")))
    read = read_fhir(body, today=TODAY)
    patient, _ = read_value(read.document, kb=kb)
    result = assess_patient(kb, patient)
    bundle = assessment_bundle(kb, result, patient_reference=read.patient_reference,
                               when=read.occurrence, new_id=ids())
    validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "BodyStructure"
    first_lump = bundle["entry"][0]["resource"]
    assert first_lump["identifier"][0]["value"] == "b"  # the 7 cm growing lump comes first
    risks = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"]
             == "RiskAssessment"]
    assert len(risks) == 2
    for risk, lumpresult in zip(risks, result.lumps, strict=True):
        probabilities = [p["probabilityDecimal"] for p in risk["prediction"]]
        assert probabilities == sorted(probabilities, reverse=True)
        assert [p["outcome"]["coding"][0]["code"] for p in risk["prediction"]] == \
            [d.id for d in lumpresult.differential]
    issues = [e["resource"] for e in bundle["entry"]
              if e["resource"]["resourceType"] == "DetectedIssue"]
    assert {i["code"]["coding"][0]["code"] for i in issues} == \
        {h.id for h in result.lumps[0].red_flags}
    assert issues and all(i["severity"] in ("high", "moderate") for i in issues)
    requests = [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "ServiceRequest"]
    assert requests and {r["status"] for r in requests} == {"draft"}
    urls = {e["fullUrl"] for e in bundle["entry"]}
    for entry in bundle["entry"]:  # every reference inside the Bundle resolves
        for ref in _references(entry["resource"]):
            assert ref in urls or ref == "Patient/p1", ref


def _references(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference":
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def test_a_note_in_a_document_reference_fills_what_the_observations_leave_unknown(kb):
    text = "Tender 1.5 cm rubbery mobile nodule over the left PSIS for 6 months. No fever."
    note = {"resourceType": "DocumentReference", "status": "current", "content": [
        {"attachment": {"contentType": "text/plain",
                        "data": base64.b64encode(text.encode()).decode()}}]}
    read = read_fhir(parameters(PATIENT, note), today=TODAY)
    assert read.document["lumps"][0]["note"] == text
    patient, _ = read_value(read.document, kb=kb)
    assert patient.lumps[0].findings.values["location"] == "posterior_superior_iliac_spine"


@pytest.mark.parametrize(("body", "path", "words"), [
    ({"resourceType": "Patient"}, "resourceType", "Parameters or Bundle"),
    (parameters(observation("size_cm", valueQuantity={"value": 2, "code": "kg"})),
     "Parameters.parameter[0].resource.valueQuantity.code", "'cm'"),
    (parameters(observation("age_years", valueInteger=40)),
     "Parameters.parameter[0].resource.code", "Patient"),
    (parameters(lump("a", "buttock", "left"), lump("b", "flank", "left"),
                observation("size_cm", valueQuantity={"value": 2, "code": "cm"})),
     "Parameters.parameter[2].resource.focus", "BodyStructure"),
    (parameters({**PATIENT, "birthDate": "2030-01-01"}),
     "Parameters.parameter[0].resource.birthDate", "on or before"),
    (parameters({"resourceType": "BodyStructure", "location": value_concept("elbow")}),
     "Parameters.parameter[0].resource.location", "posterior_superior_iliac_spine"),
    (parameters({"resourceType": "DocumentReference", "status": "current", "content": [
        {"attachment": {"contentType": "text/plain", "data": "%%%"}}]}),
     "Parameters.parameter[0].resource.content[0].attachment.data", "base64"),
])
def test_bad_input_names_the_fhir_element(body, path, words):
    with pytest.raises(InputError) as caught:
        read_fhir(body, today=TODAY)
    assert caught.value.field == path
    assert words in f"{caught.value.message} {caught.value.allowed}"


def test_an_out_of_range_value_is_traced_back_to_its_fhir_element(kb):
    body = parameters(observation("size_cm", valueQuantity={"value": 300, "code": "cm"}))
    read = read_fhir(body, today=TODAY)
    with pytest.raises(InputError) as caught:
        read_value(read.document, kb=kb)
    assert read.fhir_path(caught.value.field) == \
        "Parameters.parameter[0].resource.valueQuantity.value"


def test_the_questionnaire_is_valid_and_asks_in_patient_words(kb):
    q = questionnaire(kb)
    validate(q)
    links = [i["linkId"] for i in q["item"]]
    assert "size_cm" in links and "ultrasound_finding" not in links  # later tests not asked
    location = next(i for i in q["item"] if i["linkId"] == "location")
    labels = {o["valueCoding"]["code"]: o["valueCoding"]["display"]
              for o in location["answerOption"]}
    assert set(labels) == set(kb.findings["location"].value_labels) | set(labels)
    recurrent = next(i for i in q["item"] if i["linkId"] == "recurrent_after_excision")
    assert recurrent["enableWhen"][0]["question"] == "prior_surgery_here"


def _walk(kb, answer):
    """Answer each next question with ``answer(item)`` until the interview completes."""
    response = {"resourceType": "QuestionnaireResponse", "status": "in-progress",
                "subject": {"reference": "Patient/p1"}, "item": []}
    for _ in range(60):
        response = next_question(kb, response, when="2026-12-07", new_id=ids())
        validate(response)
        if response["status"] == "completed":
            return response
        asked = response["contained"][0]["item"][-1]
        response["item"].append({"linkId": asked["linkId"], **answer(asked)})
    raise AssertionError("the interview did not end")


def test_the_adaptive_interview_runs_to_a_completed_response_with_the_result(kb):
    def no_or_first(item):
        if item["type"] == "boolean":
            return {"answer": [{"valueBoolean": False}]}
        if item["type"] == "choice":
            return {"answer": [{"valueCoding": item["answerOption"][0]["valueCoding"]}]}
        return {"answer": [{"valueDecimal": 2}]} if item["type"] == "decimal" else \
            {"answer": [{"valueInteger": 1}]}

    done = _walk(kb, no_or_first)
    kinds = [r["resourceType"] for r in done["contained"]]
    assert kinds[0] == "Questionnaire" and "RiskAssessment" in kinds
    assert len(done["contained"][0]["item"]) == len(done["item"])


def test_unanswered_items_are_dont_know_so_red_flags_stay_open(kb):
    done = _walk(kb, lambda item: {})
    impression = next(r for r in done["contained"] if r["resourceType"] == "ClinicalImpression")
    assert impression["code"]["coding"][0]["code"] != "self_care"


def test_a_bad_answer_names_the_response_item(kb):
    response = {"resourceType": "QuestionnaireResponse", "status": "in-progress", "item": [
        {"linkId": "size_cm", "answer": [{"valueDecimal": -4}]}]}
    with pytest.raises(InputError) as caught:
        next_question(kb, response, when="2026-12-07")
    assert caught.value.field == "QuestionnaireResponse.item[0].answer[0]"


@pytest.mark.parametrize("broken", [
    {"resourceType": "RiskAssessment", "status": "final"},  # no subject (1..1)
    {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
     "valueBoolean": True, "colour": "red"},  # an element R4 does not have
    {"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
     "subject": {"reference": "Patient/1"}, "priority": 3},  # wrong type
])
def test_the_validators_refuse_what_r4_refuses(broken):
    with pytest.raises((FHIRValidationError, pydantic.ValidationError)):
        validate(broken)


def test_the_readme_example_is_read_and_answered_with_valid_resources(kb):
    body = json.loads((Path(__file__).parents[1] / "examples" / "fhir" / "assess.json").read_text())
    read = read_fhir(body, today=TODAY)
    patient, _ = read_value(read.document, kb=kb)
    findings = patient.lumps[0].findings.values
    assert findings["size_cm"] == 1.5 and findings["duration_weeks"] == 26.0
    assert findings["pain_reproduced_by_pressure"] is True  # read from the note
    validate(assessment_bundle(kb, assess_patient(kb, patient), when=read.occurrence,
                               patient_reference=read.patient_reference))
