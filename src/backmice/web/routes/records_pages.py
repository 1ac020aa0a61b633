"""The patient-record pages: patients (search, create), a patient's timeline with its forms
(details, lesions, procedures, complications, histopathology, outcomes, alert reviews,
referrals done, delete), correcting or deleting a visit, procedure or outcome (with a reason),
recording a visit (prefilled from the record), a stored visit as it was, the clinic's before /
after view and its alerts and referrals, and the admin pages (users, password resets, tokens,
audit log).

Every page needs a login with the right role (401 login form / 403) and names its JSON twin in
a ``Link`` header. Forms work without JavaScript: a change answers 303 to the page that shows
it; bad input re-renders the same page with 422 naming the field (nothing saved), input that
conflicts with the record (a date before its procedure, the last admin) and a stale version
with 409, as the JSON API answers. Patient data never goes to the log.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backmice.errors import ConflictError, InputError
from backmice.followup.encounters import lump_key
from backmice.followup.vocab import ROLES
from backmice.interop.notes import read_note
from backmice.render.charts import before_after_chart
from backmice.render.json_doc import from_data
from backmice.render.note import clinician_note, name_lumps
from backmice.web import note_fill, patient_page, record_forms
from backmice.web.auth import Admin, Clinician
from backmice.web.deps import KB, RecordId, Store, is_head
from backmice.web.errors import input_status
from backmice.web.kb_views import finding_catalogue
from backmice.web.record_clock import today
from backmice.web.record_views import (
    ENCOUNTERS_SHOWN,
    clinic_effects_data,
    clinic_worklist_data,
    plain,
)
from backmice.web.recording import draft_encounter
from backmice.web.routes import records_corrections
from backmice.web.routes.pages import page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 100
SAVED = {"patient": "Patient details saved.", "lesion": "Lesion saved.",
         "procedure": "Procedure recorded.", "complication": "Complication recorded.",
         "histopathology": "Histopathology result saved.", "outcome": "Outcome recorded.",
         "review": "Alert marked reviewed.", "referral": "Referral marked done.",
         "corrected": "Correction saved; the old value and the reason are kept.",
         "deleted": "Entry deleted; the old value and the reason are kept."}
# The forms the top buttons of the patient page open (``?open=procedure#record-procedure``):
# without JavaScript the page comes back with that form open and its first field focused.
OPENABLE = ("procedure", "outcome")
Saved = Annotated[str | None, Query(max_length=20)]

PageNo = Annotated[int, Query(alias="page", ge=1, le=1_000_000)]


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return run_in_threadpool(fn, *args, **kwargs)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _see(url: str) -> Response:
    return RedirectResponse(url, 303)


def _posted(form: Any) -> dict[str, Any]:
    """The submitted values to put back in a re-rendered form (never a password or token)."""
    return {k: v for k, v in form.items() if isinstance(v, str)
            and k not in ("csrf_token", "password")}


# --- patients ----------------------------------------------------------------------------------
async def _patients_page(request: Request, actor: Any, store: Any, *, q: str | None,
                         birth_date: str | None, page_no: int, status: int = 200,
                         error: InputError | None = None,
                         posted: dict[str, Any] | None = None) -> HTMLResponse:
    items: list[Any] = []
    total = 0
    try:
        items, total = await _call(store.patients.search, actor, text=q,
                                   birth_date=birth_date or None, limit=PAGE_SIZE,
                                   offset=(page_no - 1) * PAGE_SIZE,
                                   audited=not is_head(request))
    except InputError as exc:  # a search the store cannot read (a bad date)
        error, status = exc, 422
    query = {k: v for k, v in (("q", q), ("birth_date", birth_date)) if v}
    twin = "/api/v1/patients" + (f"?{urlencode(query)}" if query else "")
    return page(request, "records/patients.html", {
        "items": items, "total": total, "q": q or "", "birth_date": birth_date or "",
        "page_no": page_no, "pages": max(1, -(-total // PAGE_SIZE)), "size": PAGE_SIZE,
        "query": urlencode(query), "error": error, "posted": posted or {},
        "form_name": "patient-new",
        "deleted": request.query_params.get("deleted") == "1",
        "choices": patient_page.choices(request.app.state.kb)}, twin=twin, status_code=status)


@router.get("/patients", response_class=HTMLResponse)
async def patients(request: Request, actor: Clinician, store: Store,
                   q: Annotated[str | None, Query(max_length=200)] = None,
                   birth_date: Annotated[str | None, Query(max_length=10)] = None,
                   page_no: PageNo = 1) -> HTMLResponse:
    return await _patients_page(request, actor, store, q=q, birth_date=birth_date,
                                page_no=page_no)


@router.post("/patients")
async def create_patient(request: Request, actor: Clinician, store: Store) -> Response:
    form = await request.form()
    try:
        made = await _call(store.patients.create, actor, record_forms.patient(form))
    except InputError as exc:
        return await _patients_page(request, actor, store, q=None, birth_date=None, page_no=1,
                                    status=input_status(exc), error=exc, posted=_posted(form))
    return _see(f"/patients/{made.id}")


# --- one patient's timeline ---------------------------------------------------------------------
async def _patient_page(request: Request, actor: Any, kb: Any, store: Any, patient_id: RecordId, *,
                        status: int = 200, error: InputError | None = None,
                        conflict: ConflictError | None = None, form_name: str = "",
                        posted: dict[str, Any] | None = None,
                        saved: str | None = None, visits_offset: int = 0,
                        opened: str | None = None) -> HTMLResponse:
    t = await _call(store.visits.timeline, actor, patient_id,
                    action=None if is_head(request) else "read",
                    encounters=ENCOUNTERS_SHOWN, encounter_offset=visits_offset)
    context = patient_page.patient_context(kb, t, today=today(request))
    context.update(error=error, conflict=conflict, form_name=form_name, posted=posted or {},
                   saved=SAVED.get(saved or ""), visits_offset=visits_offset,
                   opened=opened if opened in OPENABLE and not error else None)
    return page(request, "records/patient.html", context,
                twin=f"/api/v1/patients/{patient_id}/timeline", status_code=status)


async def _change(request: Request, actor: Any, kb: Any, store: Any, patient_id: RecordId,
                  form_name: str, work: Any, done: Any) -> Response:
    """Run ``work(form)`` (a store call); 303 to ``done(result)``, or the patient page again
    with the error (422 bad input, 409 a conflict with the record or changed by someone
    else)."""
    form = await request.form()
    try:
        result = await _call(work, form)
    except InputError as exc:
        return await _patient_page(request, actor, kb, store, patient_id,
                                   status=input_status(exc), error=exc, form_name=form_name,
                                   posted=_posted(form))
    except ConflictError as exc:
        return await _patient_page(request, actor, kb, store, patient_id, status=409,
                                   conflict=exc, form_name=form_name)
    return _see(done(result))


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
async def patient(request: Request, patient_id: RecordId, actor: Clinician, kb: KB, store: Store,
                  saved: Saved = None,
                  visits: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                  open: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    """The patient's page; ``visits``: how many of the newest visits to skip (older pages);
    ``open``: a form to show open with its first field focused (procedure, outcome)."""
    return await _patient_page(request, actor, kb, store, patient_id, saved=saved,
                               visits_offset=visits, opened=open)


@router.post("/patients/{patient_id}")
async def update_patient(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                         store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.patients.update(actor, patient_id, version=record_forms.version(form),
                                     data=record_forms.patient(form))

    return await _change(request, actor, kb, store, patient_id, "patient", work,
                         lambda _: f"/patients/{patient_id}?saved=patient#details")


@router.post("/patients/{patient_id}/lesions")
async def add_lesion(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                     store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.patients.add_lesion(actor, patient_id, record_forms.lesion(form))

    return await _change(request, actor, kb, store, patient_id, "lesion", work,
                         lambda _: f"/patients/{patient_id}?saved=lesion")


@router.post("/patients/{patient_id}/lesions/{lesion_id}")
async def update_lesion(request: Request, patient_id: RecordId, lesion_id: RecordId,
                        actor: Clinician, kb: KB, store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.patients.update_lesion(actor, lesion_id, version=record_forms.version(form),
                                            data=record_forms.lesion_change(form))

    return await _change(request, actor, kb, store, patient_id, f"lesion-{lesion_id}", work,
                         lambda le: f"/patients/{le.patient_id}?saved=lesion#lesion-{le.id}")


@router.post("/patients/{patient_id}/procedures")
async def add_procedure(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                        store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.visits.add_procedure(actor, patient_id, record_forms.procedure(form))

    return await _change(request, actor, kb, store, patient_id, "procedure", work,
                         lambda p: f"/patients/{patient_id}?saved=procedure#procedure-{p.id}")


@router.post("/patients/{patient_id}/procedures/{procedure_id}/complications")
async def add_complication(request: Request, patient_id: RecordId, procedure_id: RecordId,
                           actor: Clinician, kb: KB, store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.visits.add_complication(actor, procedure_id,
                                             record_forms.complication(form))

    return await _change(
        request, actor, kb, store, patient_id, f"complication-{procedure_id}", work,
        lambda _: f"/patients/{patient_id}?saved=complication#procedure-{procedure_id}")


@router.post("/patients/{patient_id}/procedures/{procedure_id}/histopathology")
async def set_histopathology(request: Request, patient_id: RecordId, procedure_id: RecordId,
                             actor: Clinician, kb: KB, store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.visits.update_procedure(actor, procedure_id,
                                             version=record_forms.version(form),
                                             data=record_forms.histopathology(form))

    return await _change(
        request, actor, kb, store, patient_id, f"histopathology-{procedure_id}", work,
        lambda p: f"/patients/{p.patient_id}?saved=histopathology#procedure-{p.id}")


@router.post("/patients/{patient_id}/outcomes")
async def add_outcome(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                      store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.visits.add_outcome(actor, patient_id, record_forms.outcome(form))

    return await _change(request, actor, kb, store, patient_id, "outcome", work,
                         lambda _: f"/patients/{patient_id}?saved=outcome#outcomes")


@router.post("/patients/{patient_id}/alerts/review")
async def review_alert(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                       store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.worklist.review_alert(actor, patient_id, record_forms.text(form, "key"),
                                           record_forms.text(form, "note"))

    return await _change(request, actor, kb, store, patient_id, "alert", work,
                         lambda _: f"/patients/{patient_id}?saved=review#alerts")


@router.post("/patients/{patient_id}/referrals/{referral_id}/done")
async def complete_referral(request: Request, patient_id: RecordId, referral_id: RecordId,
                            actor: Clinician, kb: KB, store: Store) -> Response:
    def work(form: Any) -> Any:
        return store.worklist.complete_referral(
            actor, referral_id, version=record_forms.version(form), today=today(request),
            data={"how": record_forms.text(form, "how"),
                  "done_on": record_forms.text(form, "done_on"),
                  "notes": record_forms.text(form, "notes")})

    return await _change(request, actor, kb, store, patient_id, f"referral-{referral_id}",
                         work, lambda r: f"/patients/{r.patient_id}?saved=referral#referrals")


# --- deleting a patient -------------------------------------------------------------------------
async def _delete_page(request: Request, actor: Any, store: Any, patient_id: RecordId, *,
                       status: int = 200, problem: Exception | None = None) -> HTMLResponse:
    found = await _call(store.patients.get, actor, patient_id, audited=not is_head(request))
    return page(request, "records/delete.html", {"p": found, "problem": problem},
                twin=f"/api/v1/patients/{patient_id}", status_code=status)


@router.get("/patients/{patient_id}/delete", response_class=HTMLResponse)
async def confirm_delete(request: Request, patient_id: RecordId, actor: Clinician,
                         store: Store) -> HTMLResponse:
    return await _delete_page(request, actor, store, patient_id)


@router.post("/patients/{patient_id}/delete")
async def delete_patient(request: Request, patient_id: RecordId, actor: Clinician,
                         store: Store) -> Response:
    form = await request.form()
    try:
        await _call(store.patients.delete, actor, patient_id, version=record_forms.version(form))
    except InputError as exc:
        return await _delete_page(request, actor, store, patient_id,
                                  status=input_status(exc), problem=exc)
    except ConflictError as exc:
        return await _delete_page(request, actor, store, patient_id, status=409, problem=exc)
    return _see("/patients?deleted=1")


# --- visits -------------------------------------------------------------------------------------
async def _visit_page(request: Request, actor: Any, kb: Any, store: Any, patient_id: RecordId, *,
                      status: int = 200, error: InputError | None = None,
                      posted: dict[str, Any] | None = None,
                      ticked: list[str] | None = None, form: Any = None,
                      note_status: str | None = None) -> HTMLResponse:
    t = await _call(store.visits.timeline, actor, patient_id,
                    action=None if is_head(request) else "read", encounters=ENCOUNTERS_SHOWN)
    context = patient_page.visit_context(kb, t)
    posted = posted or {}
    marks = note_fill.read_marks(posted)
    context.update(error=error, posted=posted, ticked=ticked, marks=marks,
                   marks_json=note_fill.write_marks(marks) if marks else "",
                   confirmed=note_fill.confirmed(form) if form is not None else set(),
                   note_status=note_status)
    return page(request, "records/visit.html", context,
                twin=f"/api/v1/patients/{patient_id}/timeline", status_code=status)


@router.get("/patients/{patient_id}/encounters/new", response_class=HTMLResponse)
async def new_visit(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                    store: Store) -> HTMLResponse:
    return await _visit_page(request, actor, kb, store, patient_id)


def _record_visit(store: Any, kb: Any, actor: Any, patient_id: RecordId, form: Any) -> Any:
    t = store.visits.visit_context(actor, patient_id)  # no visit is read to record one
    args = record_forms.encounter(form, finding_catalogue(kb), [le.id for le in t.lesions])
    note_fill.refuse_pending(form)
    try:
        draft = draft_encounter(kb, t, **args)
    except InputError as exc:
        field = record_forms.form_field(exc.field, args["lumps"])
        raise type(exc)(field, exc.message, exc.allowed) from None  # 409 stays 409
    return store.visits.record_encounter(actor, patient_id, draft)


@router.post("/patients/{patient_id}/encounters")
async def record_visit(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                       store: Store) -> Response:
    form = await request.form()
    try:
        made = await _call(_record_visit, store, kb, actor, patient_id, form)
    except InputError as exc:
        return await _visit_page(request, actor, kb, store, patient_id,
                                 status=input_status(exc), error=exc,
                                 posted=_posted(form), ticked=list(form.getlist("lesions")),
                                 form=form)
    return _see(f"/encounters/{made.id}")


@router.post("/patients/{patient_id}/encounters/note")
async def read_visit_note(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                          store: Store) -> Response:
    """The visit form's "Read the note" button (no JavaScript needed): the pasted note's
    findings fill the empty fields as suggestions to confirm; nothing is saved."""
    form = await request.form()
    posted = _posted(form)
    ticked = list(form.getlist("lesions"))
    try:
        extraction = read_note(form.get("pasted_note") or "", "pasted_note")
    except InputError as exc:
        return await _visit_page(request, actor, kb, store, patient_id,
                                 status=input_status(exc), error=exc,
                                 posted=posted, ticked=ticked, form=form)
    t = await _call(store.visits.timeline, actor, patient_id, action=None)
    lesion_id = note_fill.note_lesion(form, [le.id for le in t.lesions])
    lesion = next((le for le in t.lesions if le.id == lesion_id), None)
    known = ({"location": lesion.region, "laterality": lesion.side,
              "nodule_count": lesion.nodule_count if lesion.nodule_count > 1 else None}
             if lesion is not None else {})
    done = note_fill.fill(form, extraction, finding_catalogue(kb), lesion_id=lesion_id,
                          known=known)
    posted.update(done.values)
    kept = {n: m for n, m in note_fill.read_marks(form).items()
            if n in note_fill.confirmed(form) and n not in done.marks}
    posted[note_fill.MARKS_FIELD] = note_fill.write_marks({**kept, **done.marks})
    if lesion_id is not None and str(lesion_id) not in ticked and any(
            n.startswith(record_forms.lesion_field(lesion_id, "")) for n in done.marks):
        ticked.append(str(lesion_id))
    return await _visit_page(request, actor, kb, store, patient_id, posted=posted,
                             ticked=ticked, form=form, note_status=note_fill.summary(done))


def named_lumps(doc: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A copy of a stored result document whose notes name lumps by ``names``."""
    lumps = [{**lump, "notes": [name_lumps(n, names) for n in lump.get("notes") or []]}
             for lump in doc.get("lumps") or []]
    return {**doc, "notes": [name_lumps(n, names) for n in doc.get("notes") or []],
            "lumps": lumps}


@router.get("/encounters/{encounter_id}", response_class=HTMLResponse)
async def encounter(request: Request, encounter_id: RecordId, actor: Clinician, kb: KB,
                    store: Store) -> HTMLResponse:
    found = await _call(store.visits.get_encounter, actor, encounter_id,
                        audited=not is_head(request))
    owner = await _call(store.patients.get, actor, found.patient_id, audited=False)
    lesions = await _call(store.patients.lesions, actor, found.patient_id)
    keys = {lump_key(le.id): le for le in lesions}
    # The stored document names lumps by key (lesion-<id>); the page and the note name them
    # by the lesion's label (a deleted lesion keeps its key). The stored visit is not changed.
    lump_names = {key: le.label for key, le in keys.items()}
    return page(request, "records/encounter.html", {
        "e": found, "doc": named_lumps(found.result_doc, lump_names), "keys": keys,
        "patient": owner, "lump_names": lump_names,
        "names": {cid: c.name for cid, c in kb.conditions.items()},
        "note": clinician_note(kb, from_data(found.result_doc), lump_names=lump_names)},
        twin=f"/api/v1/encounters/{encounter_id}")


# --- the clinic ---------------------------------------------------------------------------------
@router.get("/clinic/outcomes", response_class=HTMLResponse)
async def clinic_outcomes(request: Request, actor: Clinician, store: Store) -> HTMLResponse:
    data = clinic_effects_data(*await _call(store.visits.clinic_data, actor,
                                            audited=not is_head(request)))
    chart = before_after_chart([
        (e["label"], e["mean_before"], e["mean_after"],
         f"{_count(e['patients'], 'patient')}, {e['paired']} paired")
        for e in data["effects"]])
    return page(request, "records/clinic_outcomes.html", {"data": data, "chart": chart},
                twin="/api/v1/clinic/outcomes")


@router.get("/clinic/worklist", response_class=HTMLResponse)
async def clinic_worklist(request: Request, actor: Clinician, store: Store) -> HTMLResponse:
    """The clinic's open alerts and referrals (overdue first), each linking to its patient."""
    found = await _call(store.worklist.clinic, actor, audited=not is_head(request))
    return page(request, "records/clinic_worklist.html",
                {"data": clinic_worklist_data(found, today(request))},
                twin="/api/v1/clinic/worklist")


# --- admin: users and tokens --------------------------------------------------------------------
async def _users_page(request: Request, store: Any, *, status: int = 200,
                      error: InputError | None = None, posted: dict[str, Any] | None = None,
                      new_token: dict[str, Any] | None = None,
                      saved: str | None = None) -> HTMLResponse:
    users = await _call(store.accounts.list_users)
    tokens = await _call(store.accounts.list_tokens)
    by_user: dict[int, list[Any]] = {}
    for token in tokens:
        by_user.setdefault(token.user_id, []).append(token)
    return page(request, "records/admin_users.html", {
        "users": users, "tokens": by_user, "roles": ROLES, "error": error,
        "posted": posted or {}, "new_token": new_token, "saved": saved},
        twin="/api/v1/users", status_code=status)


@router.get("/admin/users", response_class=HTMLResponse)
async def users(request: Request, actor: Admin, store: Store, saved: Saved = None,
                new_token: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """With ``new_token`` (a hand-off handle, never the secret): a token just made, shown once."""
    handoff = request.app.state.handoff
    # HEAD answers as GET would but must not use up the one showing of the secret.
    look = handoff.peek if is_head(request) else handoff.take
    shown = look(actor.user_id, new_token) if new_token else None
    message = {"user": "User saved.", "token": "Token revoked.",
               "password": "Password reset: the user must choose a new one at their next "
                           "login."}.get(saved or "")
    if new_token and shown is None:
        message = ("That new token has already been shown, and is never shown again. If it "
                   "was not copied, revoke it and create another.")
    response = await _users_page(request, store, saved=message, new_token=shown)
    if shown is not None:
        response.headers["cache-control"] = "no-store"
    return response


async def _admin_change(request: Request, actor: Any, store: Any, work: Any,
                        action: str) -> Response:
    form = await request.form()
    try:
        target = await _call(work, form)
    except InputError as exc:
        posted = {k: v for k, v in _posted(form).items() if k != "roles"}
        posted["roles"] = list(form.getlist("roles"))
        return await _users_page(request, store, status=input_status(exc), error=exc,
                                 posted=posted)
    await _call(store.audit.add, actor, action, target=target)
    saved = {"token_change": "token", "password_reset": "password"}.get(action, "user")
    return _see(f"/admin/users?saved={saved}")


@router.post("/admin/users")
async def create_user(request: Request, actor: Admin, store: Store) -> Response:
    def work(form: Any) -> str:
        made = store.accounts.create_user(
            username=record_forms.text(form, "username") or "",
            password=form.get("password") or "", roles=form.getlist("roles"),
            display_name=record_forms.text(form, "display_name"),
            clinic=record_forms.text(form, "clinic"))
        return f"user:{made.id}"

    return await _admin_change(request, actor, store, work, "user_change")


@router.post("/admin/users/{user_id}")
async def update_user(request: Request, user_id: RecordId, actor: Admin, store: Store) -> Response:
    def work(form: Any) -> str:
        action = record_forms.text(form, "action")
        if action == "roles":
            store.accounts.update_user(user_id, roles=form.getlist("roles"),
                                       acting_user_id=actor.user_id)
        elif action in ("disable", "enable"):
            store.accounts.update_user(user_id, active=action == "enable",
                                       acting_user_id=actor.user_id)
        else:
            raise InputError("action", "unknown change", "roles, disable or enable")
        return f"user:{user_id}"

    return await _admin_change(request, actor, store, work, "user_change")


@router.post("/admin/users/{user_id}/password")
async def reset_password(request: Request, user_id: RecordId, actor: Admin,
                         store: Store) -> Response:
    """Set a temporary password; the user must change it at their next login."""
    def work(form: Any) -> str:
        store.accounts.reset_password(user_id, password=form.get("password") or "",
                                      acting_user_id=actor.user_id)
        return f"user:{user_id}"

    return await _admin_change(request, actor, store, work, "password_reset")


@router.post("/admin/users/{user_id}/tokens", response_class=HTMLResponse)
async def create_token(request: Request, user_id: RecordId, actor: Admin, store: Store) -> Response:
    """The new token's secret is shown once, on the page this redirects to (see handoff.py):
    never in a URL, and reloading that page creates no second token."""
    form = await request.form()
    try:
        secret, token = await _call(store.accounts.create_token, user_id=user_id,
                                    name=record_forms.text(form, "name") or "")
    except InputError as exc:
        return await _users_page(request, store, status=input_status(exc), error=exc,
                                 posted=_posted(form))
    await _call(store.audit.add, actor, "token_change", target=f"token:{token.id}")
    handle = request.app.state.handoff.put(actor.user_id, {"secret": secret, **plain(token)})
    return _see(f"/admin/users?new_token={handle}")


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: RecordId, actor: Admin,
                       store: Store) -> Response:
    def work(_: Any) -> str:
        return f"token:{store.accounts.revoke_token(token_id).id}"

    return await _admin_change(request, actor, store, work, "token_change")


# --- admin: the audit log -----------------------------------------------------------------------
@router.get("/admin/audit", response_class=HTMLResponse)
async def audit(request: Request, _: Admin, store: Store,
                patient_id: Annotated[str | None, Query(max_length=12)] = None,
                page_no: PageNo = 1) -> HTMLResponse:
    error = None
    chosen = None
    try:
        chosen = record_forms.record_id({"patient_id": patient_id or ""}, "patient_id")
    except InputError as exc:
        error = exc
    events = [] if error else await _call(
        store.audit.events, patient_id=chosen, limit=AUDIT_PAGE_SIZE + 1,
        offset=(page_no - 1) * AUDIT_PAGE_SIZE)
    query = urlencode({"patient_id": chosen} if chosen else {})
    return page(request, "records/admin_audit.html", {
        "events": events[:AUDIT_PAGE_SIZE], "more": len(events) > AUDIT_PAGE_SIZE,
        "page_no": page_no, "patient_id": patient_id or "", "query": query, "error": error},
        twin="/api/v1/audit" + (f"?{query}" if query else ""),
        status_code=422 if error else 200)


# Correcting or deleting a visit, procedure or outcome: its own module, this router.
records_corrections.install(router)
