"""What an assessment returns: frozen, plain data that every renderer and adapter reads.

The JSON form of these classes (``backmice assess --format json``) is the stable, documented
output: its JSON Schema is published by ``backmice schema assessment``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Urgency = Literal["emergency", "urgent_same_day", "urgent_2_weeks", "routine", "self_care"]
URGENCY_ORDER: tuple[Urgency, ...] = (
    "emergency", "urgent_same_day", "urgent_2_weeks", "routine", "self_care",
)


def more_urgent(a: Urgency, b: Urgency) -> Urgency:
    """The more urgent of two triage levels."""
    return a if URGENCY_ORDER.index(a) <= URGENCY_ORDER.index(b) else b


@dataclass(frozen=True, slots=True)
class Source:
    """Where a number or recommendation comes from."""

    grade: str  # evidence | expert_opinion | estimate
    citations: tuple[str, ...]
    remark: str


@dataclass(frozen=True, slots=True)
class Contribution:
    """One finding's weight for or against one outcome.

    ``likelihood_ratio`` is P(value | outcome) / P(value | the other outcomes, weighted by their
    priors): above 1 argues for the outcome, below 1 against it.
    """

    finding: str
    label: str
    value: str
    likelihood_ratio: float
    source: Source


@dataclass(frozen=True, slots=True)
class RankedDiagnosis:
    id: str
    name: str
    probability: float
    role: str  # condition | mimic | other
    back_mouse_family: bool
    supporting: tuple[Contribution, ...] = ()
    opposing: tuple[Contribution, ...] = ()
    # For the "other" entry: the named mimics inside it, most likely first.
    includes: tuple[tuple[str, str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class RedFlagHit:
    id: str
    title: str
    urgency: Urgency
    rationale: str
    action: str
    patient_message: str
    rule: object  # the rule as data (string or nested all/any/not mapping)
    source: Source


@dataclass(frozen=True, slots=True)
class Triage:
    level: Urgency
    label: str
    reason: str
    advice_clinician: str
    advice_patient: str
    provisional: bool = False  # red-flag questions are unanswered or answered "don't know"
    unanswered_red_flag_questions: tuple[str, ...] = ()  # not asked yet
    # Asked and answered "don't know": an answer to them could still fire a red flag. They fire
    # nothing (a rule fires only on known findings), but they are not a "no" either.
    unknown_red_flag_questions: tuple[str, ...] = ()
    # Red flags that have not fired but that answers to the "don't know" questions could still
    # fire, most urgent first.
    red_flags_not_ruled_out: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Question:
    finding: str
    clinician: str
    patient: str
    reason: str  # "red flag: <title>" or "information gain"
    expected_information_gain: float  # bits over the differential
    red_flag: bool
    options: tuple[tuple[str, str], ...]  # (value, label); numbers take any value in range


@dataclass(frozen=True, slots=True)
class WorkupStep:
    id: str
    name: str
    purpose: str
    source: Source


@dataclass(frozen=True, slots=True)
class TreatmentOption:
    id: str
    name: str
    kind: str
    for_conditions: tuple[str, ...]
    summary: str
    patient_summary: str
    evidence_level: str
    evidence_summary: str
    complications: tuple[str, ...]
    source: Source


@dataclass(frozen=True, slots=True)
class DontMiss:
    """A serious possibility to rule out: malignant, infective or a spinal emergency.

    ``probability`` is None for a condition the differential does not model (named because a
    red flag points to it); ``because`` says why it is named."""

    id: str
    name: str
    probability: float | None
    because: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """The assessment of one lump."""

    lump_id: str
    kb_version: str
    engine_version: str
    setting: str
    findings: dict[str, object]
    differential: tuple[RankedDiagnosis, ...]  # the seven conditions + "other", most likely first
    outcomes: tuple[tuple[str, float], ...]  # every modelled outcome with its probability
    back_mouse_family_probability: float
    red_flags: tuple[RedFlagHit, ...]
    triage: Triage
    questions: tuple[Question, ...]
    workup: tuple[WorkupStep, ...]
    treatments: tuple[TreatmentOption, ...]
    post_procedure_warning: str
    disclaimer: str
    notes: tuple[str, ...] = ()
    # serious possibilities to rule out, most likely first; never empty when a red flag fired
    dont_miss: tuple[DontMiss, ...] = ()
    # sarcoma features hold back every option that cuts into or punctures the lump
    invasive_deferred: bool = False

    @property
    def top(self) -> RankedDiagnosis:
        return self.differential[0]


@dataclass(frozen=True, slots=True)
class PatientAssessment:
    """Every lump of one patient, with the most urgent triage across them."""

    kb_version: str
    engine_version: str
    setting: str
    lumps: tuple[Assessment, ...]
    triage: Triage
    notes: tuple[str, ...] = field(default=())
    disclaimer: str = ""
