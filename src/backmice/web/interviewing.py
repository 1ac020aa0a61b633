"""One stateless step of the interview, for the JSON API and the interview pages.

The client holds the state (answers so far, in the order given, and the questions answered
"don't know"); each step rebuilds the engine's InterviewState from it. The patient may stop at
any time and see the result so far (:func:`finish_now`). Imports no web framework.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from backmice.engine.interview import MAX_QUESTIONS, InterviewState, finish, step
from backmice.errors import InputError
from backmice.findings import FINDINGS, Kind, parse_value
from backmice.kb.base import KnowledgeBase
from backmice.render.patient import (
    Advice,
    Alert,
    Sign,
    alert,
    not_ruled_out,
    option_label,
    patient_advice,
)
from backmice.results import Assessment, PatientAssessment, Question, Triage

TYPICAL_MORE = 4  # for the progress bar only: questions usually needed after the safety ones


@dataclass(frozen=True, slots=True)
class Step:
    state: InterviewState
    question: Question | None  # None: the interview is over
    assessment: Assessment
    stopped_early: bool = False  # the patient asked for the result before the last question

    @property
    def done(self) -> bool:
        return self.question is None

    @property
    def asked(self) -> int:
        return len(self.state.asked)

    @property
    def progress(self) -> float:
        """A rough 0..1 progress figure for the progress bar (1 when done)."""
        if self.done:
            return 1.0
        # Pending safety questions are always asked; a few more usually settle the rest.
        pending = sum(1 for q in self.assessment.questions if q.red_flag) + TYPICAL_MORE
        return round(min(0.95, self.asked / min(MAX_QUESTIONS, self.asked + pending)), 3)

    def as_patient_assessment(self, advice: Advice | None = None) -> PatientAssessment:
        """The assessment document; with the patient's ``advice``, every ``advice_patient`` in
        it is that advice's text (see :func:`patient_triage`)."""
        a = self.assessment
        if advice is not None:
            a = replace(a, triage=patient_triage(a.triage, advice))
        return PatientAssessment(kb_version=a.kb_version, engine_version=a.engine_version,
                                 setting=a.setting, lumps=(a,), triage=a.triage,
                                 disclaimer=a.disclaimer)


@dataclass(frozen=True, slots=True)
class PatientOutcome:
    """The one patient-facing urgency of a step, computed once (:func:`patient_outcome`) and
    shown by the alert, the result page and the API alike."""

    advice: Advice  # how soon to be seen: never less urgent than the engine's triage
    alert: Alert | None  # red flags fired so far, at the advice's urgency
    not_ruled_out: tuple[Sign, ...]  # signs left open by "I don't know" or by stopping early


def patient_outcome(kb: KnowledgeBase, now: Step,
                    for_clinician: Collection[str] = ()) -> PatientOutcome:
    """``for_clinician``: questions the interview left to the clinician (the pages' flow)."""
    a = now.assessment
    advice = patient_advice(kb, a.triage, stopped_early=now.stopped_early,
                            for_clinician=for_clinician)
    return PatientOutcome(advice, alert(kb, a, advice, for_clinician=for_clinician),
                          not_ruled_out(kb, a.triage, for_clinician=for_clinician))


def patient_triage(triage: Triage, advice: Advice) -> Triage:
    """The engine's triage with ``advice_patient`` set to the patient's advice, so that no
    patient-facing field of a response advises less urgency than ``patient_advice``."""
    return replace(triage, advice_patient=advice.text)


def build_state(kb: KnowledgeBase, answers: Mapping[str, Any], dont_know: Sequence[str] = (),
                setting: str | None = None) -> InterviewState:
    """Replay the answers in order; names every bad field as ``answers.<id>``."""
    if setting is not None and setting not in kb.setting_ids:
        raise InputError("setting", f"unknown care setting {setting!r}", ", ".join(kb.setting_ids))
    state = InterviewState(setting=setting)
    for fid, raw in answers.items():
        if fid not in FINDINGS:
            raise InputError(f"answers.{fid}", "unknown finding",
                             "the finding ids of GET /api/v1/kb/findings")
        value = parse_value(FINDINGS[fid], raw, f"answers.{fid}")
        if value is not None:
            state = state.answer(fid, value)
    for fid in dont_know:
        if fid not in FINDINGS:
            raise InputError("dont_know", f"unknown finding {fid!r}",
                             "the finding ids of GET /api/v1/kb/findings")
        if fid in answers and answers[fid] is not None:
            raise InputError("dont_know", f"{fid!r} is both answered and 'don't know'",
                             "each finding in one of the two at most")
        state = state.answer(fid, None)
    return state


def run_step(kb: KnowledgeBase, state: InterviewState) -> Step:
    question, assessment = step(kb, state)
    return Step(state, question, assessment)


def finish_now(kb: KnowledgeBase, state: InterviewState) -> Step:
    """The result as it stands, when the patient stops before the interview is over."""
    now = run_step(kb, state)
    if now.done:
        return now
    return Step(state, None, finish(kb, state), stopped_early=True)


def question_data(kb: KnowledgeBase, q: Question, audience: str) -> dict[str, Any]:
    """A question as the pages and the API show it; options carry values the API accepts."""
    spec = FINDINGS[q.finding]
    entry: dict[str, Any] = {
        "finding": q.finding, "text": q.patient if audience == "patient" else q.clinician,
        "help": kb.findings[q.finding].question.help,
        "kind": spec.kind.value, "red_flag": q.red_flag, "reason": q.reason,
        "expected_information_gain": q.expected_information_gain,
    }
    if spec.kind is Kind.BOOLEAN:
        entry["options"] = [{"value": True, "label": "Yes"}, {"value": False, "label": "No"}]
    elif spec.kind is Kind.CATEGORY:
        entry["options"] = [
            {"value": v,
             "label": option_label(kb, q.finding, v) if audience == "patient" else label}
            for v, label in q.options]
    else:
        entry["options"] = []
        entry["minimum"], entry["maximum"] = spec.minimum, spec.maximum
        entry["accepts_many"] = spec.kind is Kind.COUNT
    return entry


def patient_view(outcome: PatientOutcome) -> dict[str, Any]:
    """The interview's patient wording: the red-flag alert, the advice, what is not ruled out."""
    return {"alert": asdict(outcome.alert) if outcome.alert else None,
            "patient_advice": asdict(outcome.advice),
            "not_ruled_out": [asdict(s) for s in outcome.not_ruled_out]}
