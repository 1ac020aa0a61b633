"""An extraction as rows of the OMOP CDM 5.4 NOTE_NLP table, one row per mention.

Columns as in the CDM 5.4 specification: ``note_nlp_id``, ``note_id``, ``section_concept_id``,
``snippet`` (the text around the term), ``offset`` (of the term, as text), ``lexical_variant``
(the term as written), ``note_nlp_concept_id`` and ``note_nlp_source_concept_id``, ``nlp_system``,
``nlp_date``, ``nlp_datetime``, ``term_exists`` (Y when the patient has or had it: not negated,
not possible, not hypothetical, about the patient), ``term_temporal`` (``past`` for a historical
mention, else ``present``) and ``term_modifiers`` (every modifier, the finding and its value).
The date and system name are passed in: this module reads no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from backmice.nlp.extract import Extraction, Mention, readable

COLUMNS = ("note_nlp_id", "note_id", "section_concept_id", "snippet", "offset",
           "lexical_variant", "note_nlp_concept_id", "note_nlp_source_concept_id", "nlp_system",
           "nlp_date", "nlp_datetime", "term_exists", "term_temporal", "term_modifiers")
SNIPPET = 40  # characters each side of the term
SNIPPET_MAX = 250  # the CDM's width for snippet
_MODIFIERS = ("negated", "possible", "historical", "hypothetical", "other_person")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return "null" if value is None else str(value)


def term_exists(m: Mention) -> bool:
    """Whether the mention says the patient has (or had) what it names."""
    return (m.value is not None and m.value is not False and not m.negated and not m.possible
            and not m.hypothetical and not m.other_person)


def modifiers(m: Mention) -> str:
    parts = [f"finding={m.finding}", f"value={_value(m.value)}"]
    parts += [f"{name}={_value(getattr(m, name))}" for name in _MODIFIERS]
    parts.append("subject=" + ("other" if m.other_person else "patient"))
    parts.append(f"counted={_value(m.counted)}")
    if m.basis:
        parts.append(f"basis={m.basis}")
    return ", ".join(parts)


def note_nlp_rows(text: str, extraction: Extraction, *, nlp_system: str, nlp_date: dt.date,
                  note_id: int = 0, first_id: int = 1,
                  concept_ids: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """One NOTE_NLP row per mention. ``concept_ids`` maps a finding id to its concept (the
    knowledge base's code where it has one); a finding without one gets 0."""
    concepts = concept_ids or {}
    text = readable(text)
    rows = []
    for n, m in enumerate(extraction.mentions):
        start = max(0, m.start - SNIPPET)
        snippet = " ".join(text[start:m.end + SNIPPET].split())[:SNIPPET_MAX]
        rows.append({
            "note_nlp_id": first_id + n,
            "note_id": note_id,
            "section_concept_id": 0,
            "snippet": snippet,
            "offset": str(m.start),
            "lexical_variant": m.text[:SNIPPET_MAX],
            "note_nlp_concept_id": concepts.get(m.finding, 0),
            "note_nlp_source_concept_id": 0,
            "nlp_system": nlp_system,
            "nlp_date": nlp_date.isoformat(),
            "nlp_datetime": None,
            "term_exists": "Y" if term_exists(m) else "N",
            "term_temporal": "past" if m.historical else "present",
            "term_modifiers": modifiers(m),
        })
    return rows
