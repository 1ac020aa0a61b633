"""The patient interview pages' flow: which screen comes next, and the answers behind each.

The pages hold the state in a hidden form field: ``answers`` (finding → value), ``dont_know``,
``order`` (the screens answered, in order) and ``parts`` (the answers to each screen of a split
question). A screen is the place of the lump on the body picture (key ``location``: it answers
``location`` and ``laterality`` at once), one part of a two-part question (``<finding>#<n>``),
or one finding's question. The place comes first; then the engine's own order (safety questions
first), so the emergency questions follow it at once. Questions only an examination can answer
(``FOR_CLINICIAN``) are never asked, and the engine treats them as unknown. Imports no web
framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backmice import strict_json
from backmice.engine.interview import InterviewState
from backmice.engine.questions import options
from backmice.errors import InputError
from backmice.findings import FINDINGS, Kind, parse_value
from backmice.kb.base import KnowledgeBase
from backmice.render.patient import answer_text
from backmice.render.patient_interview import (
    FOR_CLINICIAN,
    OTHER_PLACE,
    SPLIT,
    combine_parts,
    parse_place,
    place_label,
    place_options,
    place_value,
)
from backmice.results import Question
from backmice.web.interviewing import Step, build_state, question_data, run_step

PLACE = "location"  # the key of the body-picture screen
PART = "#"


def _damaged() -> InputError:
    return InputError("state", "the interview state is damaged", "start again")


def parse_state(raw: str) -> dict[str, Any]:
    """The hidden state field read back, its shape checked (values are checked by
    :func:`engine_state`); anything else is InputError("state")."""
    try:  # the same rules as every JSON body (bounded nesting, no NaN, NUL or surrogates)
        state = strict_json.loads(raw, where="state") if raw.strip() else {}
    except InputError:
        raise _damaged() from None
    if not isinstance(state, dict):
        raise _damaged()
    answers = state.get("answers") or {}
    dont_know = state.get("dont_know") or []
    order = state.get("order") or []
    parts = state.get("parts") or {}
    if not (isinstance(answers, dict) and isinstance(dont_know, list)
            and isinstance(order, list) and isinstance(parts, dict)):
        raise _damaged()
    checked_parts: dict[str, dict[str, Any]] = {}
    for finding, given in parts.items():
        if finding not in SPLIT or not isinstance(given, dict):
            raise _damaged()
        for n, value in given.items():
            if not (str(n).isdigit() and int(n) < len(SPLIT[finding])
                    and (value is True or value is False or value is None)):
                raise _damaged()
        checked_parts[finding] = {str(n): v for n, v in given.items()}
    keys = [str(x) for x in order]
    for key in keys:
        split_key(key)  # an unknown part is damaged state
    return {"answers": answers, "dont_know": [str(x) for x in dont_know], "order": keys,
            "parts": checked_parts}


def coerce(kind: str, raw: str) -> Any:
    """A form field's text as the value of a finding of ``kind`` (bad text is returned as is,
    for the finding's own check to refuse)."""
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in ("number", "count"):
        text = raw.strip().replace(",", ".")
        if kind == "count" and text.lower() == "many":
            return "many"
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if kind == "count" and number.is_integer() else number
    return raw


def empty() -> dict[str, Any]:
    return {"answers": {}, "dont_know": [], "order": [], "parts": {}}


def split_key(key: str) -> tuple[str, int | None]:
    """``finding#n`` → (finding, n); a plain key → (key, None)."""
    finding, sep, index = key.partition(PART)
    if not sep:
        return key, None
    if finding not in SPLIT or not index.isdigit() or int(index) >= len(SPLIT[finding]):
        raise InputError("finding", f"unknown question {key!r}", "a question the interview asked")
    return finding, int(index)


def engine_state(kb: KnowledgeBase, state: Mapping[str, Any]) -> InterviewState:
    """The engine's state: the answers, "I don't know", and the questions left to the
    clinician treated as unknown."""
    left = [f for f in sorted(FOR_CLINICIAN)
            if f not in state["answers"] and f not in state["dont_know"]]
    return build_state(kb, state["answers"], [*state["dont_know"], *left])


def step_of(kb: KnowledgeBase, state: Mapping[str, Any]) -> Step:
    return run_step(kb, engine_state(kb, state))


def next_screen(kb: KnowledgeBase, state: Mapping[str, Any], now: Step) -> str | None:
    """The key of the next screen, or None when every question is answered (the summary)."""
    if PLACE not in state["answers"] and PLACE not in state["dont_know"]:
        return PLACE
    if now.question is None:
        return None
    finding = now.question.finding
    if finding in SPLIT:
        given = state["parts"].get(finding, {})
        for n in range(len(SPLIT[finding])):
            if str(n) not in given:
                return f"{finding}{PART}{n}"
    return finding


def _settle_split(state: dict[str, Any], finding: str) -> None:
    """Set a split finding from its parts: yes, no, "I don't know", or not yet settled."""
    given = state["parts"].get(finding, {})
    ordered = [given[str(n)] for n in range(len(SPLIT[finding])) if str(n) in given]
    settled, value = combine_parts(ordered, len(SPLIT[finding]))
    state["answers"].pop(finding, None)
    state["dont_know"] = [f for f in state["dont_know"] if f != finding]
    if not settled:
        return
    if value is None:
        state["dont_know"].append(finding)
    else:
        state["answers"][finding] = value


def _copy(state: Mapping[str, Any]) -> dict[str, Any]:
    return {"answers": dict(state["answers"]), "dont_know": list(state["dont_know"]),
            "order": list(state["order"]),
            "parts": {f: dict(p) for f, p in state.get("parts", {}).items()}}


def record(kb: KnowledgeBase, state: Mapping[str, Any], key: str, raw: Any,
           dont_know: bool = False) -> dict[str, Any]:
    """The state with screen ``key`` answered (``raw`` as the form sent it, already coerced to
    the finding's kind) or answered "I don't know". An answered screen keeps its place in the
    order (a change from the summary); a new one goes last. Bad values raise InputError naming
    ``answers.<finding>``."""
    new = without(state, key, keep_order=True)
    finding, part = split_key(key)
    if part is not None:
        value = None if dont_know else parse_value(FINDINGS[finding], raw, f"answers.{finding}")
        new["parts"].setdefault(finding, {})[str(part)] = value
        _settle_split(new, finding)
    elif dont_know:
        new["dont_know"].append(finding)
    elif key == PLACE:
        place = parse_place(str(raw))
        if place is None:
            raise InputError(f"answers.{PLACE}", f"unknown place {raw!r}",
                             "a place of the body picture")
        location, side = place
        new["answers"][PLACE] = location
        if side:
            new["answers"]["laterality"] = side
    else:
        new["answers"][finding] = parse_value(FINDINGS[finding], raw, f"answers.{finding}")
    if key not in new["order"]:
        new["order"].append(key)
    build_state(kb, new["answers"], new["dont_know"])  # every value checked again
    return new


def without(state: Mapping[str, Any], key: str, *, keep_order: bool = False) -> dict[str, Any]:
    """The state with screen ``key``'s answer taken away (and the key out of the order unless
    ``keep_order``)."""
    new = _copy(state)
    finding, part = split_key(key)
    if part is not None:
        new["parts"].get(finding, {}).pop(str(part), None)
        _settle_split(new, finding)
    else:
        new["answers"].pop(finding, None)
        new["dont_know"] = [f for f in new["dont_know"] if f != finding]
        if key == PLACE and "laterality" not in new["order"]:
            new["answers"].pop("laterality", None)
    if not keep_order:
        new["order"] = [k for k in new["order"] if k != key]
    return new


def chosen(state: Mapping[str, Any], key: str) -> str | None:
    """The form value of screen ``key``'s answer ("dont_know" for "I don't know"; None when
    unanswered), to show it selected again after "Back" or "Change"."""
    finding, part = split_key(key)
    if part is not None:
        given = state["parts"].get(finding, {})
        if str(part) not in given:
            return None
        value = given[str(part)]
    elif finding in state["dont_know"]:
        return "dont_know"
    elif finding not in state["answers"]:
        return None
    else:
        value = state["answers"][finding]
    if value is None:
        return "dont_know"
    if key == PLACE:
        side = state["answers"].get("laterality")
        return place_value(str(value), side if value != OTHER_PLACE else None)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True, slots=True)
class SummaryLine:
    key: str  # the screen to go back to with "Change"
    question: str
    answer: str


def question_text(kb: KnowledgeBase, key: str) -> str:
    finding, part = split_key(key)
    if part is not None:
        return SPLIT[finding][part].question
    if key == PLACE:
        return "Where is the lump?"
    return kb.findings[finding].question.patient


def summary(kb: KnowledgeBase, state: Mapping[str, Any]) -> list[SummaryLine]:
    """Every answered screen in the order asked, in words, "I don't know" included."""
    out = []
    for key in dict.fromkeys(state["order"]):
        value = chosen(state, key)
        if value is None:
            continue
        finding, part = split_key(key)
        if value == "dont_know":
            words = answer_text(kb, finding, None)
        elif key == PLACE:
            location = state["answers"][PLACE]
            side = state["answers"].get("laterality") if location != OTHER_PLACE else None
            words = place_label(location, side)
        elif part is not None:
            words = "Yes" if value == "true" else "No"
        else:
            words = answer_text(kb, finding, state["answers"][finding])
        out.append(SummaryLine(key, question_text(kb, key), words))
    return out


def parts_said(state: Mapping[str, Any]) -> dict[str, str]:
    """For each split question answered "yes": the quote of the part(s) that said yes."""
    out = {}
    for finding, given in state["parts"].items():
        yes = [SPLIT[finding][int(n)].said for n, v in sorted(given.items()) if v is True]
        if yes:
            out[finding] = " and ".join(yes)
    return out


def is_number_screen(key: str) -> bool:
    finding, part = split_key(key)
    return part is None and key != PLACE and FINDINGS[finding].kind in (Kind.NUMBER, Kind.COUNT)


PLACE_HELP = ("Tap the place on the picture, or choose it from the list. The picture shows your "
              "back, so your left side is on the left.")


def screen_data(kb: KnowledgeBase, key: str, now: Step) -> dict[str, Any]:
    """One screen as the page shows it: text, help, kind, options (as question_data)."""
    finding, part = split_key(key)
    if key == PLACE:
        return {"finding": PLACE, "key": key, "text": question_text(kb, key), "help": PLACE_HELP,
                "kind": "place", "red_flag": False, "options": place_options()}
    if part is not None:
        return {"finding": finding, "key": key, "text": SPLIT[finding][part].question,
                "help": None, "kind": "boolean", "red_flag": True,
                "options": [{"value": True, "label": "Yes"}, {"value": False, "label": "No"}]}
    q = now.question if now.question and now.question.finding == finding else None
    if q is None:  # a change asked from the summary: the engine is not asking it now
        entry = kb.findings[finding].question
        q = Question(finding=finding, clinician=entry.clinician, patient=entry.patient,
                     reason="", expected_information_gain=0.0, red_flag=False,
                     options=options(kb, finding))
    return {**question_data(kb, q, "patient"), "key": key}
