"""The JSON API under /api/v1: assess, one interview step, the knowledge base, feedback, and
saved assessments. Thin: each route validates, calls one domain or storage function, answers.

Routes that only compute are ``async def`` and run on the event loop; routes that wait on the
database are plain ``def`` and run in the thread pool. The hop to a pool thread and back costs
a request about 0.25 ms of CPU, more than a knowledge-base read or a page of JSON.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status

from backmice import strict_json
from backmice.errors import InputError, NotFoundError
from backmice.interop.notes import MAX_NOTE_CHARS
from backmice.interop.schema import input_schema
from backmice.kb.base import KnowledgeBase
from backmice.nlp import extract
from backmice.render.json_doc import to_data
from backmice.render.note import clinician_note
from backmice.render.patient import possibilities
from backmice.storage.records import Feedback
from backmice.web import kb_views
from backmice.web.api_models import (
    AssessOptions,
    ErrorOut,
    ExtractIn,
    ExtractOut,
    FeedbackIn,
    FeedbackList,
    FeedbackStatusIn,
    InterviewStepIn,
    InterviewStepOut,
    SavedAssessmentOut,
)
from backmice.web.assessing import assess_bytes
from backmice.web.deps import RecordId, Reviewer, Store
from backmice.web.edge import JSON_KEY
from backmice.web.errors import error_response
from backmice.web.interviewing import (
    build_state,
    finish_now,
    patient_outcome,
    patient_triage,
    patient_view,
    question_data,
    run_step,
)
from backmice.web.query import query_parameters, read_query

ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "The body is larger than the limit"},
    415: {"model": ErrorOut, "description": "The body was sent with a Content-Type other than "
                                            "application/json"},
    422: {"model": ErrorOut, "description": "Invalid input: the field and what is allowed"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "Not found"}}
NEEDS_REVIEWER: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "not logged in / no valid token"},
    403: {"model": ErrorOut, "description": "logged in without the reviewer role"}}


def _body_spec(kb: KnowledgeBase) -> dict[str, Any]:
    schema = input_schema(kb)
    schema.pop("$schema", None)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def saved_data(request: Request, saved: Any) -> dict[str, Any]:
    return {"share_id": saved.share_id,
            "url": str(request.url_for("shared_assessment_page", share_id=saved.share_id)),
            "created_at": saved.created_at.isoformat(), "kb_version": saved.kb_version,
            "engine_version": saved.engine_version, "title": saved.title,
            "input": saved.input_doc, "assessment": saved.result_doc}


def build_router(kb: KnowledgeBase) -> APIRouter:
    """The API router for one knowledge base: needed up front for the request-body schema, and
    used by the routes as it is (a dependency looking it up would cost each request ~10 µs)."""
    # strict_content_type=False: a body without a Content-Type is read as JSON, as /assess
    # reads it; a body declared as anything else never gets here (web.edge: 415).
    router = APIRouter(prefix="/api/v1", responses=ERRORS, strict_content_type=False)
    body_spec = _body_spec(kb)
    pages_with_feedback = kb_views.feedback_pages(kb)

    @router.post("/assess", tags=["assess"],
                 openapi_extra={"parameters": query_parameters(AssessOptions), **body_spec},
                 summary="Assess one case (case format) or a patient with many lumps",
                 responses={200: {"content": {"application/json": {},
                                              "text/markdown": {}}}})
    async def assess(request: Request) -> Response:
        """The same document as `backmice assess --format json` (or the note with
        `format=markdown`). The body is JSON: send `Content-Type: application/json`. A body
        without a Content-Type is read as JSON too (for scripts posting raw bytes); any other
        type (`text/plain`, a form) is answered 415, as on every JSON route."""
        options = read_query(AssessOptions, request)
        done = assess_bytes(kb, await request.body(), setting=options.setting,
                            parsed=request.scope.get(JSON_KEY))
        if options.format == "markdown":
            return Response(clinician_note(kb, done.result), media_type="text/markdown")
        return Response(done.json_bytes(), media_type="application/json")

    @router.post("/extract", tags=["extract"], response_model=ExtractOut,
                 summary="Read a clinical note into findings, with the phrase behind each")
    async def extract_note(request: Request, body: ExtractIn) -> Any:
        """The same document as `backmice extract --format json`: `findings` (finding id →
        value, as in the case format) and every `mention` with its offsets, value and ConText
        modifiers. A text longer than the limit is answered 413 naming `text`; a `text` that is
        not a string, 422."""
        if len(body.text) > MAX_NOTE_CHARS:
            return error_response(request, 413, "text_too_long",
                                  f"the text is {len(body.text)} characters long", "text",
                                  f"a text of at most {MAX_NOTE_CHARS} characters")
        return extract(body.text).to_dict()

    def step_data(answers: dict[str, Any], dont_know: list[str], setting: str | None,
                  audience: str, *, finish: bool = False) -> dict[str, Any]:
        state = build_state(kb, answers, dont_know, setting)
        now = finish_now(kb, state) if finish else run_step(kb, state)
        a = now.assessment
        outcome = patient_outcome(kb, now)  # the one patient urgency of this step
        return {
            "done": now.done, "asked": now.asked, "progress": now.progress,
            "question": question_data(kb, now.question, audience) if now.question else None,
            "triage": dataclasses.asdict(patient_triage(a.triage, outcome.advice)),
            "possibilities": [{"id": oid, "name": name, "phrase": phrase}
                              for oid, name, phrase in possibilities(kb, a)],
            **patient_view(outcome),
            "assessment": to_data(now.as_patient_assessment(outcome.advice)),
        }

    @router.post("/interview/step", tags=["interview"], response_model=InterviewStepOut)
    async def interview_step(body: InterviewStepIn) -> dict[str, Any]:
        """One stateless step: answers so far in, next question and current assessment out."""
        return step_data(body.answers, body.dont_know, body.setting, body.audience,
                         finish=body.finish)

    @router.get("/interview/step", tags=["interview"], response_model=InterviewStepOut)
    async def interview_first_step(
            audience: Literal["patient", "clinician"] = "patient",
            setting: Annotated[str | None, Query(max_length=50)] = None) -> dict[str, Any]:
        """The interview's first step, before any answer: the same answer as POST with `{}`,
        and the JSON twin of the /interview pages (later steps: POST the answers so far)."""
        return step_data({}, [], setting, audience)

    @router.get("/kb", tags=["knowledge base"])
    async def kb_index() -> dict[str, Any]:
        """Version, care settings and counts of the knowledge base."""
        return kb_views.kb_overview(kb)

    @router.get("/kb/conditions", tags=["knowledge base"])
    async def conditions() -> list[dict[str, Any]]:
        return kb_views.condition_summaries(kb)

    @router.get("/kb/conditions/{condition_id}", tags=["knowledge base"], responses=NOT_FOUND)
    async def condition(condition_id: str) -> dict[str, Any]:
        """One condition page. The prose keeps the knowledge base's citation markers (`[R40]`,
        the ids of GET /api/v1/kb/citations); `citation_numbers` maps each cited id to its
        number on this page (the "[29]" the HTML page shows, numbered by first mention), and
        `references` lists exactly the cited sources in that order, each with its `number`.
        `further_reading` holds sources named for the condition but cited nowhere in its
        text. A source whose title was not recorded has `title: null` and a `description`."""
        page = kb_views.condition_page(kb, condition_id)
        if page is None:
            raise NotFoundError("condition", condition_id)
        return page

    @router.get("/kb/findings", tags=["knowledge base"])
    async def findings() -> list[dict[str, Any]]:
        """Every finding with its question, value set or range, group and scope."""
        return kb_views.finding_catalogue(kb)

    @router.get("/kb/citations", tags=["knowledge base"])
    async def citations() -> list[dict[str, Any]]:
        return [kb_views.citation_data(kb, cid) for cid in kb.citations]

    @router.post("/feedback", tags=["feedback"], status_code=status.HTTP_201_CREATED,
                 response_model=Feedback)
    async def create_feedback(body: FeedbackIn, store: Store) -> Feedback:
        """'Was this helpful?' or 'Report an inaccuracy' about a page that offers the feedback
        form: `page` is a condition id (GET /api/v1/kb/conditions); any other is refused 422."""
        if body.page not in pages_with_feedback:
            raise InputError("page", f"no page {body.page!r} takes feedback",
                             "a condition id: " + ", ".join(pages_with_feedback))
        return await store.write_async(store.feedback_write(
            page=body.page, kind=body.kind, helpful=body.helpful, text=body.text,
            contact=body.contact, kb_version=kb.version))

    @router.get("/feedback", tags=["feedback"], response_model=FeedbackList,
                responses=NEEDS_REVIEWER)
    def list_feedback(store: Store, _: Reviewer,
                      status: Literal["open", "resolved"] | None = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100,
                      offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
        """For reviewers: feedback, newest first."""
        items = store.list_feedback(status=status, limit=limit, offset=offset)
        return {"total": store.count_feedback(status=status), "items": items}

    @router.patch("/feedback/{feedback_id}", tags=["feedback"], response_model=Feedback,
                  responses={**NOT_FOUND, **NEEDS_REVIEWER})
    def set_feedback_status(feedback_id: RecordId,
                            body: FeedbackStatusIn, store: Store, _: Reviewer) -> Feedback:
        return store.set_feedback_status(feedback_id=feedback_id, status=body.status)

    @router.post("/assessments", tags=["saved assessments"], openapi_extra=body_spec,
                 status_code=status.HTTP_201_CREATED, response_model=SavedAssessmentOut)
    async def save_assessment(request: Request, store: Store,
                              title: Annotated[str | None, Query(max_length=200)] = None
                              ) -> dict[str, Any]:
        """Assess and keep the result; answers a share id for GET /api/v1/assessments/{id}."""
        body = await request.body()
        done = assess_bytes(kb, body, parsed=request.scope.get(JSON_KEY))
        saved = await store.write_async(store.assessment_write(
            input_doc=request.scope.get(JSON_KEY) or strict_json.loads(body),
            result_doc=done.document, kb_version=kb.version,
            engine_version=done.result.engine_version, title=title))
        return saved_data(request, saved)

    @router.get("/assessments/{share_id}", tags=["saved assessments"],
                response_model=SavedAssessmentOut, responses=NOT_FOUND)
    def get_assessment(request: Request, share_id: str, store: Store) -> dict[str, Any]:
        return saved_data(request, store.get_assessment(share_id=share_id))

    @router.get("/health", tags=["operations"])
    def health(store: Store) -> dict[str, Any]:
        return {"status": "ok", "database": "ok" if store.health() else "unavailable"}

    return router
