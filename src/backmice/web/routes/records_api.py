"""The patient-record API under /api/v1: patients, lesions, encounters, procedures, outcomes
(with corrections and deletions, each with a reason), alert reviews and referrals, the timeline
and export, the clinic's before / after table and its alerts and referrals, one's own password;
users, password resets, tokens and the audit log for admins. Every route needs a logged-in user
or a bearer token with the right role (401 / 403), and sees only its own clinic's patients."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from backmice.errors import InputError, NotAuthenticated
from backmice.web import auth
from backmice.web.auth import Admin, Clinician, SignedIn, current_caller
from backmice.web.deps import KB, MAX_ROW_ID, RecordId, Store, is_head
from backmice.web.record_clock import today
from backmice.web.record_views import (
    ENCOUNTERS_SHOWN,
    clinic_effects_data,
    clinic_worklist_data,
    injection_window,
    plain,
    timeline_csv,
    timeline_data,
)
from backmice.web.recording import draft_encounter
from backmice.web.records_models import (
    AlertReviewIn,
    ComplicationIn,
    Day,
    EncounterIn,
    EncounterPatch,
    LesionIn,
    LesionPatch,
    OutcomeIn,
    OutcomePatch,
    PasswordChangeIn,
    PasswordResetIn,
    PatientIn,
    PatientPatch,
    ProcedureIn,
    ProcedurePatch,
    ReferralDoneIn,
    Removal,
    TokenIn,
    UserIn,
    UserPatch,
    changes,
)

# Bodies are JSON; one without a Content-Type is read as JSON too, any other type is answered
# 415 before it gets here (InputEdgeMiddleware, web.edge).
router = APIRouter(prefix="/api/v1", tags=["patient records"], strict_content_type=False,
                   responses={415: {"description": "a body not sent as application/json"}})
NEEDS_LOGIN = {401: {"description": "not logged in / no valid token"},
               403: {"description": "logged in without the needed role"}}
CHANGED = {**NEEDS_LOGIN, 409: {"description": "changed by someone else since you read it, or "
                                               "already done"}}


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return run_in_threadpool(fn, *args, **kwargs)


@router.get("/me", responses=NEEDS_LOGIN)
async def me(request: Request) -> dict[str, Any]:
    """Who the request is acting as (any role). A browser session also gets the CSRF token its
    scripts must send as ``X-CSRF-Token`` on every POST, PATCH or DELETE."""
    caller = await current_caller(request)
    if caller is None:
        raise NotAuthenticated("log in first (or send an API token)")
    user = await _call(request.app.state.store.accounts.get_user, caller.actor.user_id)
    return {"username": caller.actor.username, "roles": list(caller.actor.roles),
            "clinic_id": caller.actor.clinic_id, "via": caller.via,
            "csrf_token": caller.csrf_token,
            "must_change_password": user.must_change_password}


@router.post("/me/password", responses={**NEEDS_LOGIN, 422: {
    "description": "the current password is wrong, or the new one breaks the rules"}})
async def change_password(request: Request, body: PasswordChangeIn,
                          caller: SignedIn) -> dict[str, Any]:
    """Change your own password (any role): the current one is required, the new one follows
    the rules of a new user's password (10 to 256 characters) and differs from it. Your other
    logins end; this one stays. Audited."""
    store = request.app.state.store
    user = await _call(store.accounts.change_password, caller.actor.user_id,
                       current=body.current_password, new=body.new_password,
                       keep_session=request.cookies.get(auth.SESSION_COOKIE))
    await _call(store.audit.add, caller.actor, "password_change", target=f"user:{user.id}")
    return {"username": user.username, "must_change_password": user.must_change_password}


# --- patients ----------------------------------------------------------------------------------
@router.get("/patients", responses=NEEDS_LOGIN)
async def list_patients(request: Request, actor: Clinician, store: Store,
                        q: Annotated[str | None, Query(max_length=200)] = None,
                        birth_date: Annotated[Day | None, Query()] = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50,
                        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                        ) -> dict[str, Any]:
    """Search by name (contains), local identifier (exact) and date of birth; newest first."""
    items, total = await _call(store.patients.search, actor, text=q, birth_date=birth_date,
                               limit=limit, offset=offset, audited=not is_head(request))
    return {"items": plain(items), "total": total, "limit": limit, "offset": offset}


@router.post("/patients", status_code=201, responses=NEEDS_LOGIN)
async def create_patient(body: PatientIn, actor: Clinician, store: Store) -> dict[str, Any]:
    return plain(await _call(store.patients.create, actor, changes(body)))


@router.get("/patients/{patient_id}", responses=NEEDS_LOGIN)
async def get_patient(request: Request, patient_id: RecordId, actor: Clinician,
                      store: Store) -> dict[str, Any]:
    return plain(await _call(store.patients.get, actor, patient_id,
                             audited=not is_head(request)))


@router.patch("/patients/{patient_id}", responses={**NEEDS_LOGIN, 409: {
    "description": "changed by someone else since you read it"}})
async def update_patient(patient_id: RecordId, body: PatientPatch, actor: Clinician,
                         store: Store) -> dict[str, Any]:
    return plain(await _call(store.patients.update, actor, patient_id, version=body.version,
                             data=changes(body)))


@router.delete("/patients/{patient_id}", status_code=204, responses=NEEDS_LOGIN)
async def delete_patient(patient_id: RecordId, actor: Clinician, store: Store,
                         version: Annotated[int, Query(ge=1, le=MAX_ROW_ID)]) -> Response:
    """Delete the patient and their whole record (audited). ``version`` confirms which
    version you saw."""
    await _call(store.patients.delete, actor, patient_id, version=version)
    return Response(status_code=204)


@router.get("/patients/{patient_id}/timeline", responses=NEEDS_LOGIN)
async def timeline(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                   store: Store,
                   encounters: Annotated[int, Query(ge=1, le=500)] = ENCOUNTERS_SHOWN,
                   encounter_offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                   ) -> dict[str, Any]:
    """Lesions, encounters (summaries), procedures, outcomes, alerts and pain series. The
    visits come a page at a time: the newest ``encounters`` (after ``encounter_offset``),
    oldest first, with ``encounters_total``; every lesion's latest result and sizes come
    from all visits. The whole record, every visit with its documents: the export."""
    return timeline_data(await _call(store.visits.timeline, actor, patient_id,
                                     action=None if is_head(request) else "read",
                                     encounters=encounters, encounter_offset=encounter_offset),
                         within_minutes=injection_window(kb), today=today(request))


@router.get("/patients/{patient_id}/export", responses=NEEDS_LOGIN)
async def export(request: Request, patient_id: RecordId, actor: Clinician, kb: KB,
                 store: Store, format: Literal["json", "csv"] = "json") -> Response:
    """The whole record, with every encounter's input and assessment (JSON) or as a long
    table (CSV). Audited as an export (HEAD, which sends no data, is not)."""
    t = await _call(store.visits.timeline, actor, patient_id,
                    action=None if is_head(request) else "export", documents=format == "json")
    name = f"backmice-patient-{patient_id}"
    if format == "csv":
        return Response(timeline_csv(t), media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{name}.csv"'})
    body = json.dumps({"format": "backmice.patient_record", "format_version": 1,
                       **timeline_data(t, within_minutes=injection_window(kb),
                                       with_documents=True, today=today(request))},
                      ensure_ascii=False)
    return Response(body, media_type="application/json", headers={
        "content-disposition": f'attachment; filename="{name}.json"'})


# --- lesions -----------------------------------------------------------------------------------
@router.post("/patients/{patient_id}/lesions", status_code=201, responses=NEEDS_LOGIN)
async def add_lesion(patient_id: RecordId, body: LesionIn, actor: Clinician,
                     store: Store) -> dict[str, Any]:
    return plain(await _call(store.patients.add_lesion, actor, patient_id, changes(body)))


@router.patch("/lesions/{lesion_id}", responses=NEEDS_LOGIN)
async def update_lesion(lesion_id: RecordId, body: LesionPatch, actor: Clinician,
                        store: Store) -> dict[str, Any]:
    return plain(await _call(store.patients.update_lesion, actor, lesion_id,
                             version=body.version, data=changes(body)))


# --- encounters, procedures, outcomes ------------------------------------------------------------
def _record_encounter(store: Any, kb: Any, actor: Any, patient_id: int,
                      body: EncounterIn) -> Any:
    t = store.visits.visit_context(actor, patient_id, [lump.lesion_id for lump in body.lumps])
    draft = draft_encounter(kb, t, occurred_on=body.occurred_on, note=body.note,
                            setting=body.setting, patient_findings=body.patient,
                            lumps=[lump.model_dump() for lump in body.lumps])
    return store.visits.record_encounter(actor, patient_id, draft)


@router.post("/patients/{patient_id}/encounters", status_code=201, responses=NEEDS_LOGIN)
async def record_encounter(patient_id: RecordId, body: EncounterIn, actor: Clinician, kb: KB,
                           store: Store) -> dict[str, Any]:
    """Assess the lesions seen at this visit and keep the assessment as it was shown. Later
    tests of a lesion default to what its recorded procedures showed (e.g. the pain before
    and after a diagnostic injection)."""
    return plain(await _call(_record_encounter, store, kb, actor, patient_id, body))


@router.get("/encounters/{encounter_id}", responses=NEEDS_LOGIN)
async def get_encounter(request: Request, encounter_id: RecordId, actor: Clinician,
                        store: Store) -> dict[str, Any]:
    return plain(await _call(store.visits.get_encounter, actor, encounter_id,
                             audited=not is_head(request)))


@router.post("/patients/{patient_id}/procedures", status_code=201, responses=NEEDS_LOGIN)
async def add_procedure(patient_id: RecordId, body: ProcedureIn, actor: Clinician,
                        store: Store) -> dict[str, Any]:
    return plain(await _call(store.visits.add_procedure, actor, patient_id, changes(body)))


@router.patch("/procedures/{procedure_id}", responses=CHANGED)
async def update_procedure(procedure_id: RecordId, body: ProcedurePatch, actor: Clinician,
                           store: Store) -> dict[str, Any]:
    """Add later facts (histopathology, notes), or correct any field with a ``reason`` (the
    old values and the reason are kept)."""
    data = changes(body, without=("version", "reason"))
    if body.reason is not None:
        return plain(await _call(store.corrections.correct_procedure, actor, procedure_id,
                                 version=body.version, reason=body.reason, data=data))
    if set(data) - {"histopathology", "notes"}:
        raise InputError("reason", "correcting a procedure needs a reason",
                         "why the procedure is corrected (1 to 2000 characters)")
    return plain(await _call(store.visits.update_procedure, actor, procedure_id,
                             version=body.version, data=data))


@router.patch("/encounters/{encounter_id}", responses={**NEEDS_LOGIN, 409: {
    "description": "changed by someone else since you read it"}})
async def correct_encounter(encounter_id: RecordId, body: EncounterPatch, actor: Clinician,
                            store: Store) -> dict[str, Any]:
    """Correct a visit's date or note, with a reason (the old values and the reason are kept;
    the assessment stays as it was shown)."""
    return plain(await _call(store.corrections.correct_encounter, actor, encounter_id,
                             version=body.version, reason=body.reason,
                             data=changes(body, without=("version", "reason"))))


@router.post("/encounters/{encounter_id}/delete", status_code=204, responses=CHANGED)
async def delete_encounter(encounter_id: RecordId, body: Removal, actor: Clinician,
                           store: Store) -> Response:
    """Delete a visit with a reason (body ``{version, reason}``; a POST, as some HTTP clients
    and proxies drop the body of a DELETE); the correction keeps it."""
    await _call(store.corrections.delete_encounter, actor, encounter_id, version=body.version,
                reason=body.reason)
    return Response(status_code=204)


@router.post("/procedures/{procedure_id}/delete", status_code=204, responses=CHANGED)
async def delete_procedure(procedure_id: RecordId, body: Removal, actor: Clinician,
                           store: Store) -> Response:
    await _call(store.corrections.delete_procedure, actor, procedure_id, version=body.version,
                reason=body.reason)
    return Response(status_code=204)


@router.patch("/outcomes/{outcome_id}", responses=CHANGED)
async def correct_outcome(outcome_id: RecordId, body: OutcomePatch, actor: Clinician,
                          store: Store) -> dict[str, Any]:
    return plain(await _call(store.corrections.correct_outcome, actor, outcome_id,
                             version=body.version, reason=body.reason,
                             data=changes(body, without=("version", "reason"))))


@router.post("/outcomes/{outcome_id}/delete", status_code=204, responses=CHANGED)
async def delete_outcome(outcome_id: RecordId, body: Removal, actor: Clinician,
                         store: Store) -> Response:
    await _call(store.corrections.delete_outcome, actor, outcome_id, version=body.version,
                reason=body.reason)
    return Response(status_code=204)


@router.post("/patients/{patient_id}/alerts/review", status_code=201, responses=CHANGED)
async def review_alert(patient_id: RecordId, body: AlertReviewIn, actor: Clinician,
                       store: Store) -> dict[str, Any]:
    """Mark one of the patient's alerts reviewed (who and when are kept, and audited); it
    then shows under ``reviewed_alerts``. 409 if someone already did."""
    return plain(await _call(store.worklist.review_alert, actor, patient_id, body.key,
                             body.note))


@router.post("/referrals/{referral_id}/done", responses=CHANGED)
async def complete_referral(request: Request, referral_id: RecordId, body: ReferralDoneIn,
                            actor: Clinician, store: Store) -> dict[str, Any]:
    """Mark a referral done: ``how`` (sent: the referral went out; seen: the patient was
    seen), ``done_on`` and notes. Audited."""
    done = await _call(store.worklist.complete_referral, actor, referral_id,
                       version=body.version, today=today(request),
                       data=changes(body, without=("version",)))
    return {**plain(done), "overdue": done.is_overdue(today(request))}


@router.get("/clinic/worklist", responses=NEEDS_LOGIN)
async def clinic_worklist(request: Request, actor: Clinician, store: Store) -> dict[str, Any]:
    """The clinic's open alerts and open referrals (overdue first), each with its patient."""
    found = await _call(store.worklist.clinic, actor, audited=not is_head(request))
    return clinic_worklist_data(found, today(request))


@router.post("/procedures/{procedure_id}/complications", status_code=201,
             responses=NEEDS_LOGIN)
async def add_complication(procedure_id: RecordId, body: ComplicationIn, actor: Clinician,
                           store: Store) -> dict[str, Any]:
    return plain(await _call(store.visits.add_complication, actor, procedure_id,
                             changes(body, without=())))


@router.post("/patients/{patient_id}/outcomes", status_code=201, responses=NEEDS_LOGIN)
async def add_outcome(patient_id: RecordId, body: OutcomeIn, actor: Clinician,
                      store: Store) -> dict[str, Any]:
    return plain(await _call(store.visits.add_outcome, actor, patient_id, changes(body)))


@router.get("/clinic/outcomes", responses=NEEDS_LOGIN)
async def clinic_outcomes(request: Request, actor: Clinician, store: Store) -> dict[str, Any]:
    """Mean pain before and after each kind of procedure across the clinic's patients."""
    return clinic_effects_data(*await _call(store.visits.clinic_data, actor,
                                            audited=not is_head(request)))


# --- admin: users, tokens, audit -----------------------------------------------------------------
@router.get("/users", tags=["admin"], responses=NEEDS_LOGIN)
async def list_users(_: Admin, store: Store) -> list[dict[str, Any]]:
    return plain(await _call(store.accounts.list_users))


@router.post("/users", tags=["admin"], status_code=201, responses=NEEDS_LOGIN)
async def create_user(body: UserIn, actor: Admin, store: Store) -> dict[str, Any]:
    user = await _call(store.accounts.create_user, username=body.username,
                       password=body.password, roles=body.roles,
                       display_name=body.display_name, clinic=body.clinic)
    await _call(store.audit.add, actor, "user_change", target=f"user:{user.id}")
    return plain(user)


@router.patch("/users/{user_id}", tags=["admin"], responses=NEEDS_LOGIN)
async def update_user(user_id: RecordId, body: UserPatch, actor: Admin,
                      store: Store) -> dict[str, Any]:
    user = await _call(store.accounts.update_user, user_id, roles=body.roles,
                       active=body.active, password=body.password,
                       acting_user_id=actor.user_id)
    await _call(store.audit.add, actor, "user_change", target=f"user:{user.id}")
    return plain(user)


@router.post("/users/{user_id}/password", tags=["admin"], responses=NEEDS_LOGIN)
async def reset_password(user_id: RecordId, body: PasswordResetIn, actor: Admin,
                         store: Store) -> dict[str, Any]:
    """Set another user's password: their logins end and they must choose a new one at
    their next login. Audited."""
    user = await _call(store.accounts.reset_password, user_id, password=body.password,
                       acting_user_id=actor.user_id)
    await _call(store.audit.add, actor, "password_reset", target=f"user:{user.id}")
    return plain(user)


@router.post("/users/{user_id}/tokens", tags=["admin"], status_code=201, responses=NEEDS_LOGIN)
async def create_token(user_id: RecordId, body: TokenIn, actor: Admin,
                       store: Store) -> dict[str, Any]:
    """A new API token for a user; the secret is shown in this answer only."""
    secret, token = await _call(store.accounts.create_token, user_id=user_id, name=body.name)
    await _call(store.audit.add, actor, "token_change", target=f"token:{token.id}")
    return {"token": secret, **plain(token)}


@router.delete("/tokens/{token_id}", tags=["admin"], responses=NEEDS_LOGIN)
async def revoke_token(token_id: RecordId, actor: Admin, store: Store) -> dict[str, Any]:
    token = await _call(store.accounts.revoke_token, token_id)
    await _call(store.audit.add, actor, "token_change", target=f"token:{token.id}")
    return plain(token)


@router.get("/audit", tags=["admin"], responses=NEEDS_LOGIN)
async def audit_log(_: Admin, store: Store,
                    patient_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[dict[str, Any]]:
    return plain(await _call(store.audit.events, patient_id=patient_id, limit=limit,
                             offset=offset))
