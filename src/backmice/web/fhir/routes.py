"""The /fhir routes: read the CapabilityStatement and the Questionnaire, run ``$assess``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response

from backmice import strict_json
from backmice.engine import ENGINE_VERSION
from backmice.errors import InputError
from backmice.interop.fhir import assessment_bundle, read_fhir
from backmice.interop.fhir.questionnaire import (
    QUESTIONNAIRE_ID,
    questionnaire,
    unwrap,
)
from backmice.kb.base import KnowledgeBase
from backmice.web.assessing import assess_value
from backmice.web.edge import is_json_type
from backmice.web.fhir.capability import capability_statement
from backmice.web.fhir.interview import next_question
from backmice.web.fhir.responses import fhir_response, outcome_response


async def _body(request: Request) -> Any:
    declared = request.headers.get("content-type", "")
    if declared and not is_json_type(declared):
        raise _Refused(415, f"the body must be FHIR JSON, not {declared[:100]}", "content-type")
    raw = await request.body()
    try:
        return strict_json.loads(raw)
    except InputError as exc:
        raise _Refused(400, f"{exc.message} (allowed: {exc.allowed})" if exc.allowed
                       else exc.message, exc.field) from None


class _Refused(Exception):
    def __init__(self, status: int, text: str, path: str | None = None) -> None:
        super().__init__(text)
        self.status, self.text, self.path = status, text, path


def build_router(kb: KnowledgeBase, *, today: Any = dt.date.today) -> APIRouter:
    """The FHIR router for one knowledge base; ``today`` dates ages and results (tests fix it)."""
    # Described by its CapabilityStatement (/fhir/metadata), not by the OpenAPI document of
    # the JSON API: FHIR clients read the former.
    router = APIRouter(prefix="/fhir", tags=["fhir"], include_in_schema=False)
    full = questionnaire(kb)

    @router.get("/metadata", summary="The FHIR CapabilityStatement")
    async def metadata() -> Response:
        return fhir_response(capability_statement(
            software_version=ENGINE_VERSION, kb_version=kb.version,
            date=today().isoformat()))

    @router.post("/$assess", summary="Assess a patient's lumps from FHIR resources")
    async def assess(request: Request) -> Response:
        """A Parameters or Bundle in (Patient, BodyStructure per lump, Observations of the
        findings, DocumentReferences with a note); a Bundle out (RiskAssessment,
        ClinicalImpression, draft ServiceRequests, DetectedIssues for red flags)."""
        try:
            body = await _body(request)
            read = read_fhir(body, today=today())
            try:
                done = assess_value(kb, read.document)
            except InputError as exc:
                raise InputError(read.fhir_path(exc.field), exc.message, exc.allowed) from None
        except _Refused as refused:
            return outcome_response(refused.status, refused.text, refused.path)
        except InputError as exc:
            text = exc.message + (f" (allowed: {exc.allowed})" if exc.allowed else "")
            return outcome_response(422, text, exc.field)
        bundle = assessment_bundle(kb, done.result, patient_reference=read.patient_reference,
                                   when=read.occurrence or today().isoformat())
        return fhir_response(bundle)

    @router.get(f"/Questionnaire/{QUESTIONNAIRE_ID}", summary="The interview as a Questionnaire")
    async def read_questionnaire() -> Response:
        return fhir_response(full)

    @router.get("/Questionnaire/{qid}", summary="Any other Questionnaire: not found")
    async def other_questionnaire(qid: str) -> Response:
        return outcome_response(404, f"no Questionnaire {qid[:100]!r}; this server has "
                                f"{QUESTIONNAIRE_ID!r} only", "Questionnaire.id")

    @router.post("/Questionnaire/$next-question", summary="SDC adaptive form: the next item")
    async def next_item(request: Request) -> Response:
        """A QuestionnaireResponse (or Parameters with it as ``in``) in; the same out with the
        next item in its contained Questionnaire, or ``completed`` with the result."""
        try:
            body = unwrap(await _body(request))
            answer = next_question(kb, body, when=today().isoformat())
        except _Refused as refused:
            return outcome_response(refused.status, refused.text, refused.path)
        except InputError as exc:
            text = exc.message + (f" (allowed: {exc.allowed})" if exc.allowed else "")
            return outcome_response(422, text, exc.field)
        return fhir_response(answer)

    return router
