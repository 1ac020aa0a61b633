"""Correcting or deleting a visit (encounter), a procedure or an outcome from the patient pages:
a form with the entry's values and a required reason (``/patients/{id}/{kind}/{item}/correct``)
and a delete form with its own reason. A refused form comes back with 422 naming the field
(nothing saved), a stale version with 409; a change answers 303 to the patient page, where the
entry is marked corrected and the reason is listed with the values before.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backmice.errors import ConflictError, InputError, NotFoundError
from backmice.web import patient_page, record_forms
from backmice.web.auth import Clinician
from backmice.web.deps import KB, RecordId, Store, is_head
from backmice.web.record_views import corrections_data, plain
from backmice.web.routes.pages import page

Kind = Literal["encounters", "procedures", "outcomes"]


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return run_in_threadpool(fn, *args, **kwargs)


def _posted(form: Any) -> dict[str, Any]:
    """The submitted values to put back in a re-rendered form (never a token)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


async def _entry(store: Any, actor: Any, patient_id: int, kind: str, item_id: int, *,
                 action: str | None = "read") -> Any:
    """The entry to correct, from the patient's record (the read is audited once; a change is
    audited as itself)."""
    t = await _call(store.visits.timeline, actor, patient_id, encounters=1, action=action)
    if kind == "encounters":
        found = await _call(store.visits.get_encounter, actor, item_id, audited=False)
        if found.patient_id != t.patient.id:
            raise NotFoundError("encounter", str(item_id))
        return t, found
    pool = t.procedures if kind == "procedures" else t.outcomes
    found = next((x for x in pool if x.id == item_id), None)
    if found is None:
        raise NotFoundError(kind[:-1], str(item_id))
    return t, found


async def _correct_page(request: Request, actor: Any, kb: Any, store: Any, patient_id: int,
                        kind: str, item_id: int, *, status: int = 200,
                        error: InputError | None = None, conflict: ConflictError | None = None,
                        posted: dict[str, Any] | None = None,
                        form_name: str = "") -> HTMLResponse:
    t, entry = await _entry(store, actor, patient_id, kind, item_id,
                            action=None if is_head(request) else "read")
    target = f"{kind[:-1]}:{item_id}"
    return page(request, "records/correct.html", {
        "p": t.patient, "kind": kind, "entry": plain(entry), "error": error,
        "conflict": conflict, "posted": posted or {}, "form_name": form_name,
        "lesions": [{"id": le.id, "label": le.label, "number": n}
                    for n, le in enumerate(t.lesions, start=1)],
        "history": [c for c in corrections_data(t.corrections) if c["target"] == target],
        "choices": patient_page.choices(kb), "field_labels": patient_page.FIELD_LABELS},
        twin=f"/api/v1/patients/{patient_id}/timeline", status_code=status)


async def correct_form(request: Request, patient_id: RecordId, kind: Kind, item_id: RecordId,
                       actor: Clinician, kb: KB, store: Store) -> HTMLResponse:
    """Correct or delete one visit, procedure or outcome (a reason is required)."""
    return await _correct_page(request, actor, kb, store, patient_id, kind, item_id)


def _correction_call(store: Any, actor: Any, kind: str, item_id: int, form: Any,
                     remove: bool) -> Any:
    version, reason = record_forms.version(form), record_forms.text(form, "reason")
    if reason is None:
        raise InputError("reason", "is required", "why the entry is corrected or deleted")
    c = store.corrections
    if remove:
        deleting = {"encounters": c.delete_encounter, "procedures": c.delete_procedure,
                    "outcomes": c.delete_outcome}[kind]
        return deleting(actor, item_id, version=version, reason=reason)
    if kind == "encounters":
        return c.correct_encounter(actor, item_id, version=version, reason=reason,
                                   data=record_forms.encounter_change(form))
    if kind == "procedures":
        return c.correct_procedure(actor, item_id, version=version, reason=reason,
                                   data=record_forms.procedure(form))
    return c.correct_outcome(actor, item_id, version=version, reason=reason,
                             data=record_forms.outcome(form))


async def _correction(request: Request, actor: Any, kb: Any, store: Any, patient_id: int,
                      kind: str, item_id: int, *, remove: bool) -> Response:
    form = await request.form()
    await _entry(store, actor, patient_id, kind, item_id, action=None)  # this patient's, or 404
    name = "delete" if remove else "correct"
    try:
        await _call(_correction_call, store, actor, kind, item_id, form, remove)
    except InputError as exc:
        return await _correct_page(request, actor, kb, store, patient_id, kind, item_id,
                                   status=422, error=exc, posted=_posted(form), form_name=name)
    except ConflictError as exc:
        return await _correct_page(request, actor, kb, store, patient_id, kind, item_id,
                                   status=409, conflict=exc, form_name=name)
    anchor = {"encounters": "encounters", "procedures": "procedures", "outcomes": "outcomes"}
    return RedirectResponse(f"/patients/{patient_id}?saved={'deleted' if remove else 'corrected'}"
                            f"#{anchor[kind]}", 303)


async def correct_entry(request: Request, patient_id: RecordId, kind: Kind, item_id: RecordId,
                        actor: Clinician, kb: KB, store: Store) -> Response:
    return await _correction(request, actor, kb, store, patient_id, kind, item_id,
                             remove=False)


async def delete_entry(request: Request, patient_id: RecordId, kind: Kind, item_id: RecordId,
                       actor: Clinician, kb: KB, store: Store) -> Response:
    return await _correction(request, actor, kb, store, patient_id, kind, item_id,
                             remove=True)


def install(router: APIRouter) -> None:
    """Add these pages to the patient-record pages' router (one router, so the access tests,
    which read it, cover them too)."""
    path = "/patients/{patient_id}/{kind}/{item_id}"
    router.add_api_route(f"{path}/correct", correct_form, methods=["GET"],
                         response_class=HTMLResponse)
    router.add_api_route(f"{path}/correct", correct_entry, methods=["POST"])
    router.add_api_route(f"{path}/delete", delete_entry, methods=["POST"])
