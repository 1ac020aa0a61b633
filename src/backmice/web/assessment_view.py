"""What the assessment template needs beyond the document itself: the sources it cites, in the
order the page first names them, each with its reference text from the knowledge base."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backmice.kb.base import KnowledgeBase
from backmice.render.citing import reference_text


def _cited_ids(lump: dict[str, Any]) -> Iterator[str]:
    """The ids a lump's section cites, in page order (red flags, reasoning, work-up,
    treatments)."""
    for hit in lump.get("red_flags") or []:
        yield from hit["source"]["citations"]
    for d in lump.get("differential") or []:
        for c in [*d.get("supporting", []), *d.get("opposing", [])]:
            yield from c["source"]["citations"]
    for step in lump.get("workup") or []:
        yield from step["source"]["citations"]
    for t in lump.get("treatments") or []:
        yield from t["source"]["citations"]


def assessment_references(kb: KnowledgeBase, doc: dict[str, Any]) -> list[dict[str, str]]:
    """``[{id, text}]`` for every source the document cites, once each; a source the knowledge
    base no longer holds (an old saved assessment) is listed by its id."""
    ids = dict.fromkeys(cid for lump in doc.get("lumps") or [] for cid in _cited_ids(lump))
    return [{"id": cid, "text": reference_text(kb.citations[cid]) if cid in kb.citations
             else "not in this knowledge base version"} for cid in ids]
