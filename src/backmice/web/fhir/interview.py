"""One ``$next-question`` step: the answers read from the QuestionnaireResponse, the engine's
interview step, and the response with the next item or the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backmice.engine.interview import InterviewState, step
from backmice.interop.fhir.questionnaire import answer_response, read_response
from backmice.kb.base import KnowledgeBase


def next_question(kb: KnowledgeBase, response: Any, *, when: str,
                  new_id: Callable[[], str] | None = None) -> dict[str, Any]:
    answers, items, qid = read_response(response)
    state = InterviewState()
    for finding, value in answers:
        state = state.answer(finding, value)
    question, assessment = step(kb, state)
    return answer_response(kb, response, items, qid,
                           next_finding=question.finding if question else None,
                           assessment=assessment, when=when, new_id=new_id)
