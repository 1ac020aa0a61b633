"""The adaptive interview: one question at a time, red flags first, "don't know" and "back"."""

from __future__ import annotations

from typer.testing import CliRunner

from backmice.cli import app
from backmice.cli_interview import parse_answer
from backmice.engine.interview import InterviewState, finish, step
from backmice.findings import FINDINGS, Kind


def test_first_questions_screen_for_red_flags(kb):
    question, result = step(kb, InterviewState())
    assert question is not None and question.red_flag
    assert result.triage.provisional


def test_dont_know_is_never_asked_again_and_back_undoes(kb):
    state = InterviewState()
    question, _ = step(kb, state)
    state = state.answer(question.finding, None)
    assert question.finding in state.dont_know
    nxt, _ = step(kb, state)
    assert nxt.finding != question.finding
    state = state.answer(nxt.finding, True if nxt.options[0][0] == "true" else None)
    back = state.back()
    assert nxt.finding not in back.answers and back.asked == (question.finding,)


def test_answering_dont_know_to_everything_ends(kb):
    state = InterviewState()
    for _ in range(200):
        question, _ = step(kb, state)
        if question is None:
            break
        state = state.answer(question.finding, None)
    assert question is None


def test_typical_back_mouse_answers_lead_to_the_family(kb):
    answers = {"location": "posterior_superior_iliac_spine", "consistency": "firm_rubbery",
               "mobile": True, "tender": True, "pain": True, "pain_reproduced_by_pressure": True,
               "size_cm": 1.5, "depth": "subcutaneous", "growth": "stable", "sex": "female",
               "palpable_lump": True}
    state = InterviewState()
    for _ in range(60):
        question, result = step(kb, state)
        if question is None:
            break
        state = state.answer(question.finding, answers.get(question.finding, False
                             if question.options[0][0] == "true" else None))
    assert result.top.back_mouse_family
    assert not result.red_flags


def test_parse_answer_understands_words_numbers_and_commands(kb):
    question, _ = step(kb, InterviewState())
    assert parse_answer(question, "y") == ("answer", True)
    assert parse_answer(question, "no") == ("answer", False)
    assert parse_answer(question, "d") == ("dont_know", None)
    assert parse_answer(question, "b") == ("back", None)
    assert parse_answer(question, "banana") is None


def test_cli_interview_for_a_patient(kb):
    result = CliRunner().invoke(app, ["interview", "--audience", "patient"],
                                input="n\n" * 12 + "d\n" * 60)
    assert result.exit_code == 0, result.output
    assert "Question 1." in result.output
    assert "How soon to get seen" in result.output
    assert "only an examination can tell" in result.output
    # the verdict: everything before the summary of answers (whose questions say "you have")
    verdict = result.output.split("Result")[-1].split("Your answers:")[0].lower()
    assert "you have" not in verdict and "diagnosis is" not in verdict
    assert "warning signs we could not rule out" in verdict  # the "don't know" answers


# --- "don't know" is not a "no" -----------------------------------------------------------


def test_dont_know_to_a_safety_question_leaves_its_red_flag_open(kb):
    state = InterviewState().answer("bladder_or_bowel_dysfunction", None)
    _, result = step(kb, state)
    t = result.triage
    assert "bladder_or_bowel_dysfunction" in t.unknown_red_flag_questions
    assert "cauda_equina" in t.red_flags_not_ruled_out
    assert t.provisional
    assert not result.red_flags  # an unknown answer fires nothing...
    no = step(kb, InterviewState().answer("bladder_or_bowel_dysfunction", False))[1].triage
    assert "cauda_equina" not in no.red_flags_not_ruled_out  # ...but only "no" rules it out
    assert t.level == no.level  # the engine's level comes from the rules alone


def test_dont_know_answers_are_judged_together(kb):
    """Fever and diabetes both unknown can fire the spinal-infection rule together, although
    neither can alone while the other is unknown."""
    known = {"neurological_deficit": False, "recent_procedure_here": False}
    state = InterviewState()
    for fid, value in known.items():
        state = state.answer(fid, value)
    both = state.answer("fever", None).answer("immunocompromised_or_diabetic", None)
    t = step(kb, both)[1].triage
    assert "spinal_infection_risk" in t.red_flags_not_ruled_out
    assert {"fever", "immunocompromised_or_diabetic"} <= set(t.unknown_red_flag_questions)
    one = state.answer("fever", None).answer("immunocompromised_or_diabetic", False)
    assert "spinal_infection_risk" not in step(kb, one)[1].triage.red_flags_not_ruled_out


def test_every_answer_dont_know_leaves_every_emergency_flag_open(kb):
    state = InterviewState()
    for _ in range(200):
        question, result = step(kb, state)
        if question is None:
            break
        state = state.answer(question.finding, None)
    t = result.triage
    assert t.provisional and t.level == "routine"
    emergency = [f.id for f in kb.red_flags if f.urgency.value == "emergency"]
    assert set(emergency) <= set(t.red_flags_not_ruled_out)
    assert {"bladder_or_bowel_dysfunction", "saddle_anaesthesia",
            "spreading_redness"} <= set(t.unknown_red_flag_questions)


def test_answering_no_to_everything_rules_the_flags_out(kb):
    state = InterviewState()
    for _ in range(200):
        question, result = step(kb, state)
        if question is None:
            break
        value = False if question.options[0][0] == "true" else question.options[0][0]
        state = state.answer(question.finding, value if FINDINGS[question.finding].kind
                             not in (Kind.NUMBER, Kind.COUNT) else 1.0)
    assert not result.triage.red_flags_not_ruled_out
    assert not result.triage.unknown_red_flag_questions


def test_finishing_early_names_the_safety_questions_not_asked(kb):
    state = InterviewState().answer("bladder_or_bowel_dysfunction", True)
    question, now = step(kb, state)
    assert question is not None and now.triage.unanswered_red_flag_questions
    final = finish(kb, state)
    assert final.triage.level == "emergency"
    assert "necrotising_infection_signs" in final.triage.red_flags_not_ruled_out
    # not asked stays "not asked": never reported as answered "don't know"
    assert "spreading_redness" in final.triage.unanswered_red_flag_questions
    assert not final.triage.unknown_red_flag_questions
    assert "don't know" not in final.triage.reason
    assert "not asked (the interview was stopped early)" in final.triage.reason


def test_finishing_early_keeps_dont_know_apart_from_not_asked(kb):
    state = InterviewState().answer("spreading_redness", None)
    final = finish(kb, state)
    assert final.triage.unknown_red_flag_questions == ("spreading_redness",)
    assert "spreading_redness" not in final.triage.unanswered_red_flag_questions
    assert "bladder_or_bowel_dysfunction" in final.triage.unanswered_red_flag_questions
    assert {"necrotising_infection_signs", "cauda_equina"} <= \
        set(final.triage.red_flags_not_ruled_out)
    assert "1 red-flag question answered \"don't know\"" in final.triage.reason
    assert "not asked (the interview was stopped early)" in final.triage.reason


def test_cli_interview_warns_as_soon_as_a_red_flag_fires(kb):
    first, _ = step(kb, InterviewState())
    result = CliRunner().invoke(app, ["interview", "--audience", "patient"], input="y\nq\n")
    assert result.exit_code == 0, result.output
    warning = result.output.index("Get emergency help now")
    assert warning < result.output.index("Question 2.")  # before the next question
    assert "emergency department" in result.output
    assert "Your answers:" in result.output and kb.findings[first.finding].question.patient[:30] \
        in " ".join(result.output.split())
