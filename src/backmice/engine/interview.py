"""The adaptive interview as pure state transitions: one question at a time, "don't know" allowed.

``step(kb, state)`` returns the next question (or None when done) and the current assessment.
The interview stops when no red-flag question is pending and either the leading entry of the
differential reaches STOP_CONFIDENCE, no question gains MIN_GAIN bits, or MAX_QUESTIONS is hit.
``finish(kb, state)`` is the result when the patient stops early. The CLI and the web pages hold
the state; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backmice.engine import assess
from backmice.findings import FINDINGS, FindingSet, Value, parse_value
from backmice.kb.base import KnowledgeBase
from backmice.results import Assessment, Question

STOP_CONFIDENCE = 0.85
MAX_QUESTIONS = 40


@dataclass(frozen=True)
class InterviewState:
    answers: FindingSet = field(default_factory=lambda: FindingSet({}))
    dont_know: frozenset[str] = frozenset()
    asked: tuple[str, ...] = ()  # in order, for "back"
    setting: str | None = None

    def answer(self, finding: str, value: Value | None) -> InterviewState:
        """Record an answer; ``None`` means "don't know"."""
        spec = FINDINGS[finding]
        checked = parse_value(spec, value, finding)
        if checked is None:
            return InterviewState(self.answers.with_values(**{finding: None}),
                                  self.dont_know | {finding}, (*self.asked, finding), self.setting)
        return InterviewState(self.answers.with_values(**{finding: checked}),
                              self.dont_know - {finding}, (*self.asked, finding), self.setting)

    def back(self) -> InterviewState:
        """Undo the last answer."""
        if not self.asked:
            return self
        last = self.asked[-1]
        return InterviewState(self.answers.with_values(**{last: None}), self.dont_know - {last},
                              self.asked[:-1], self.setting)


def step(kb: KnowledgeBase, state: InterviewState) -> tuple[Question | None, Assessment]:
    result = assess(kb, state.answers, setting=state.setting, skip=state.dont_know)
    if not result.questions or len(state.asked) >= MAX_QUESTIONS:
        return None, result
    first = result.questions[0]
    if first.red_flag:
        return first, result
    if result.differential[0].probability >= STOP_CONFIDENCE:
        return None, result
    return first, result


def finish(kb: KnowledgeBase, state: InterviewState) -> Assessment:
    """The assessment when the patient stops before the interview is over.

    Safety questions not asked yet are treated like the "don't know" ones, so the red flags they
    could fire are named as not ruled out (``Triage.red_flags_not_ruled_out``), never read as a
    "no"; they stay listed as not asked (``Triage.unanswered_red_flag_questions``), apart from the
    questions answered "don't know" (``Triage.unknown_red_flag_questions``).
    """
    question, result = step(kb, state)
    if question is None or not result.triage.unanswered_red_flag_questions:
        return result
    pending = frozenset(result.triage.unanswered_red_flag_questions)
    return assess(kb, state.answers, setting=state.setting, skip=state.dont_know,
                  not_asked=pending)
