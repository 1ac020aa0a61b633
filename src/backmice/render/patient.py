"""Patient wording: what the lump might be, how urgently to be seen, and what to watch for.

Never states a diagnosis as certain: conditions are "possible explanations", always paired with
"only an examination can tell". A red flag that fired comes first, with what it can mean; safety
questions answered "I don't know" are named as not ruled out, never read as a "no". Shared by the
interview pages, the interview API and the terminal.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import Urgency
from backmice.render.wording import plain_chance
from backmice.results import Assessment, PatientAssessment, RedFlagHit, Triage

SOON = "soon"  # the patient-only step between "same day" and "within two weeks"
# Levels that need help the same day or sooner: such a red flag makes the interview's alert
# unmissable, and such a sign left open by "I don't know" raises the patient's advice to SOON.
PRESSING = (Urgency.EMERGENCY, Urgency.URGENT_SAME_DAY)
# The alert's heading for each patient advice level (an engine level or SOON).
ALERT_HEADINGS = {
    Urgency.EMERGENCY.value: "Get emergency help now",
    Urgency.URGENT_SAME_DAY.value: "See a doctor today",
    SOON: "Talk to a doctor soon, within a few days",
    Urgency.URGENT_2_WEEKS.value: "Get this lump checked within two weeks",
}
DONT_KNOW = "I don't know"
EXAMINATION_ONLY = ("Some things, such as how deep the lump lies, can only be checked by a "
                    "clinician who examines it.")


@dataclass(frozen=True, slots=True)
class Advice:
    """How soon the patient should be seen, in words. ``level`` is an engine triage level, or
    SOON when "I don't know" answers left a same-day or emergency sign open."""

    level: str
    label: str
    text: str
    raised_from: str | None = None  # the engine's level, when the patient view raised it
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ConditionLink:
    id: str
    name: str  # the condition's plain name


@dataclass(frozen=True, slots=True)
class Sign:
    """One red flag in plain words: what to do, what it can mean, where to read more."""

    id: str
    urgency: str
    message: str
    meaning: str
    read_more: tuple[ConditionLink, ...] = ()  # condition pages about the serious cause
    questions: tuple[str, ...] = ()  # for a sign not ruled out: the questions left open


@dataclass(frozen=True, slots=True)
class Alert:
    """The red flags fired by the answers so far, for the top of the interview page."""

    level: str
    urgent: bool  # same day or sooner: shown as an unmissable alert
    heading: str
    advice: str  # what to do now: the text of the patient's advice (patient_advice)
    signs: tuple[Sign, ...]
    open_signs: tuple[Sign, ...] = ()  # warning signs left open ("I don't know", not asked)


@dataclass(frozen=True, slots=True)
class WarningGroup:
    """Every red flag of one urgency, for the "get help sooner if" lists."""

    level: str
    label: str
    advice: str
    messages: tuple[str, ...]


def possibilities(kb: KnowledgeBase, a: Assessment, limit: int = 3) -> list[tuple[str, str, str]]:
    """(condition id, plain name, hedged phrase) for the leading outcomes."""
    out = []
    for oid, p in a.outcomes[:limit]:
        if p < 0.05 and out:
            break
        page = kb.conditions[oid]
        out.append((oid, page.patient_name, plain_chance(p)))
    return out


# --- red flags in plain words ---------------------------------------------------------------
def _sign(kb: KnowledgeBase, flag_id: str, questions: tuple[str, ...] = ()) -> Sign:
    flag = next(f for f in kb.red_flags if f.id == flag_id)
    read_more = tuple(ConditionLink(cid, kb.conditions[cid].patient_name)
                      for cid in flag.related_conditions)
    return Sign(flag.id, flag.urgency.value, flag.patient_message, flag.patient_meaning,
                read_more, questions)


def signs(kb: KnowledgeBase, hits: Sequence[RedFlagHit]) -> tuple[Sign, ...]:
    """The red flags that fired, most urgent first, each with what it can mean."""
    return tuple(_sign(kb, h.id) for h in hits)


def alert(kb: KnowledgeBase, a: Assessment, advice: Advice | None = None, *,
          for_clinician: Collection[str] = ()) -> Alert | None:
    """What the interview shows at the top as soon as the answers so far fire a red flag, or
    leave a same-day or emergency sign open by "I don't know" (then a calmer note naming it).

    Its urgency is the patient's advice (:func:`patient_advice`, passed in when the caller has it
    already), the same one the result page and the API show: a "don't know" that leaves a more
    urgent sign open raises both, and the alert then names the signs left open too.
    ``for_clinician``: questions left to the clinician (see :func:`patient_advice`).
    """
    if not a.red_flags and not _pressing_left_open(kb, a.triage):
        return None
    advice = advice or patient_advice(kb, a.triage, for_clinician=for_clinician)
    level = advice.level
    heading = ALERT_HEADINGS.get(level, "Get this checked")
    pressing = level in {u.value for u in PRESSING}
    return Alert(level, pressing, heading, advice.text, signs(kb, a.red_flags),
                 not_ruled_out(kb, a.triage, for_clinician=for_clinician))


def _pressing_left_open(kb: KnowledgeBase, triage: Triage) -> bool:
    """Whether "I don't know" answers leave open a sign that would need same-day or emergency
    care (the patient should hear about it before the last question, not after)."""
    pressing = {f.id for f in kb.red_flags if f.urgency in PRESSING}
    return bool(triage.unknown_red_flag_questions) and any(
        fid in pressing for fid in triage.red_flags_not_ruled_out)


def _left_to_clinician(kb: KnowledgeBase, triage: Triage,
                       for_clinician: Collection[str]) -> set[str]:
    """Red flags left open only by questions the interview leaves to the clinician."""
    if not for_clinician:
        return set()
    still_open = {*triage.unknown_red_flag_questions, *triage.unanswered_red_flag_questions}
    out = set()
    for flag_id in triage.red_flags_not_ruled_out:
        open_here = kb.rules[f"red_flags:{flag_id}"].names() & still_open
        if open_here and open_here <= set(for_clinician):
            out.add(flag_id)
    return out


def not_ruled_out(kb: KnowledgeBase, triage: Triage, *,
                  for_clinician: Collection[str] = ()) -> tuple[Sign, ...]:
    """Warning signs that "I don't know" answers (or questions not asked, after the patient
    stopped early) leave open, each with the questions behind it. Signs open only because a
    question was left to the clinician (``for_clinician``) are :func:`clinician_checks`."""
    out = []
    still_open = (*triage.unknown_red_flag_questions, *triage.unanswered_red_flag_questions)
    skipped = _left_to_clinician(kb, triage, for_clinician)
    for flag_id in triage.red_flags_not_ruled_out:
        if flag_id in skipped:
            continue
        named = kb.rules[f"red_flags:{flag_id}"].names()
        questions = tuple(kb.findings[f].question.patient for f in still_open
                          if f in named and f not in for_clinician)
        out.append(_sign(kb, flag_id, questions))
    return tuple(out)


def clinician_checks(kb: KnowledgeBase, triage: Triage,
                     for_clinician: Collection[str]) -> tuple[Sign, ...]:
    """Warning signs the interview cannot rule out because only an examination can (how deep
    the lump lies): for the clinician to check."""
    skipped = _left_to_clinician(kb, triage, for_clinician)
    return tuple(_sign(kb, f) for f in triage.red_flags_not_ruled_out if f in skipped)


def _open_reason(triage: Triage, stopped_early: bool, for_clinician: Collection[str] = ()) -> str:
    """Why signs are left open, in plain words: "I don't know", stopping early, or both (a
    question left to the clinician is not an "I don't know")."""
    said = bool(set(triage.unknown_red_flag_questions) - set(for_clinician))
    stopped = stopped_early and bool(triage.unanswered_red_flag_questions)
    if said and stopped:
        why = ("Some safety questions were answered \"I don't know\", and others were not asked "
               "because you stopped early")
    elif stopped:
        why = "Some safety questions were not asked because you stopped early"
    else:
        why = "Some safety questions were answered \"I don't know\""
    return why + ", so the warning signs they ask about could not be ruled out."


def patient_advice(kb: KnowledgeBase, triage: Triage, *, stopped_early: bool = False,
                   for_clinician: Collection[str] = ()) -> Advice:
    """How soon to be seen, for a patient: the one patient urgency, shown by the interview's
    alert, its result page, the API (``patient_advice``) and the terminal.

    The engine's level stands, with one addition for safety questions answered "I don't know":
    when they leave open a sign that would need same-day or emergency care, a less urgent level is
    raised to SOON ("within a few days"), so the open question reaches a clinician quickly without
    sending everyone who is unsure to an emergency department; when they leave open only signs
    that would need a check within two weeks, "routine" and "self care" are raised to that. The
    open signs are always listed with their own advice (:func:`not_ruled_out`). The same holds for
    safety questions never asked because the patient stopped early (``stopped_early``), and
    the reason says which of the two it was.

    ``for_clinician`` names questions the patient interview does not ask because only an
    examination can answer them (how deep the lump lies). A sign left open only by them does not
    raise the advice as a "don't know" does (every patient would be sent within two weeks), but
    it is never read as a "no" either: "self care" becomes "routine", so that a clinician
    examines the lump, and the result names the sign for the clinician to check
    (:func:`clinician_checks`). Our choice (estimate), like the raise for "I don't know".
    """
    level = Urgency(triage.level)
    text = kb.texts.triage[level]
    to_clinician = _left_to_clinician(kb, triage, for_clinician)
    open_levels = {next(f.urgency for f in kb.red_flags if f.id == fid)
                   for fid in triage.red_flags_not_ruled_out if fid not in to_clinician}
    why = _open_reason(triage, stopped_early, for_clinician)
    if open_levels & set(PRESSING) and level.rank > Urgency.URGENT_SAME_DAY.rank:
        soon = kb.texts.not_ruled_out
        return Advice(SOON, soon.label, soon.patient, level.value, why)
    if open_levels and level.rank > Urgency.URGENT_2_WEEKS.rank:
        two = kb.texts.triage[Urgency.URGENT_2_WEEKS]
        return Advice(Urgency.URGENT_2_WEEKS.value, two.label, two.patient, level.value, why)
    if to_clinician and level is Urgency.SELF_CARE:
        routine = kb.texts.triage[Urgency.ROUTINE]
        return Advice(Urgency.ROUTINE.value, routine.label, routine.patient, level.value,
                      EXAMINATION_ONLY)
    return Advice(level.value, text.label, text.patient)


def warning_signs(kb: KnowledgeBase) -> tuple[WarningGroup, ...]:
    """Every red flag of the knowledge base, grouped by urgency, most urgent first."""
    groups = []
    for level in Urgency:
        messages = tuple(dict.fromkeys(f.patient_message for f in kb.red_flags
                                       if f.urgency is level))
        if messages:
            text = kb.texts.triage[level]
            groups.append(WarningGroup(level.value, text.label, text.patient, messages))
    return tuple(groups)


# --- questions and answers ------------------------------------------------------------------
def option_label(kb: KnowledgeBase, finding: str, value: str) -> str:
    """A category value as a patient reads it (the plain label, else the value label), with a
    capital letter like every other answer ("Yes", "No", "I don't know")."""
    entry = kb.findings[finding]
    label = entry.patient_value_labels.get(value) or entry.value_label(value)
    return label[:1].upper() + label[1:]


def answer_text(kb: KnowledgeBase, finding: str, value: Value | None) -> str:
    """One answer in words ("I don't know" for None)."""
    if value is None:
        return DONT_KNOW
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if FINDINGS[finding].kind is Kind.CATEGORY:
        return option_label(kb, finding, str(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def answer_summary(kb: KnowledgeBase, asked: Sequence[str], answers: Mapping[str, Value],
                   dont_know: Collection[str]) -> list[tuple[str, str]]:
    """(question, answer) in the order asked, "I don't know" included: to print or take along."""
    out = []
    for fid in dict.fromkeys(asked):
        if fid not in kb.findings or (fid not in answers and fid not in dont_know):
            continue
        value = None if fid in dont_know else answers.get(fid)
        out.append((kb.findings[fid].question.patient, answer_text(kb, fid, value)))
    return out


def input_hint(finding: str) -> str:
    """What to do after an answer that could not be used, in plain words."""
    spec = FINDINGS[finding]
    if spec.kind is Kind.NUMBER:
        return (f"Please type a number from {spec.minimum:g} to {spec.maximum:g}, "
                f"or press \"{DONT_KNOW}\".")
    if spec.kind is Kind.COUNT:
        return (f"Please type a whole number from {spec.minimum:g} to {spec.maximum:g}, or the "
                f"word \"many\", or press \"{DONT_KNOW}\".")
    return f"Please choose one of the answers, or press \"{DONT_KNOW}\"."


# --- the terminal summary -------------------------------------------------------------------
def patient_summary(kb: KnowledgeBase, result: PatientAssessment,
                    answers: Sequence[tuple[str, str]] = (), *, stopped_early: bool = False) -> str:
    advice = patient_advice(kb, result.triage, stopped_early=stopped_early)
    lines = [f"How soon to get seen: {advice.text}", ""]
    if advice.reason:
        lines[1:1] = [advice.reason]
    for a in result.lumps:
        found = signs(kb, a.red_flags)
        if found:
            lines += ["Why:", *[f"  - {s.message} {s.meaning}" for s in found], ""]
    open_signs = not_ruled_out(kb, result.triage)
    if open_signs:
        urgent = any(Urgency(h.urgency) in PRESSING for a in result.lumps for h in a.red_flags)
        ask = "tell the clinician who sees you about them" if urgent else \
            "ask a clinician about them soon"
        lines += [f"Warning signs we could not rule out ({ask}):",
                  *[f"  - {s.message}" for s in open_signs], ""]
    for a in result.lumps:
        label = f" ({a.lump_id})" if len(result.lumps) > 1 else ""
        also = "; this does not change the advice above" if a.red_flags else ""
        lines.append(f"What the lump{label} might be (only an examination can tell{also}):")
        for _, name, phrase in possibilities(kb, a):
            lines.append(f"  - {name}: {phrase}")
        lines.append("")
    if answers:
        lines += ["Your answers:", *[f"  - {q} {a}" for q, a in answers], ""]
    lines.append("Get help sooner if anything changes:")
    for group in warning_signs(kb):
        lines += [f"  {group.label}: {group.advice}", *[f"    - {m}" for m in group.messages]]
    lines += [
        "",
        kb.texts.post_procedure_warning.patient,
        "",
        kb.texts.disclaimer.patient,
    ]
    return "\n".join(lines)
