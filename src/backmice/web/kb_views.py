"""The knowledge base as plain data for the pages and their JSON twins (one source for both)."""

from __future__ import annotations

from typing import Any

from backmice.findings import FINDINGS, Kind
from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import ConditionRole
from backmice.render.citing import reference_text
from backmice.render.condition_page import SECTIONS, condition_references, review_note

ROLE_TITLES = {
    ConditionRole.CONDITION: "Back-mouse conditions",
    ConditionRole.MIMIC: "Mimics to rule out",
    ConditionRole.CONSIDER: "Also consider",
    ConditionRole.OTHER: "Other",
}


UNITS = {"cm": "cm", "weeks": "weeks", "years": "years"}  # from the id's suffix, e.g. size_cm


def citation_data(kb: KnowledgeBase, cid: str) -> dict[str, Any]:
    """One source. ``title`` is null when the brief recorded none; ``description`` then says
    what the work is, and ``text`` is the whole reference as one line either way."""
    c = kb.citations[cid]
    return {"id": cid, "title": c.title if c.title_recorded else None,
            "description": c.description, "authors": c.authors, "year": c.year,
            "journal": c.journal, "pmid": c.pmid, "doi": c.doi, "url": c.link, "note": c.note,
            "text": reference_text(c)}


def condition_summaries(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [{"id": c.id, "name": c.name, "patient_name": c.patient_name, "role": c.role.value,
             "role_title": ROLE_TITLES[c.role], "back_mouse_family": c.back_mouse_family,
             "summary": c.summary.patient}
            for c in kb.conditions.values()]


def condition_page(kb: KnowledgeBase, condition_id: str) -> dict[str, Any] | None:
    """A condition page. Its prose keeps the KB's markers ([R40]); ``citation_numbers`` maps
    each cited id to its number on the page, and ``references`` lists exactly those sources in
    number order (``further_reading``: sources named for the condition but cited nowhere)."""
    c = kb.conditions.get(condition_id)
    if c is None:
        return None
    refs = condition_references(c)
    return {
        "id": c.id, "name": c.name, "patient_name": c.patient_name, "role": c.role.value,
        "role_title": ROLE_TITLES[c.role], "synonyms": list(c.synonyms),
        "back_mouse_family": c.back_mouse_family,
        "summary": c.summary.model_dump(),
        "sections": [{"id": attr, "title": title, **getattr(c, attr).model_dump()}
                     for attr, title in SECTIONS],
        "distinguishing_features": list(c.distinguishing_features),
        "codes": [code.model_dump(mode="json") for code in c.codes],
        "related": [{"id": r, "name": kb.conditions[r].name} for r in c.related
                    if r in kb.conditions],
        "citation_numbers": dict(refs.numbers),
        "references": [{"number": n, **citation_data(kb, r)} for r, n in refs.numbers.items()],
        "further_reading": [citation_data(kb, r) for r in refs.further],
        "review": c.review.model_dump(mode="json"),
        "review_note": review_note(c.review, authors=kb.manifest.maintainers),
        "kb_version": kb.version,
    }


def feedback_pages(kb: KnowledgeBase) -> tuple[str, ...]:
    """The pages that offer the feedback form, by the ``page`` value feedback names them with:
    the condition pages (their condition ids)."""
    return tuple(kb.conditions)


def finding_catalogue(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Every finding with its group, scope, kind, question wording and allowed values."""
    out = []
    for fid, entry in kb.findings.items():
        spec = FINDINGS[fid]
        item: dict[str, Any] = {
            "id": fid, "label": entry.label, "group": entry.group.value,
            "scope": spec.scope.value, "kind": spec.kind.value,
            "question": entry.question.model_dump(), "in_case_format": spec.in_case_format,
        }
        if spec.kind is Kind.CATEGORY:
            item["values"] = [{"value": v, "label": entry.value_label(v)}
                              for v in spec.values]
        elif spec.kind is Kind.BOOLEAN:
            item["values"] = [{"value": True, "label": "yes"}, {"value": False, "label": "no"}]
        else:
            item["minimum"], item["maximum"] = spec.minimum, spec.maximum
            item["unit"] = UNITS.get(fid.rsplit("_", 1)[-1])
            if spec.kind is Kind.COUNT:
                item["also"] = "many"
        out.append(item)
    return out


def kb_overview(kb: KnowledgeBase) -> dict[str, Any]:
    return {
        "version": kb.version,
        "settings": [{"id": s.id, "label": s.label, "description": s.description}
                     for s in kb.priors.settings],
        "default_setting": kb.priors.default_setting,
        "counts": {"conditions": len(kb.conditions), "findings": len(kb.findings),
                   "red_flags": len(kb.red_flags), "workup": len(kb.workup),
                   "treatments": len(kb.treatments), "citations": len(kb.citations)},
        "review": kb.manifest.model_dump(mode="json").get("review"),
        "review_note": review_note(kb.manifest.review, authors=kb.manifest.maintainers),
    }
