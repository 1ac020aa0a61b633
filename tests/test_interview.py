"""The adaptive interview: one question at a time, red flags first, "don't know" and "back"."""

from __future__ import annotations

from typer.testing import CliRunner

from backmice.cli import app
from backmice.cli_interview import parse_answer
from backmice.engine.interview import InterviewState, step


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
    verdict = result.output.split("Result")[-1].lower()
    assert "you have" not in verdict and "diagnosis is" not in verdict
