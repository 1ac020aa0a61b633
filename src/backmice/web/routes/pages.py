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

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backmice.errors import InputError, NotFoundError
from backmice.findings import FINDINGS
from backmice.render.json_doc import from_data, to_data
from backmice.render.note import clinician_note
from backmice.render.patient import (
    clinician_checks,
    input_hint,
    possibilities,
    signs,
    warning_signs,
)
from backmice.render.patient_interview import (
    FOR_CLINICIAN,
    URGENCY_LEVELS,
    plain_urgency,
    said_for,
    you_said,
)
from backmice.storage.repository import LIMITS
from backmice.web import feedback_form, kb_views, workspace_start
from backmice.web import interview_flow as flow
from backmice.web.assessing import assess_bytes
from backmice.web.auth import Requires, optional_caller
from backmice.web.deps import KB, MAX_ROW_ID, RecordId, Reviewer, Store, is_head
from backmice.web.edge import JSON_KEY
from backmice.web.interviewing import finish_now, patient_outcome

# Every page looks up who is signed in, so the header shows the links of their roles.
router = APIRouter(include_in_schema=False, dependencies=[Depends(optional_caller)])

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
# A start screen; then one screen at a time (web/interview_flow.py): the place of the lump on
# the body picture, the safety questions, the rest; a summary where any answer can be changed;
# the result. The state travels in a hidden field, so every step works without JavaScript.
FEEDBACK_TEXT_MISSING = "Please write what is wrong or missing before sending the report."
FEEDBACK_FORM = {"no_reasons": feedback_form.NO_REASONS,
                 "comment_limit": feedback_form.COMMENT_LIMIT}
DAMAGED = "Your answers could not be read back (the page may be old or incomplete)."


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _interview_error(request: Request, kb: Any, message: str) -> HTMLResponse:
    """A plain error page with a way to start again (a form post gets HTML, not the JSON body)."""
    number = request.app.state.settings.emergency_number
    return page(request, "interview_error.html",
                {"message": message, "warning_groups": warning_signs(kb),
                 "plain_headings": _plain_headings(number)},
                twin=None, status_code=422)


def _common(request: Request, kb: Any, state: dict[str, Any], now: Any) -> dict[str, Any]:
    """What every interview screen shows: the alert with the answers that fired it, the call
    button's number, the warning signs, the disclaimer."""
    outcome = patient_outcome(kb, now, FOR_CLINICIAN)
    found = outcome.alert
    number = request.app.state.settings.emergency_number
    said = ""
    if found is not None:
        fired = [s.id for s in found.signs]
        said = you_said(said_for(kb, fired, now.assessment.findings, flow.parts_said(state)))
    return {"state_json": json.dumps(state), "step": now, "outcome": outcome, "alert": found,
            "alert_said": said,
            "plain": plain_urgency(outcome.advice.level, number),
            "emergency_number": number, "warning_groups": warning_signs(kb),
            "plain_headings": _plain_headings(number),
            "patient_disclaimer": kb.texts.disclaimer.patient,
            "can_go_back": bool(state["order"])}


def _plain_headings(number: str) -> dict[str, str]:
    return {level: plain_urgency(level, number).heading for level in URGENCY_LEVELS}


def _render_screen(request: Request, kb: Any, state: dict[str, Any], key: str, *,
                   selected: str | None = None, error: str | None = None,
                   changing: bool = False) -> HTMLResponse:
    now = flow.step_of(kb, state)
    context = _common(request, kb, state, now)
    question = flow.screen_data(kb, key, now)
    context.update(question=question, error=error, changing=changing,
                   selected=selected if selected is not None else flow.chosen(state, key),
                   number=len([k for k in state["order"] if k != key]) + 1)
    return page(request, "interview.html", context, twin="/api/v1/interview/step",
                status_code=422 if error else 200)


def _render_next(request: Request, kb: Any, state: dict[str, Any]) -> HTMLResponse:
    """The next unanswered screen, or the summary once every question is answered."""
    now = flow.step_of(kb, state)
    key = flow.next_screen(kb, state, now)
    if key is not None:
        return _render_screen(request, kb, state, key)
    context = _common(request, kb, state, now)
    context["lines"] = flow.summary(kb, state)
    return page(request, "interview_summary.html", context, twin="/api/v1/interview/step")


def _render_result(request: Request, kb: Any, state: dict[str, Any]) -> HTMLResponse:
    built = flow.engine_state(kb, state)
    now = finish_now(kb, built)
    a = now.assessment
    context = _common(request, kb, state, now)
    outcome, found = context["outcome"], context["alert"]
    answers = a.findings
    quoted = flow.parts_said(state)
    context.update(
        doc=to_data(now.as_patient_assessment(outcome.advice)), triage=a.triage,
        advice=outcome.advice,
        signs=[(s, you_said(said_for(kb, [s.id], answers, quoted)))
               for s in signs(kb, a.red_flags)],
        not_ruled_out=outcome.not_ruled_out,
        clinician_checks=clinician_checks(kb, a.triage, FOR_CLINICIAN),
        urgent=found is not None and found.urgent,
        possibilities=possibilities(kb, a),
        lines=flow.summary(kb, state),
        post_procedure=kb.texts.post_procedure_warning.patient,
        said_dont_know=bool(state["dont_know"]),
    )
    return page(request, "interview_result.html", context, twin="/api/v1/interview/step")


@router.get("/interview", response_class=HTMLResponse)
async def interview_start(request: Request, kb: KB) -> HTMLResponse:
    """The start screen: who the questions are for, what they are not, how long they take."""
    number = request.app.state.settings.emergency_number
    return page(request, "interview_start.html",
                {"emergency_number": number, "warning_groups": warning_signs(kb),
                 "plain_headings": _plain_headings(number),
                 "patient_disclaimer": kb.texts.disclaimer.patient},
                twin="/api/v1/interview/step")


@router.post("/interview", response_class=HTMLResponse)
async def interview_answer(request: Request, kb: KB,
                     state: Annotated[str, Form(max_length=20_000)] = "",
                     finding: Annotated[str, Form(max_length=100)] = "",
                     value: Annotated[str, Form(max_length=100)] = "",
                     action: Annotated[str, Form(max_length=20)] = "answer") -> HTMLResponse:
    if action == "restart":
        return await interview_start(request, kb)
    if action == "start":
        return _render_next(request, kb, flow.empty())
    try:
        current = flow.parse_state(state)
        flow.engine_state(kb, current)  # every answer checked before anything is shown
        if action == "back":
            if not current["order"]:
                return await interview_start(request, kb)
            last = current["order"][-1]
            return _render_screen(request, kb, flow.without(current, last), last,
                                  selected=flow.chosen(current, last))
        if action in ("finish", "result"):
            return _render_result(request, kb, current)
        if action in ("continue", "summary"):
            return _render_next(request, kb, current)
        key = finding
        name, _ = flow.split_key(key)
        if name not in kb.findings:
            raise InputError("finding", "unknown question", "a question the interview asked")
        if action == "change":
            return _render_screen(request, kb, current, key, changing=True)
    except InputError:
        if _wants_json(request):  # an API client posting the form: the usual JSON error body
            raise
        return _interview_error(request, kb, DAMAGED)
    if action == "dont_know":
        return _render_next(request, kb, flow.record(kb, current, key, None, dont_know=True))
    _, part = flow.split_key(key)
    if key == flow.PLACE:
        answer: Any = value
    else:
        answer = flow.coerce("boolean" if part is not None else FINDINGS[name].kind.value, value)
    try:
        trial = flow.record(kb, current, key, answer)
    except InputError:
        # plain words for a patient, never the API's "allowed are ... or null"
        return _render_screen(request, kb, current, key, error=input_hint(name),
                              selected=value or None)
    return _render_next(request, kb, trial)


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
    return page(request, "condition.html", {"c": data, "thanks": thanks, **FEEDBACK_FORM},
                twin=f"/api/v1/kb/conditions/{condition_id}")


@router.post("/conditions/{condition_id}/feedback")
async def condition_feedback(request: Request, condition_id: str, kb: KB, store: Store,
                             kind: Annotated[str, Form(max_length=20)],
                             helpful: Annotated[str | None, Form(max_length=5)] = None,
                             reason: Annotated[list[str] | None, Form()] = None,
                             text: Annotated[str | None, Form(max_length=20000)] = None,
                             contact: Annotated[str | None, Form(max_length=320)] = None
                             ) -> Response:
    """Both feedback forms of a condition page. A bad report or "No" follow-up comes back on
    the same page, its form open, what was typed kept, a plain message by the field (never a
    generic error page that loses the text)."""
    if condition_id not in kb_views.feedback_pages(kb):
        raise NotFoundError("condition", condition_id)
    answer = {"yes": True, "no": False}.get(helpful or "")
    reasons = reason or []
    stored_text = (text or "").strip() or None
    if kind == "helpful" and answer is False:
        try:
            stored_text = feedback_form.no_followup_text(reasons, text)
        except InputError as e:
            followup = {"field": e.field, "message": feedback_form.plain_message(e, text),
                        "reasons": reasons, "text": text or ""}
            return _condition_again(request, kb, condition_id, followup=followup)
    elif reasons:
        raise InputError("reason", "reasons are asked only after a 'No'",
                         "no reason with 'Yes' or a report")
    try:
        write = store.feedback_write(
            page=condition_id, kind=kind, helpful=answer, text=stored_text,
            contact=(contact or "").strip() or None, kb_version=kb.version)
    except InputError as e:
        if kind != "inaccuracy" or e.field not in ("text", "contact"):
            raise
        if e.field == "contact":
            message = "Please check your e-mail address, or leave it empty."
        elif stored_text:
            message = (f"Please shorten your report to {LIMITS['text']} characters or "
                       f"fewer (it has {len(stored_text)} now).")
        else:
            message = FEEDBACK_TEXT_MISSING
        report = {"field": e.field, "message": message, "text": text or "",
                  "contact": contact or ""}
        return _condition_again(request, kb, condition_id, report=report)
    await store.write_async(write)
    return RedirectResponse(f"/conditions/{condition_id}?thanks={kind}#feedback", 303)


def _condition_again(request: Request, kb: KB, condition_id: str, **form: Any) -> HTMLResponse:
    """The condition page again (422) with one feedback form open and its error shown."""
    return page(request, "condition.html",
                {"c": kb_views.condition_page(kb, condition_id), "thanks": None,
                 **FEEDBACK_FORM, **form},
                twin=f"/api/v1/kb/conditions/{condition_id}", status_code=422)


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
                 "resolved_count": store.count_feedback(status="resolved"),
                 "cds_rates": store.cds.rates()},
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
