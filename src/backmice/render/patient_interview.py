"""The patient interview's own words: the places on the body picture, questions split into one
thing per screen, the answers quoted back ("You said ..."), and plain urgency headings.

Pure wording over the knowledge base, shared by the interview pages; the engine still decides
every red flag and the triage (this module only says them in a patient's words).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backmice.findings import FINDINGS, Kind, Value
from backmice.kb import rules as rule_lang
from backmice.kb.base import KnowledgeBase
from backmice.render.patient import SOON, answer_text

# --- the body picture -------------------------------------------------------------------------
# (location, side) in the order listed under the picture: from the waist down, left then right.
# The patient's own left: the picture shows the back, so their left is on the left.
PLACES: tuple[tuple[str, str], ...] = (
    ("thoracolumbar", "left"), ("thoracolumbar", "right"),
    ("flank", "left"), ("flank", "right"),
    ("lumbar_paraspinal", "left"), ("lumbar_paraspinal", "right"),
    ("iliac_crest", "left"), ("iliac_crest", "right"),
    ("posterior_superior_iliac_spine", "left"), ("posterior_superior_iliac_spine", "right"),
    ("sacroiliac", "left"), ("sacroiliac", "right"),
    ("sacral_midline", "midline"), ("sacrococcygeal", "midline"),
    ("buttock", "left"), ("buttock", "right"),
    ("lateral_hip", "left"), ("lateral_hip", "right"),
)
OTHER_PLACE = "other"
_PLACE_WORDS = {
    "thoracolumbar": "{Side} side of the back, just below the ribs",
    "flank": "{Side} side of the waist",
    "lumbar_paraspinal": "{Side} lower back, beside the spine",
    "iliac_crest": "Top of the {side} hip bone (at belt level)",
    "posterior_superior_iliac_spine": "{Side} dimple above the buttock",
    "sacroiliac": "Low back, just to the {side} of the flat bone at the base of the spine",
    "sacral_midline": "Middle of the flat bone at the base of the spine",
    "sacrococcygeal": "Tailbone area, at the top of the crease between the buttocks",
    "buttock": "{Side} buttock",
    "lateral_hip": "Outer side of the {side} hip",
    OTHER_PLACE: "Somewhere else",
}


def place_value(location: str, side: str | None) -> str:
    """The form value of a place: ``location:side`` (``other`` has no side)."""
    return location if not side else f"{location}:{side}"


def place_label(location: str, side: str | None) -> str:
    """A place in a patient's words ("Left dimple above the buttock"), never "PSIS"."""
    words = _PLACE_WORDS.get(location, "Somewhere else")
    side = side if side in ("left", "right") else ""
    text = words.format(side=side, Side=side.capitalize()).replace("  ", " ").strip()
    return text[:1].upper() + text[1:]


def place_options() -> list[dict[str, str]]:
    """Every place of the picture, then "somewhere else", as radio options."""
    out = [{"value": place_value(loc, side), "location": loc, "side": side,
            "label": place_label(loc, side)} for loc, side in PLACES]
    out.append({"value": OTHER_PLACE, "location": OTHER_PLACE, "side": "",
                "label": place_label(OTHER_PLACE, None)})
    return out


def parse_place(raw: str) -> tuple[str, str | None] | None:
    """``location:side`` back to (location, side); None when it is not a place of the picture."""
    if raw == OTHER_PLACE:
        return OTHER_PLACE, None
    location, _, side = raw.partition(":")
    return (location, side) if (location, side) in PLACES else None


# --- one thing per screen -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Part:
    """One screen of a question that asks about two things at once."""

    question: str
    said: str  # the quote when the answer is "yes": "you have had trouble passing urine"


# A finding whose question asks two things: one screen each. "Yes" to any part is "yes"; "no"
# to every part is "no"; otherwise ("I don't know" to a part, "no" to the rest) it stays open.
SPLIT: Mapping[str, tuple[Part, ...]] = {
    "spreading_redness": (
        Part("Is redness spreading quickly around the lump?",
             "redness is spreading quickly around the lump"),
        Part("Is the pain much worse than the lump looks?",
             "the pain is much worse than the lump looks"),
    ),
    "bladder_or_bowel_dysfunction": (
        Part("Have you recently had trouble passing urine?",
             "you have recently had trouble passing urine"),
        Part("Have you recently lost control of your bladder or your bowels?",
             "you have recently lost control of your bladder or bowels"),
    ),
}

# Questions a patient cannot answer by feeling the lump: left for the clinician who examines it
# and treated as unknown (never as "no"); the result says so.
FOR_CLINICIAN: frozenset[str] = frozenset({"depth"})


def combine_parts(answers: Iterable[bool | None], count: int) -> tuple[bool, bool | None]:
    """(settled, value) of a split question from its parts' answers so far (None: don't know):
    any "yes" settles it as yes; all parts answered without a "yes" settle it as "no", or as
    unknown when one of them was "I don't know"."""
    given = list(answers)
    if any(a is True for a in given):
        return True, True
    if len(given) < count:
        return False, None
    return True, (None if any(a is None for a in given) else False)


# --- quoting the answers back ---------------------------------------------------------------
# "You said ..." for a "yes" to a finding that can fire a red flag, in the patient's own words.
_SAID_YES = {
    "saddle_anaesthesia": "there is numbness between your legs or around your back passage",
    "neurological_deficit": "you have numbness or weakness in your leg or foot",
    "bilateral_leg_symptoms": "you have pain, numbness or weakness in both legs",
    "fever": "you have had a fever or felt hot and shivery",
    "immunocompromised_or_diabetic": ("you have diabetes or a weak immune system, "
                                      "or inject drugs"),
    "recent_procedure_here": "you had an injection or an operation on this spot in the last few "
                             "weeks",
    "systemically_unwell": "you feel very unwell",
    "erythema": "the skin over the lump is red",
    "warmth": "the lump feels warm or hot",
    "discharge": "something has leaked out of the lump",
    "tender": "it hurts when the lump is pressed",
    "pain": "you have pain in that area",
    "bleeding": "the spot is bleeding",
    "pain_increasing_after_procedure": "the pain has been getting worse since the procedure",
    "history_of_cancer": "you have been treated for cancer",
    "recurrent_after_excision": "a lump has come back here after one was removed",
    "palpable_lump": "you can feel an actual lump",
    "spreading_redness": "redness is spreading quickly, or the pain is much worse than the lump "
                         "looks",
    "bladder_or_bowel_dysfunction": "you have had trouble passing urine, or lost control of your "
                                    "bladder or bowels",
}
_SAID_NO = {"mobile": "the lump cannot be pushed around under the skin"}


def said_clause(kb: KnowledgeBase, finding: str, value: Value) -> str:
    """One answer as the patient gave it, as a clause after "You said"."""
    if value is True and finding in _SAID_YES:
        return _SAID_YES[finding]
    if value is False and finding in _SAID_NO:
        return _SAID_NO[finding]
    if finding == "size_cm" and isinstance(value, int | float):
        return f"the lump is about {value:g} cm across"
    if finding == "age_years" and isinstance(value, int | float):
        return f"you are {value:g} years old"
    if FINDINGS[finding].kind is Kind.CATEGORY:
        label = answer_text(kb, finding, value).lower()
        if finding == "growth":
            return f"the lump has been getting bigger, {label}"
        if finding == "consistency":
            return f"the lump feels {label}"
        if finding == "depth":
            return f"the lump is {label}"
    question = kb.findings[finding].question.patient
    return f"\u201c{answer_text(kb, finding, value)}\u201d to \u201c{question}\u201d"


def _fired_by(rule: rule_lang.Rule, ctx: Mapping[str, Any]) -> list[str]:
    """The findings whose reported values made ``rule`` true (a "not" part quotes nothing)."""
    if isinstance(rule, rule_lang.Compare):
        return [rule.name] if rule.evaluate(ctx) else []
    if isinstance(rule, rule_lang.All):
        if not rule.evaluate(ctx):
            return []
        return [n for part in rule.parts for n in _fired_by(part, ctx)]
    if isinstance(rule, rule_lang.Any_):
        return [n for part in rule.parts for n in _fired_by(part, ctx)]
    return []


def said_for(kb: KnowledgeBase, flag_ids: Iterable[str], answers: Mapping[str, Value],
             parts_said: Mapping[str, str] | None = None) -> list[str]:
    """The answers that fired these red flags, as clauses, each once, in the order of the
    flags. ``parts_said`` holds, for a split question, the part the patient said "yes" to."""
    out: dict[str, None] = {}
    for flag_id in flag_ids:
        for finding in _fired_by(kb.rules[f"red_flags:{flag_id}"], answers):
            if finding in (parts_said or {}):
                out[parts_said[finding]] = None  # type: ignore[index]
            elif finding in FINDINGS and finding in answers:
                out[said_clause(kb, finding, answers[finding])] = None
    return list(out)


def you_said(clauses: list[str]) -> str:
    """"You said a, b and c." (empty without clauses)."""
    if not clauses:
        return ""
    text = clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
    return f"You said {text}."


# --- how soon, in plain words ---------------------------------------------------------------
_HEADINGS = {
    "emergency": "Call {number} now",
    "urgent_same_day": "See a doctor today",
    SOON: "See a doctor within a few days",
    "urgent_2_weeks": "See a doctor within 2 weeks",
    "routine": "Book a routine appointment with your GP",
    "self_care": "No appointment needed for now",
}
_DETAILS = {
    "emergency": "If you cannot phone, go to the nearest emergency department (A&E) now.",
    "urgent_same_day": "If you cannot get an appointment today, use an urgent care service.",
    SOON: ("Ask a doctor, nurse or physiotherapist about the warning signs we could not rule "
           "out. If you notice one of them, do not wait: do what it says."),
    "urgent_2_weeks": ("Then the lump can be checked properly. This is a precaution: most "
                       "lumps like this turn out not to be cancer."),
    "routine": ("A doctor or physiotherapist can examine the lump at an ordinary appointment, "
                "when it suits you."),
    "self_care": ("No treatment is needed unless the pain bothers you. See a doctor if the lump "
                  "changes or grows, or you notice any of the warning signs."),
}


URGENCY_LEVELS = tuple(_HEADINGS)


@dataclass(frozen=True, slots=True)
class PlainUrgency:
    level: str
    heading: str  # "See a doctor within 2 weeks": never "routine" or "urgent_2_weeks"
    detail: str  # what else to know, without repeating the heading


def plain_urgency(level: str, emergency_number: str) -> PlainUrgency:
    return PlainUrgency(level, _HEADINGS[level].format(number=emergency_number),
                        _DETAILS[level])
