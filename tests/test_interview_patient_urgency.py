"""Unit tests: the patient's one urgency (render.patient), the red flags' time frames (KB check)
and the interview's finish keeping "not asked" apart from "don't know" (engine)."""

from __future__ import annotations

from types import SimpleNamespace

from backmice.engine.interview import InterviewState, finish, step
from backmice.kb.checks import _check_red_flag_time_frames
from backmice.render.patient import (
    ALERT_HEADINGS,
    SOON,
    alert,
    option_label,
    patient_advice,
    patient_summary,
)
from backmice.results import PatientAssessment


def _growing_lump_after_dont_know(kb):
    state = InterviewState().answer("bladder_or_bowel_dysfunction", None)
    for fid in ("spreading_redness", "saddle_anaesthesia", "neurological_deficit",
                "systemically_unwell"):
        state = state.answer(fid, False)
    state = state.answer("consistency", "soft").answer("growth", "slow")
    return step(kb, state)[1]


def test_alert_takes_the_patient_advice_level(kb):
    a = _growing_lump_after_dont_know(kb)
    assert a.triage.level == "urgent_2_weeks"
    advice = patient_advice(kb, a.triage)
    found = alert(kb, a)
    assert advice.level == found.level == SOON
    assert found.heading == ALERT_HEADINGS[SOON] and found.advice == advice.text
    assert [s.id for s in found.open_signs] == ["cauda_equina"]


def test_dont_know_to_an_emergency_question_is_told_at_once(kb):
    """No red flag fired, but "I don't know" left an emergency sign open: the interview says so
    before the last question (a calm note, not the emergency alert), naming the sign."""
    state = InterviewState().answer("bladder_or_bowel_dysfunction", None)
    a = step(kb, state)[1]
    assert not a.red_flags
    found = alert(kb, a)
    assert found is not None and (found.level, found.urgent) == (SOON, False)
    assert found.signs == () and [s.id for s in found.open_signs] == ["cauda_equina"]
    calm = step(kb, InterviewState().answer("bladder_or_bowel_dysfunction", False))[1]
    assert alert(kb, calm) is None  # a "no" leaves nothing open


def test_alert_without_dont_know_keeps_the_flag_level(kb):
    state = InterviewState().answer("growth", "slow").answer("age_years", 40)
    a = step(kb, state)[1]
    found = alert(kb, a)
    assert found.level == "urgent_2_weeks" and not found.open_signs
    assert found.heading == "Get this lump checked within two weeks"


def test_time_frames_check_passes_on_the_kb_and_fails_on_a_mismatch(kb):
    assert list(_check_red_flag_time_frames(kb)) == []
    young = next(f for f in kb.red_flags if f.id == "young_person_enlarging_lump")
    wrong = young.model_copy(update={"patient_message": "A growing lump in a child should be "
                                                        "seen by a doctor within two days."})
    problems = list(_check_red_flag_time_frames(SimpleNamespace(red_flags=[wrong])))
    assert any("patient_message" in p and "urgent_same_day" in p for p in problems)
    sarcoma = next(f for f in kb.red_flags if f.id == "sarcoma_size")
    lax = sarcoma.model_copy(update={"patient_meaning": "Get it seen today or tomorrow."})
    problems = list(_check_red_flag_time_frames(SimpleNamespace(red_flags=[lax])))
    assert any("patient_meaning" in p for p in problems)


def test_every_red_flag_message_gives_its_heading_time_frame(kb):
    words = {"emergency": "now", "urgent_same_day": "today",
             "urgent_2_weeks": "within two weeks"}
    for flag in kb.red_flags:
        assert words[flag.urgency.value] in flag.patient_message, flag.id
        assert words[flag.urgency.value].split()[-1] in ALERT_HEADINGS[flag.urgency.value]


def test_finish_keeps_not_asked_apart(kb):
    final = finish(kb, InterviewState().answer("pain", True))
    assert final.triage.unanswered_red_flag_questions
    assert not final.triage.unknown_red_flag_questions
    assert "not asked" in final.triage.reason and "don't know" not in final.triage.reason
    advice = patient_advice(kb, final.triage, stopped_early=True)
    assert "stopped early" in advice.reason and "I don't know" not in advice.reason
    result = PatientAssessment(kb_version=final.kb_version, engine_version=final.engine_version,
                               setting=final.setting, lumps=(final,), triage=final.triage,
                               disclaimer=final.disclaimer)
    text = patient_summary(kb, result, stopped_early=True)
    assert "stopped early" in text and kb.texts.disclaimer.patient in text


def test_option_labels_are_capitalised(kb):
    assert option_label(kb, "growth", "stable") == "No, same size"
    assert option_label(kb, "consistency", "soft")[0].isupper()
