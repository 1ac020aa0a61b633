"""Patient wording (backmice.render.patient): every red flag has plain words, the warning-sign
lists come from the knowledge base, "don't know" raises the patient's advice, options and error
hints avoid jargon."""

from __future__ import annotations

import dataclasses
import re

import pytest

from backmice.engine import assess
from backmice.findings import FINDINGS, Kind
from backmice.kb.schema import Urgency
from backmice.render.patient import (
    SOON,
    alert,
    answer_summary,
    input_hint,
    not_ruled_out,
    option_label,
    patient_advice,
    patient_summary,
    signs,
    warning_signs,
)
from backmice.results import PatientAssessment, Triage

CERTAIN = re.compile(r"\b(you have|you've got|definitely|certainly|this is (a|an)\b)", re.I)


def _triage(kb, level: str, open_flags: tuple[str, ...] = ()) -> Triage:
    text = kb.texts.triage[Urgency(level)]
    return Triage(level=level, label=text.label, reason="test", advice_clinician=text.clinician,
                  advice_patient=text.patient, provisional=bool(open_flags),
                  red_flags_not_ruled_out=open_flags)


def test_every_red_flag_has_plain_words_that_are_never_certain(kb):
    for flag in kb.red_flags:
        assert len(flag.patient_meaning) >= 40, flag.id
        assert not CERTAIN.search(flag.patient_meaning), flag.id
        for cid in flag.related_conditions:
            assert kb.conditions[cid].patient_name


def test_cauda_equina_names_the_serious_cause(kb):
    a = assess(kb, {"bladder_or_bowel_dysfunction": True})
    (sign,) = [s for s in signs(kb, a.red_flags) if s.id == "cauda_equina"]
    assert "cauda equina" in sign.meaning.lower() and "nerves" in sign.meaning
    assert [c.id for c in sign.read_more] == ["cauda_equina_syndrome"]
    found = alert(kb, a)
    assert found is not None and found.urgent and found.level == "emergency"
    assert "emergency" in found.advice.lower()


@pytest.mark.parametrize(("findings", "level", "urgent"), [
    ({"spreading_redness": True}, "emergency", True),
    ({"neurological_deficit": True}, "urgent_same_day", True),
    ({"size_cm": 7.0}, "urgent_2_weeks", False),
])
def test_alert_level_follows_the_most_urgent_flag(kb, findings, level, urgent):
    found = alert(kb, assess(kb, findings))
    assert found is not None and (found.level, found.urgent) == (level, urgent)


def test_no_alert_without_a_red_flag(kb):
    assert alert(kb, assess(kb, {"pain": True, "tender": True})) is None


def test_warning_signs_cover_every_red_flag_most_urgent_first(kb):
    groups = warning_signs(kb)
    listed = {m for g in groups for m in g.messages}
    assert {f.patient_message for f in kb.red_flags} == listed
    ranks = [Urgency(g.level).rank for g in groups]
    assert ranks == sorted(ranks)
    assert any("spreading" in m.lower() for m in groups[0].messages)


@pytest.mark.parametrize(("level", "open_flags", "shown", "raised"), [
    ("routine", ("cauda_equina",), SOON, True),  # an emergency sign left open: within days
    ("self_care", ("abscess_signs",), SOON, True),  # a same-day sign left open
    ("urgent_2_weeks", ("cauda_equina",), SOON, True),  # days are sooner than two weeks
    ("routine", ("sarcoma_size",), "urgent_2_weeks", True),  # only a two-week sign open
    ("urgent_same_day", ("cauda_equina",), "urgent_same_day", False),  # already sooner
    ("emergency", ("abscess_signs",), "emergency", False),
    ("routine", (), "routine", False),  # nothing open: the engine's level stands
])
def test_dont_know_raises_the_patient_advice(kb, level, open_flags, shown, raised):
    advice = patient_advice(kb, _triage(kb, level, open_flags))
    assert advice.level == shown
    assert (advice.raised_from == level) is raised
    assert advice.text


def test_signs_not_ruled_out_name_their_questions(kb):
    t = Triage(level="routine", label="Routine", reason="", advice_clinician="",
               advice_patient="", provisional=True,
               unknown_red_flag_questions=("bladder_or_bowel_dysfunction",),
               red_flags_not_ruled_out=("cauda_equina",))
    (sign,) = not_ruled_out(kb, t)
    assert sign.questions == (kb.findings["bladder_or_bowel_dysfunction"].question.patient,)


def test_patient_labels_explain_the_anatomy(kb):
    labels = [option_label(kb, "location", v) for v in FINDINGS["location"].values]
    assert any("dimples at the top of the buttocks" in label for label in labels)
    assert not any("natal cleft" in label for label in labels)
    assert option_label(kb, "location", "sacroiliac") != kb.findings["location"].value_labels[
        "sacroiliac"]
    assert "fascia" not in option_label(kb, "depth", "deep_to_fascia")


def test_every_askable_category_has_patient_words(kb):
    for fid, spec in FINDINGS.items():
        if spec.kind is Kind.CATEGORY and not spec.later_test:
            for value in spec.values:
                label = option_label(kb, fid, value)
                assert "_" not in label, (fid, value)


def test_answer_summary_keeps_dont_know_and_the_order(kb):
    lines = answer_summary(kb, ["size_cm", "fever", "location"],
                           {"size_cm": 2.0, "location": "posterior_superior_iliac_spine"},
                           {"fever"})
    assert [a for _, a in lines] == ["2", "I don't know",
                                     "On one of the two dimples at the top of the buttocks"]
    assert lines[1][0] == kb.findings["fever"].question.patient


@pytest.mark.parametrize("fid", ["size_cm", "nodule_count", "fever", "location"])
def test_input_hints_are_plain(fid):
    hint = input_hint(fid)
    assert "null" not in hint and "allowed" not in hint and "I don't know" in hint


def test_terminal_summary_leads_with_the_red_flag(kb):
    a = assess(kb, {"bladder_or_bowel_dysfunction": True, "location": "sacral_midline",
                    "pain": True, "tender": True})
    text = patient_summary(kb, PatientAssessment(a.kb_version, a.engine_version, a.setting, (a,),
                                                 a.triage))
    assert text.index("cauda equina") < text.index("What the lump might be")
    assert "does not change the advice above" in text
    assert "injection" not in text.split("Get help sooner")[0]
    assert kb.texts.disclaimer.patient in text


# --- the interview pages' own words (render.patient_interview) --------------------------------
def test_alert_quotes_only_the_answers_that_fired_the_flag(kb):
    from backmice.render.patient_interview import said_for, you_said

    answers = {"consistency": "fluctuant", "growth": "rapid", "fever": False, "pain": False}
    a = assess(kb, answers)
    fired = [h.id for h in a.red_flags]
    assert "abscess_signs" in fired
    text = you_said(said_for(kb, ["abscess_signs"], a.findings))
    assert text == ("You said the lump feels soft and squishy, like fluid under tension and the "
                    "lump has been getting bigger, quickly, over days or weeks.")
    # a "no" never becomes a quote, and a "not" part of a rule quotes nothing
    fixed = assess(kb, {"mobile": False, "history_of_cancer": True})
    quotes = said_for(kb, [h.id for h in fixed.red_flags], fixed.findings)
    assert set(quotes) == {"the lump cannot be pushed around under the skin",
                           "you have been treated for cancer"}
    # a split question quotes the part said "yes" to, never the whole two-part question
    red = assess(kb, {"spreading_redness": True})
    assert said_for(kb, ["necrotising_infection_signs"], red.findings,
                    {"spreading_redness": "redness is spreading quickly around the lump"}) == [
        "redness is spreading quickly around the lump"]


def test_split_questions_combine_safely():
    from backmice.render.patient_interview import combine_parts

    assert combine_parts([True], 2) == (True, True)  # one "yes" is enough
    assert combine_parts([False], 2) == (False, None)  # wait for the other part
    assert combine_parts([False, False], 2) == (True, False)
    assert combine_parts([None, False], 2) == (True, None)  # "I don't know" stays open
    assert combine_parts([None, True], 2) == (True, True)


def test_a_question_left_to_the_clinician_is_not_a_dont_know(kb):
    t = Triage(level="self_care", label="", reason="", advice_clinician="", advice_patient="",
               provisional=True, unknown_red_flag_questions=("depth",),
               red_flags_not_ruled_out=("sarcoma_depth",))
    assert patient_advice(kb, t).level == "urgent_2_weeks"  # as a "don't know": raised
    advice = patient_advice(kb, t, for_clinician={"depth"})
    assert advice.level == "routine" and advice.raised_from == "self_care"
    assert "I don't know" not in advice.reason and "examines" in advice.reason
    assert not_ruled_out(kb, t, for_clinician={"depth"}) == ()
    from backmice.render.patient import clinician_checks
    assert [s.id for s in clinician_checks(kb, t, {"depth"})] == ["sarcoma_depth"]
    routine = dataclasses.replace(t, level="routine")
    assert patient_advice(kb, routine, for_clinician={"depth"}).level == "routine"


def test_plain_urgency_never_uses_the_codes():
    from backmice.render.patient_interview import URGENCY_LEVELS, plain_urgency

    assert plain_urgency("emergency", "112").heading == "Call 112 now"
    assert plain_urgency("urgent_2_weeks", "999").heading == "See a doctor within 2 weeks"
    assert plain_urgency("routine", "999").heading == "Book a routine appointment with your GP"
    for level in URGENCY_LEVELS:
        words = plain_urgency(level, "999")
        assert "_" not in words.heading + words.detail
        assert not words.detail.startswith(words.heading)


def test_patient_place_words_hold_no_anatomical_terms(kb):
    """The places a patient reads (interview, CLI, API summaries) use everyday words only."""
    for value in kb.findings["location"].patient_value_labels.values():
        for term in ("PSIS", "sacroiliac", "iliac", "sacrum", "fascia"):
            assert term not in value, (term, value)
