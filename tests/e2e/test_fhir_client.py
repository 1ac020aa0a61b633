"""The /fhir endpoints driven by a real FHIR client library (SMART on FHIR's ``fhirclient``,
whose models are generated from FHIR 4.0.1) against the live server: the CapabilityStatement,
reading the Questionnaire, the adaptive interview through $next-question, and $assess. Every
answer is parsed by the client's own models and checked by both validators. No browser."""

from __future__ import annotations

import pytest
from fhirclient import client
from fhirclient.models.bundle import Bundle
from fhirclient.models.capabilitystatement import CapabilityStatement
from fhirclient.models.operationoutcome import OperationOutcome
from fhirclient.models.questionnaire import Questionnaire
from fhirclient.models.questionnaireresponse import QuestionnaireResponse
from tests.fhir_validation import validate

from backmice.interop.fhir.vocabulary import finding_concept, value_concept


@pytest.fixture(scope="module")
def server(live_server):
    smart = client.FHIRClient(settings={"app_id": "backmice-tests",
                                        "api_base": f"{live_server}/fhir/"})
    return smart.server


def test_the_capability_statement_lists_what_is_served(server):
    statement = CapabilityStatement(server.request_json("metadata"))
    assert statement.fhirVersion == "4.0.1"
    validate(statement.as_json())
    rest = statement.rest[0]
    assert [r.type for r in rest.resource] == ["Questionnaire"]
    assert [o.name for o in rest.operation] == ["assess"]


def test_the_questionnaire_reads_through_the_client(server):
    questionnaire = Questionnaire.read("backmice-interview", server)
    assert questionnaire.status == "active"
    assert any(item.linkId == "location" for item in questionnaire.item)


def test_the_adaptive_interview_through_next_question(server):
    response = QuestionnaireResponse({"resourceType": "QuestionnaireResponse",
                                      "status": "in-progress", "item": []})
    body = response.as_json()
    for _ in range(60):
        answered = server.post_json("Questionnaire/$next-question", body)
        assert answered.headers["content-type"].startswith("application/fhir+json")
        body = answered.json()
        validate(body)
        response = QuestionnaireResponse(body)
        if response.status == "completed":
            break
        asked = response.contained[0].item[-1]
        answer = {"valueBoolean": False} if asked.type == "boolean" else \
            {"valueCoding": asked.answerOption[0].valueCoding.as_json()} \
            if asked.type == "choice" else {"valueDecimal": 1}
        body.setdefault("item", []).append({"linkId": asked.linkId, "answer": [answer]})
    assert response.status == "completed"
    assert "RiskAssessment" in [r.resource_type for r in response.contained]


def test_assess_answers_a_valid_bundle_and_errors_as_operation_outcome(server):
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "patient", "resource": {"resourceType": "Patient", "id": "p9",
                                         "birthDate": "1960-05-05", "gender": "male"}},
        {"name": "lump", "resource": {"resourceType": "BodyStructure", "id": "l1",
                                      "patient": {"reference": "Patient/p9"},
                                      "location": value_concept("buttock")}},
        {"name": "obs", "resource": {"resourceType": "Observation", "status": "final",
                                     "code": finding_concept("size_cm"),
                                     "valueQuantity": {"value": 8, "code": "cm"}}}]}
    answered = server.post_json("$assess", body)
    bundle = Bundle(answered.json())
    validate(bundle.as_json())
    assert {e.resource.resource_type for e in bundle.entry} >= {
        "RiskAssessment", "ClinicalImpression", "ServiceRequest", "DetectedIssue"}
    body["parameter"][2]["resource"]["valueQuantity"]["value"] = -1
    refused = server.session.post(f"{server.base_uri}$assess", json=body,
                                  headers={"Content-Type": "application/fhir+json"})
    assert refused.status_code == 422
    outcome = OperationOutcome(refused.json())
    assert outcome.issue[0].expression == ["Parameters.parameter[2].resource.valueQuantity.value"]
