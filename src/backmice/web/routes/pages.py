"""Server-rendered pages. Each page names its JSON twin in a ``Link`` header (rel=alternate), a
URL a GET (or HEAD) fetches. The interview's twin is GET /api/v1/interview/step, its first step;
later steps of the same interview are POSTs of the answers so far to that URL. Only the login
form has no twin (see routes/login.py).

As in the API, pages that only compute and render are ``async def`` (no thread-pool hop); those
that wait on the database are plain ``def`` or hand the wait to the thread pool.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backmice import strict_json
from backmice.errors import InputError, NotFoundError
from backmice.findings import FINDINGS
from backmice.render.json_doc import from_data, to_data
from backmice.render.note import clinician_note
from backmice.render.patient import (
    answer_summary,
    input_hint,
    possibilities,
    signs,
    warning_signs,
)
from backmice.web import kb_views, workspace_start
from backmice.web.assessing import assess_bytes
from backmice.web.auth import Requires
from backmice.web.deps import KB, MAX_ROW_ID, RecordId, Reviewer, Store, is_head
from backmice.web.edge import JSON_KEY
from backmice.web.interviewing import (
    build_state,
    finish_now,
    patient_outcome,
    question_data,
    run_step,
)

router = APIRouter(include_in_schema=False)

GROUP_TITLES = (("history", "History"), ("examination", "Examination"),
                ("safety", "Safety questions"), ("later_tests", "Later tests"))
# The body-map regions as buttons (phones, touch screens), the key back-mouse sites first.
REGION_BUTTONS = (
    ("posterior_superior_iliac_spine", "left", "Left PSIS"),
    ("posterior_superior_iliac_spine", "right", "Right PSIS"),
    ("sacroiliac", "left", "Left sacroiliac joint"),
    ("sacroiliac", "right", "Right sacroiliac joint"),
    ("iliac_crest", "left", "Left iliac crest"),
    ("iliac_crest", "right", "Right iliac crest"),
    ("sacral_midline", "midline", "Sacrum (midline)"),
    ("sacrococcygeal", "midline", "Tailbone (natal cleft)"),
    ("lumbar_paraspinal", "left", "Left lower back"),
    ("lumbar_paraspinal", "right", "Right lower back"),
    ("buttock", "left", "Left buttock"),
    ("buttock", "right", "Right buttock"),
    ("lateral_hip", "left", "Left outer hip"),
    ("lateral_hip", "right", "Right outer hip"),
    ("flank", "left", "Left flank"),
    ("flank", "right", "Right flank"),
    ("thoracolumbar", "left", "Left thoracolumbar"),
    ("thoracolumbar", "right", "Right thoracolumbar"),
)


def page(request: Request, template: str, context: dict[str, Any], *, twin: str | None,
         status_code: int = 200) -> HTMLResponse:
    response = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code)
    if twin:
        response.headers["Link"] = f'<{twin}>; rel="alternate"; type="application/json"'
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, kb: KB) -> HTMLResponse:
    return page(request, "home.html", {"conditions": kb_views.condition_summaries(kb)},
                twin="/api/v1/kb")


# --- clinician workspace -------------------------------------------------------------------
@router.get("/clinician", response_class=HTMLResponse)
async def clinician(request: Request, kb: KB, store: Store,
                    patient: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None
                    ) -> HTMLResponse:
    """The workspace; ``patient``: start from that patient of the records (a signed-in
    clinician of the patient's clinic only), prefilled from the record and saved as its visit."""
    start = None
    if patient is not None:
        actor = await Requires("clinician")(request)  # 401 / 403 as on the records pages
        t = await run_in_threadpool(store.visits.timeline, actor, patient,
                                    action=None if is_head(request) else "read", encounters=1)
        start = workspace_start.start_data(kb, t, today=dt.date.today())
    catalogue = kb_views.finding_catalogue(kb)
    groups = [(gid, title, [f for f in catalogue if f["group"] == gid])
              for gid, title in GROUP_TITLES]
    settings = kb_views.kb_overview(kb)["settings"]
    return page(request, "clinician.html",
                {"groups": groups, "settings": settings, "region_buttons": REGION_BUTTONS,
                 "default_setting": kb.priors.default_setting, "start": start,
                 "today": dt.date.today().isoformat()},
                twin=f"/api/v1/patients/{patient}/timeline" if patient
                else "/api/v1/kb/findings")


@router.post("/clinician/result", response_class=HTMLResponse)
async def clinician_result(request: Request, kb: KB) -> HTMLResponse:
    """The assessment panel as an HTML fragment (JSON twin: POST /api/v1/assess)."""
    try:
        done = assess_bytes(kb, await request.body(), parsed=request.scope.get(JSON_KEY))
    except InputError as exc:
        return page(request, "_input_error.html", {"error": exc}, twin=None, status_code=422)
    return page(request, "_assessment.html",
                {"doc": done.document, "note": clinician_note(kb, done.result),
                 "answerable": True},
                twin="/api/v1/assess")


@router.get("/a/{share_id}", response_class=HTMLResponse, name="shared_assessment_page")
def shared_assessment(request: Request, share_id: str, store: Store, kb: KB) -> HTMLResponse:
    saved = store.get_assessment(share_id=share_id)
    return page(request, "shared.html",
                {"saved": saved, "doc": saved.result_doc,
                 "print_id": {"date": saved.created_at.date().isoformat()},
                 "note": clinician_note(kb, from_data(saved.result_doc))},
                twin=f"/api/v1/assessments/{share_id}")


# --- patient interview ---------------------------------------------------------------------
EMPTY_STATE: dict[str, Any] = {"answers": {}, "dont_know": [], "order": []}
FEEDBACK_TEXT_MISSING = "Please write what is wrong or missing before sending the report."
DAMAGED = "Your answers could not be read back (the page may be old or incomplete)."


def _interview_state(raw: str) -> dict[str, Any]:
    try:  # the same rules as every JSON body (bounded nesting, no NaN, NUL or surrogates)
        state = strict_json.loads(raw, where="state") if raw.strip() else {}
    except InputError:
        raise InputError("state", "the interview state is damaged", "start again") from None
    if not isinstance(state, dict):
        raise InputError("state", "the interview state is damaged", "start again")
    answers = state.get("answers") or {}
    dont_know = state.get("dont_know") or []
    order = state.get("order") or []
    if not (isinstance(answers, dict) and isinstance(dont_know, list)
            and isinstance(order, list)):
        raise InputError("state", "the interview state is damaged", "start again")
    return {"answers": answers, "dont_know": [str(x) for x in dont_know],
            "order": [str(x) for x in order]}


def _without(state: dict[str, Any], finding: str) -> dict[str, Any]:
    return {"answers": {k: v for k, v in state["answers"].items() if k != finding},
            "dont_know": [f for f in state["dont_know"] if f != finding],
            "order": [f for f in state["order"] if f != finding]}


def _coerce(kind: str, raw: str) -> Any:
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in ("number", "count"):
        text = raw.strip().replace(",", ".")
        if kind == "count" and text.lower() == "many":
            return "many"
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if kind == "count" and number.is_integer() else number
    return raw


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _interview_error(request: Request, kb: Any, message: str) -> HTMLResponse:
    """A plain error page with a way to start again (a form post gets HTML, not the JSON body)."""
    return page(request, "interview_error.html",
                {"message": message, "warning_groups": warning_signs(kb)},
                twin=None, status_code=422)


def _render_interview(request: Request, kb: Any, state: dict[str, Any],
                      error: str | None = None, *, finish: bool = False) -> HTMLResponse:
    built = build_state(kb, state["answers"], state["dont_know"])
    now = finish_now(kb, built) if finish else run_step(kb, built)
    a = now.assessment
    outcome = patient_outcome(kb, now)  # one patient urgency for the alert and the result
    found = outcome.alert
    context: dict[str, Any] = {"state_json": json.dumps(state), "step": now, "error": error,
                               "can_go_back": bool(state["answers"] or state["dont_know"]),
                               "alert": found, "warning_groups": warning_signs(kb),
                               "patient_disclaimer": kb.texts.disclaimer.patient}
    if now.done:
        advice = outcome.advice
        context.update(
            doc=to_data(now.as_patient_assessment(advice)), triage=a.triage, advice=advice,
            signs=signs(kb, a.red_flags), not_ruled_out=outcome.not_ruled_out,
            urgent=found is not None and found.urgent,
            possibilities=possibilities(kb, a),
            answers=answer_summary(kb, state["order"], built.answers.values, built.dont_know),
            post_procedure=kb.texts.post_procedure_warning.patient,
            said_dont_know=bool(built.dont_know),
        )
        return page(request, "interview_result.html", context, twin="/api/v1/interview/step")
    context["question"] = question_data(kb, now.question, "patient")
    return page(request, "interview.html", context, twin="/api/v1/interview/step",
                status_code=422 if error else 200)


@router.get("/interview", response_class=HTMLResponse)
async def interview_start(request: Request, kb: KB) -> HTMLResponse:
    return _render_interview(request, kb, EMPTY_STATE)


@router.post("/interview", response_class=HTMLResponse)
async def interview_answer(request: Request, kb: KB,
                     state: Annotated[str, Form(max_length=20_000)] = "",
                     finding: Annotated[str, Form(max_length=100)] = "",
                     value: Annotated[str, Form(max_length=100)] = "",
                     action: Annotated[str, Form(max_length=20)] = "answer") -> HTMLResponse:
    if action == "restart":
        return _render_interview(request, kb, EMPTY_STATE)
    try:
        current = _interview_state(state)
        if action in ("back", "finish", "continue"):
            if action == "back" and current["order"]:
                current = _without(current, current["order"][-1])
            return _render_interview(request, kb, current, finish=action == "finish")
        if finding not in kb.findings:
            raise InputError("finding", "unknown question", "a question the interview asked")
        build_state(kb, current["answers"], current["dont_know"])
    except InputError:
        if _wants_json(request):  # an API client posting the form: the usual JSON error body
            raise
        return _interview_error(request, kb, DAMAGED)
    rest = _without(current, finding)
    if action == "dont_know":
        return _render_interview(request, kb, {**rest, "dont_know": [*rest["dont_know"], finding],
                                               "order": [*rest["order"], finding]})
    answer = _coerce(FINDINGS[finding].kind.value, value)
    trial = {**rest, "answers": {**rest["answers"], finding: answer},
             "order": [*rest["order"], finding]}
    try:
        build_state(kb, trial["answers"], trial["dont_know"])
    except InputError:
        # plain words for a patient, never the API's "allowed are ... or null"
        return _render_interview(request, kb, current, error=input_hint(finding))
    return _render_interview(request, kb, trial)


# --- condition pages and feedback ----------------------------------------------------------
@router.get("/conditions", response_class=HTMLResponse)
async def conditions(request: Request, kb: KB) -> HTMLResponse:
    return page(request, "conditions.html", {"conditions": kb_views.condition_summaries(kb)},
                twin="/api/v1/kb/conditions")


@router.get("/conditions/{condition_id}", response_class=HTMLResponse)
async def condition(request: Request, condition_id: str, kb: KB,
              thanks: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    data = kb_views.condition_page(kb, condition_id)
    if data is None:
        raise NotFoundError("condition", condition_id)
    return page(request, "condition.html", {"c": data, "thanks": thanks},
                twin=f"/api/v1/kb/conditions/{condition_id}")


@router.post("/conditions/{condition_id}/feedback")
async def condition_feedback(request: Request, condition_id: str, kb: KB, store: Store,
                             kind: Annotated[str, Form(max_length=20)],
                             helpful: Annotated[str | None, Form(max_length=5)] = None,
                             text: Annotated[str | None, Form(max_length=5000)] = None,
                             contact: Annotated[str | None, Form(max_length=320)] = None
                             ) -> Response:
    if condition_id not in kb_views.feedback_pages(kb):
        raise NotFoundError("condition", condition_id)
    answer = {"yes": True, "no": False}.get(helpful or "")
    try:
        write = store.feedback_write(
            page=condition_id, kind=kind, helpful=answer, text=(text or "").strip() or None,
            contact=(contact or "").strip() or None, kb_version=kb.version)
    except InputError as e:
        if kind != "inaccuracy" or e.field not in ("text", "contact"):
            raise
        # The same page again, the report form open, what was typed kept, and a plain message
        # next to the field (never a generic error page that loses the text).
        message = (FEEDBACK_TEXT_MISSING if e.field == "text"
                   else "Please check your e-mail address, or leave it empty.")
        data = kb_views.condition_page(kb, condition_id)
        return page(request, "condition.html",
                    {"c": data, "thanks": None,
                     "report": {"field": e.field, "message": message, "text": text or "",
                                "contact": contact or ""}},
                    twin=f"/api/v1/kb/conditions/{condition_id}", status_code=422)
    await store.write_async(write)
    return RedirectResponse(f"/conditions/{condition_id}?thanks={kind}#feedback", 303)


@router.get("/reviewer", response_class=HTMLResponse)
def reviewer(request: Request, kb: KB, store: Store, _: Reviewer,
             status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open"
             ) -> HTMLResponse:
    chosen = None if status == "all" else status
    items = store.list_feedback(status=chosen, limit=500)
    names = {c.id: c.name for c in kb.conditions.values()}
    return page(request, "reviewer.html",
                {"items": items, "status": status, "names": names,
                 "open_count": store.count_feedback(status="open"),
                 "resolved_count": store.count_feedback(status="resolved")},
                twin=f"/api/v1/feedback?status={chosen}" if chosen else "/api/v1/feedback")


@router.post("/reviewer/feedback/{feedback_id}")
def reviewer_set_status(feedback_id: RecordId, store: Store, _: Reviewer,
                        status: Annotated[str, Form(pattern="^(open|resolved)$")],
                        back: Annotated[str, Form(pattern="^(open|resolved|all)$")] = "open"
                        ) -> Response:
    store.set_feedback_status(feedback_id=feedback_id, status=status)
    return RedirectResponse(f"/reviewer?status={back}", 303)


# --- about and the knowledge base ----------------------------------------------------------
@router.get("/about", response_class=HTMLResponse)
async def about(request: Request, kb: KB) -> HTMLResponse:
    return page(request, "about.html", {"overview": kb_views.kb_overview(kb)}, twin="/api/v1/kb")


@router.get("/knowledge-base", response_class=HTMLResponse)
async def knowledge_base(request: Request, kb: KB) -> HTMLResponse:
    return page(request, "knowledge_base.html",
                {"overview": kb_views.kb_overview(kb),
                 "citations": [kb_views.citation_data(kb, c) for c in kb.citations],
                 "conditions": kb_views.condition_summaries(kb)},
                twin="/api/v1/kb/citations")
