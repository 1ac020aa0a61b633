"""CDS Hooks 2.0, pure: the discovery document, the prefetch read into a FHIR input, and an
assessment turned into cards.

One card per lump that has something to say, most urgent first: ``critical`` for a red flag of
the emergency or same-day level, ``warning`` for the suspected-cancer pathway (the two-week
level), ``info`` for a lump with a back-mouse picture or a differential worth a look. A patient
with no lump recorded gets no card at all: a card that says nothing teaches clinicians to
ignore the next one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from backmice.interop.fhir.vocabulary import FINDING_SYSTEM, RED_FLAG_SYSTEM, WORKUP_SYSTEM
from backmice.kb.base import KnowledgeBase
from backmice.results import Assessment, PatientAssessment

SUMMARY_LIMIT = 140
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "lumps": f"Observation?patient={{{{context.patientId}}}}&code={FINDING_SYSTEM}|",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
    "notes": "DocumentReference?patient={{context.patientId}}&_sort=-date&_count=5",
}
SERVICES = (
    ("backmice-patient-view", "patient-view",
     "Back lumps: red flags and the likely cause, when the patient's chart is opened"),
    ("backmice-encounter-start", "encounter-start",
     "Back lumps: red flags and the likely cause, when an encounter starts"),
)
OVERRIDE_REASONS = (
    ("already-addressed", "Already addressed"),
    ("not-relevant", "Not relevant to this patient"),
    ("disagree", "Disagree with the assessment"),
    ("patient-declined", "Patient declined"),
)
OVERRIDE_SYSTEM = "https://backmice.org/fhir/CodeSystem/override-reason"
# A lump is worth an info card when a back mouse or a modelled mimic leads with at least this
# probability; below it the differential is too flat to help.
INFO_MIN_PROBABILITY = 0.30
LUMP_FINDINGS = frozenset({"palpable_lump", "size_cm", "location", "nodule_count"})


def discovery() -> dict[str, Any]:
    return {"services": [{
        "hook": hook, "id": sid, "title": "backmice", "description": description,
        "prefetch": PREFETCH,
        "usageRequirements": "Findings are read from Observations coded in "
                             f"{FINDING_SYSTEM} and from the text of recent notes."}
        for sid, hook, description in SERVICES]}


def service_hooks() -> dict[str, str]:
    """Service id -> the hook it answers."""
    return {sid: hook for sid, hook, _ in SERVICES}


def _entries(found: Any) -> list[dict[str, Any]]:
    """The resources of a prefetched value: a resource, or a searchset Bundle of them."""
    if not isinstance(found, Mapping):
        return []
    if found.get("resourceType") == "Bundle":
        return [e["resource"] for e in found.get("entry") or []
                if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)]
    return [dict(found)]


def prefetch_bundle(prefetch: Mapping[str, Any]) -> dict[str, Any]:
    """The prefetched resources as one Bundle for :func:`backmice.interop.fhir.read_fhir`.

    Only what backmice reads is kept: the Patient, Observations coded in backmice's finding
    system, BodyStructures, and DocumentReferences with an inline text note."""
    kept: list[dict[str, Any]] = []
    for key in ("patient", "lumps", "notes"):
        for resource in _entries(prefetch.get(key)):
            kind = resource.get("resourceType")
            if kind == "Observation" and not _backmice_coded(resource):
                continue
            if kind == "DocumentReference" and not _inline_text(resource):
                continue
            if kind in ("Patient", "Observation", "BodyStructure", "DocumentReference"):
                kept.append(resource)
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in kept]}


def _backmice_coded(observation: Mapping[str, Any]) -> bool:
    codings = (observation.get("code") or {}).get("coding") or []
    return any(isinstance(c, Mapping) and c.get("system") == FINDING_SYSTEM for c in codings)


def _inline_text(document: Mapping[str, Any]) -> bool:
    for content in document.get("content") or []:
        attachment = content.get("attachment") if isinstance(content, Mapping) else None
        if isinstance(attachment, Mapping) and attachment.get("data") and str(
                attachment.get("contentType", "text/plain")).startswith("text/"):
            return True
    return False


def _short(text: str) -> str:
    return text if len(text) < SUMMARY_LIMIT else text[:SUMMARY_LIMIT - 2].rstrip() + "…"


def _indicator(lump: Assessment) -> str | None:
    levels = {str(h.urgency) for h in lump.red_flags}
    if levels & {"emergency", "urgent_same_day"}:
        return "critical"
    if "urgent_2_weeks" in levels or str(lump.triage.level) == "urgent_2_weeks":
        return "warning"
    if not LUMP_FINDINGS & set(lump.findings):
        return None
    top = lump.differential[0]
    if top.id != "other" and top.probability >= INFO_MIN_PROBABILITY:
        return "info"
    return None


def _card_id(hook_instance: str, lump: Assessment) -> str:
    """Stable per hook call and lump, so feedback can name the card."""
    digest = hashlib.sha256(f"{hook_instance}|{lump.lump_id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _summary(lump: Assessment, indicator: str, where: str) -> str:
    top = lump.differential[0]
    if indicator in ("critical", "warning"):
        first = lump.red_flags[0].title if lump.red_flags else lump.triage.label
        return _short(f"{lump.triage.label}: {first} ({where})")
    return _short(f"Possible {top.name.lower()} ({top.probability:.0%}) {where}")


def _detail(lump: Assessment) -> str:
    lines = [f"**{lump.triage.label}.** {lump.triage.advice_clinician}", ""]
    for hit in lump.red_flags:
        lines.append(f"- Red flag: **{hit.title}**. {hit.action}")
    lines.append("")
    lines.append("Differential: " + "; ".join(
        f"{d.name} {d.probability:.0%}" for d in lump.differential[:3]))
    if lump.dont_miss:
        lines.append("Don't miss: " + "; ".join(d.name for d in lump.dont_miss))
    lines.append("")
    lines.append(f"_{lump.disclaimer}_")
    return "\n".join(lines)


def _suggestion(lump: Assessment, patient_reference: str | None) -> dict[str, Any] | None:
    if not lump.workup:
        return None
    step = lump.workup[0]
    request = {"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
               "code": {"coding": [{"system": WORKUP_SYSTEM, "code": step.id,
                                    "display": step.name}], "text": step.name},
               "reasonCode": [{"text": step.purpose}]}
    if patient_reference:
        request["subject"] = {"reference": patient_reference}
    return {"label": f"Order: {step.name}", "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                    f"{lump.lump_id}|{step.id}")),
            "isRecommended": True,
            "actions": [{"type": "create", "description": step.purpose, "resource": request}]}


def cards(kb: KnowledgeBase, result: PatientAssessment, *, hook_instance: str,
          patient_reference: str | None, base_url: str,
          workspace_links: Mapping[str, str]) -> list[dict[str, Any]]:
    """The cards of an assessment (see the module docstring). ``workspace_links`` maps a lump
    id to an absolute link opening the clinician workspace with its findings filled in."""
    out = []
    for lump in result.lumps:
        indicator = _indicator(lump)
        if indicator is None:
            continue
        site = lump.findings.get("location")
        where = f"at the {kb.findings['location'].value_label(str(site))}" if site else \
            "on the back or hip"
        card: dict[str, Any] = {
            "uuid": _card_id(hook_instance, lump), "summary": _summary(lump, indicator, where),
            "detail": _detail(lump), "indicator": indicator,
            "source": {"label": "backmice", "url": f"{base_url}/about",
                       "topic": _topic(lump, indicator)},
            "overrideReasons": [{"system": OVERRIDE_SYSTEM, "code": code, "display": display}
                                for code, display in OVERRIDE_REASONS],
        }
        suggestion = _suggestion(lump, patient_reference)
        if suggestion:
            card["suggestions"] = [suggestion]
            card["selectionBehavior"] = "at-most-one"
        link = workspace_links.get(lump.lump_id)
        if link:
            card["links"] = [{"label": "Open in the backmice workspace", "url": link,
                              "type": "absolute"}]
        out.append(card)
    return out


def _topic(lump: Assessment, indicator: str) -> dict[str, str]:
    if lump.red_flags:
        hit = lump.red_flags[0]
        return {"system": RED_FLAG_SYSTEM, "code": hit.id, "display": hit.title}
    top = lump.differential[0]
    return {"system": "https://backmice.org/fhir/CodeSystem/condition", "code": top.id,
            "display": top.name}


def card_kind(card: Mapping[str, Any]) -> str:
    return str(card.get("indicator", "info"))


__all__ = ["OVERRIDE_REASONS", "PREFETCH", "SUMMARY_LIMIT", "card_kind", "cards", "discovery",
           "prefetch_bundle", "service_hooks"]
