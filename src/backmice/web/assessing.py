"""Turn a posted document (case format or native patient document) into an assessment document.

Shared by the JSON API, the clinician page and the CLI, so every door gives the same answer.
Imports no web framework.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from backmice.engine import assess_patient
from backmice.errors import CaseFormatError
from backmice.interop.cases import read_document, read_value
from backmice.kb.base import KnowledgeBase
from backmice.render.json_doc import to_data, to_json_bytes
from backmice.results import PatientAssessment


@dataclass(frozen=True)
class Assessed:
    """A finished assessment: the engine's result, as a JSON document or compact JSON bytes."""

    result: PatientAssessment

    @functools.cached_property
    def document(self) -> dict[str, Any]:
        return to_data(self.result)

    def json_bytes(self) -> bytes:
        return to_json_bytes(self.result)


def assess_text(kb: KnowledgeBase, text: str, *, setting: str | None = None) -> Assessed:
    """Read, validate and assess; raises InputError (with the field path) on bad input."""
    return _assess(kb, *read_document(text, setting=setting, kb=kb))


def assess_value(kb: KnowledgeBase, value: Any, *, setting: str | None = None) -> Assessed:
    """``assess_text`` for a body the web edge has already parsed (``edge.JSON_KEY``)."""
    return _assess(kb, *read_value(value, setting=setting, kb=kb))


def _assess(kb: KnowledgeBase, patient: Any, notes: list[str]) -> Assessed:
    result = assess_patient(kb, patient)
    if notes:
        result = replace(result, notes=(*notes, *result.notes))
    return Assessed(result)


def assess_bytes(kb: KnowledgeBase, body: bytes, *, setting: str | None = None,
                 parsed: Any = None) -> Assessed:
    """``parsed``: the body as the web edge parsed it, if it did (not parsed again)."""
    if parsed is not None:
        return assess_value(kb, parsed, setting=setting)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CaseFormatError("(body)", "the request body is not UTF-8 text",
                              "a JSON object encoded as UTF-8") from None
    return assess_text(kb, text, setting=setting)
