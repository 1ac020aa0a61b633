"""The /cds-services routes: discovery (public: it holds no patient data), the services and
their feedback (each call verified by :mod:`trust` first)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backmice import strict_json
from backmice.errors import BackmiceError, InputError, NotFoundError
from backmice.findings import FINDINGS, Scope
from backmice.interop import cds_hooks
from backmice.interop.fhir import read_fhir
from backmice.kb.base import KnowledgeBase
from backmice.web.api_models import ErrorOut
from backmice.web.assessing import assess_value
from backmice.web.cds_hooks import prefetch as prefetching
from backmice.web.cds_hooks.trust import ClientCache, JwksCache, Refused, replayed, verify
from backmice.web.deps import Reviewer, Store

log = logging.getLogger("backmice.cds_hooks")
HOOKS = cds_hooks.service_hooks()
MAX_FEEDBACK_ITEMS = 100
OUTCOMES = ("accepted", "overridden")


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "code": "cds_hooks", "field": field,
                                   "message": message}}, status_code=status)


def _refused(request: Request, refused: Refused) -> JSONResponse:
    client = request.client.host if request.client else "?"
    log.warning("CDS Hooks call refused from %s to %s: %s", client, request.url.path,
                refused.reason)
    return JSONResponse({"error": {"status": 401, "code": "unauthorized", "field": None,
                                   "message": "the call is not authorised"}}, status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})


def _workspace_link(base: str, lump: Any) -> str:
    """An absolute link to the workspace with one assessed lump's findings (those of the
    Observations and those read from the notes) in the fragment: the findings stay in the
    browser, since a fragment is never sent to a server or logged."""
    patient = {k: v for k, v in lump.findings.items()
               if k in FINDINGS and FINDINGS[k].scope is Scope.PATIENT}
    own = {k: v for k, v in lump.findings.items() if k not in patient}
    case = {"patient": patient, "lumps": [{"id": lump.lump_id, "findings": own}]}
    data = base64.urlsafe_b64encode(json.dumps(case, separators=(",", ":")).encode())
    return f"{base}/clinician#case={data.decode().rstrip('=')}"


rates_router = APIRouter(prefix="/api/v1/cds-hooks", tags=["cds-hooks"])


class CardRatesOut(BaseModel):
    kind: str = Field(description="critical, warning or info")
    cards: int = Field(description="cards of this kind sent")
    accepted: int = Field(description="cards with a suggestion accepted")
    overridden: int = Field(description="cards overridden")
    acceptance_rate: float | None = Field(description="accepted / cards (null: none sent)")
    override_rate: float | None = Field(description="overridden / cards (null: none sent)")


@rates_router.get("/rates", summary="How clinicians answer the cards, per kind (reviewers)",
                  response_model=list[CardRatesOut],
                  responses={401: {"model": ErrorOut, "description": "not logged in"},
                             403: {"model": ErrorOut, "description": "not a reviewer"}})
def card_rates(store: Store, _: Reviewer) -> list[CardRatesOut]:
    return [CardRatesOut(kind=r.kind, cards=r.cards, accepted=r.accepted,
                         overridden=r.overridden, acceptance_rate=r.acceptance_rate,
                         override_rate=r.override_rate) for r in store.cds.rates()]


def build_router(kb: KnowledgeBase, *, today: Any = dt.date.today) -> APIRouter:
    router = APIRouter(prefix="/cds-services", include_in_schema=False)
    clients = ClientCache(JwksCache())

    def audience(request: Request) -> str:
        return str(request.url.replace(query=""))

    async def trusted_body(request: Request) -> tuple[Any, Any]:
        """The verified token and the body of a call (in a thread when the issuer's keys must
        be read from the database)."""
        token = await asyncio.to_thread(
            verify, request.headers.get("authorization"), audience=audience(request),
            store=request.app.state.store, clients=clients)
        try:
            return token, strict_json.loads(await request.body())
        except InputError as exc:
            raise InputError(exc.field or "(body)", exc.message, exc.allowed) from None

    @router.get("")
    async def discovery() -> Response:
        return JSONResponse(cds_hooks.discovery())

    @router.post("/{service_id}")
    async def call(service_id: str, request: Request) -> Response:
        if service_id not in HOOKS:
            return _error(404, f"no service {service_id[:100]!r}", "service")
        try:
            token, body = await trusted_body(request)
        except Refused as refused:
            return _refused(request, refused)
        except InputError as exc:
            return _error(400, exc.message, exc.field)
        if not isinstance(body, dict):
            return _error(400, "expected a JSON object", "(body)")
        if body.get("hook") != HOOKS[service_id]:
            return _error(400, f"this service answers {HOOKS[service_id]!r}", "hook")
        context = body.get("context")
        if not isinstance(context, dict) or not isinstance(context.get("patientId"), str):
            return _error(400, "context.patientId is required", "context.patientId")
        hook_instance = body.get("hookInstance")
        if not isinstance(hook_instance, str) or not hook_instance:
            return _error(400, "hookInstance is required", "hookInstance")
        try:
            prefetch = await asyncio.to_thread(
                prefetching.complete,
                body.get("prefetch") if isinstance(body.get("prefetch"), dict) else None,
                context=context, fhir_server=body.get("fhirServer"),
                authorization=body.get("fhirAuthorization"))
        except prefetching.PrefetchMissing as missing:
            return _error(412, f"prefetch missing and no fhirServer with fhirAuthorization "
                          f"to fetch it: {missing}", "prefetch")
        except prefetching.FetchFailed as failed:
            log.warning("CDS Hooks prefetch from the FHIR server failed: %s", failed)
            return _error(502, "the FHIR server did not answer the prefetch queries",
                          "fhirServer")
        bundle = cds_hooks.prefetch_bundle(prefetch)
        try:
            read = read_fhir(bundle, today=today())
            has_findings = any(lump["findings"] or lump.get("note")
                               for lump in read.document["lumps"])
            done = assess_value(kb, read.document) if has_findings else None
        except InputError as exc:
            return _error(400, f"{exc.message} (allowed: {exc.allowed})", exc.field)
        cards: list[dict[str, Any]] = []
        if done is not None:
            base = str(request.base_url).rstrip("/")
            links = {lump.lump_id: _workspace_link(base, lump) for lump in done.result.lumps}
            cards = cds_hooks.cards(kb, done.result, hook_instance=hook_instance,
                                    patient_reference=f"Patient/{context['patientId']}",
                                    base_url=base, workspace_links=links)
        # the token's id is recorded with the cards, in one write: a replay stores nothing
        accepted = await request.app.state.store.cds.record_call_async(
            token, service=service_id,
            cards=[(c["uuid"], cds_hooks.card_kind(c)) for c in cards])
        if not accepted:
            return _refused(request, replayed(token))
        return JSONResponse({"cards": cards})

    @router.post("/{service_id}/feedback")
    async def feedback(service_id: str, request: Request) -> Response:
        if service_id not in HOOKS:
            return _error(404, f"no service {service_id[:100]!r}", "service")
        try:
            token, body = await trusted_body(request)
            items = _feedback_items(body)
            if not await asyncio.to_thread(request.app.state.store.cds.add_feedback, token,
                                           service=service_id, items=items):
                raise replayed(token)
        except Refused as refused:
            return _refused(request, refused)
        except NotFoundError as exc:
            return _error(404, f"no card {exc.key!r} was sent by this server", "feedback.card")
        except InputError as exc:
            return _error(400, exc.message, exc.field)
        except BackmiceError as exc:
            return _error(503, str(exc))
        return JSONResponse({})

    return router


def _feedback_items(body: Any) -> list[dict[str, Any]]:
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or len(items) > MAX_FEEDBACK_ITEMS:
        raise InputError("feedback", "expected a list of feedback items",
                         f"1 to {MAX_FEEDBACK_ITEMS} items")
    out = []
    for i, item in enumerate(items):
        path = f"feedback[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("card"), str):
            raise InputError(f"{path}.card", "the card's uuid is required", "a card uuid")
        outcome = item.get("outcome")
        if outcome not in OUTCOMES:
            raise InputError(f"{path}.outcome", f"{outcome!r} is not an outcome",
                             "accepted or overridden")
        stamp = item.get("outcomeTimestamp")
        try:
            when = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{path}.outcomeTimestamp", "not a date-time",
                             "an ISO 8601 date-time with a time zone") from None
        if when.tzinfo is None:
            raise InputError(f"{path}.outcomeTimestamp", "no time zone",
                             "an ISO 8601 date-time with a time zone")
        reason = None
        override = item.get("overrideReason")
        if isinstance(override, dict) and isinstance(override.get("reason"), dict):
            code = override["reason"].get("code")
            known = [c for c, _ in cds_hooks.OVERRIDE_REASONS]
            if code not in known:
                raise InputError(f"{path}.overrideReason.reason.code", f"{code!r} is unknown",
                                 ", ".join(known))
            reason = code
        out.append({"card": item["card"][:36], "outcome": outcome, "outcome_at": when,
                    "override_reason": reason})
    return out
