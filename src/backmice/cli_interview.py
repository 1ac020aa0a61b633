"""The terminal interview: asks the engine's next question, reads the answer, shows the result.

Answers: the number or word of an option, a number for numeric questions, ``d`` (or ``?``) for
"don't know", ``b`` to go back, ``q`` to stop and see the result so far. As soon as the answers
fire a red flag, a patient is told what to do now (the same alert as the web interview's).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.panel import Panel

from backmice.engine.interview import InterviewState, finish, step
from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.render.patient import Alert, alert, answer_summary, option_label
from backmice.results import PatientAssessment, Question

DONT_KNOW = {"d", "?", "dont know", "don't know", "unknown", "idk"}


def parse_answer(q: Question, text: str) -> tuple[str, Value | None] | None:
    """Return (action, value): answer / dont_know / back / quit; None if the text is unclear."""
    t = text.strip().lower()
    if t in DONT_KNOW:
        return "dont_know", None
    if t in {"b", "back"}:
        return "back", None
    if t in {"q", "quit", "stop"}:
        return "quit", None
    spec = FINDINGS[q.finding]
    if spec.kind is Kind.BOOLEAN:
        if t in {"y", "yes", "1", "true"}:
            return "answer", True
        if t in {"n", "no", "2", "false"}:
            return "answer", False
        return None
    if spec.kind is Kind.CATEGORY:
        values = [v for v, _ in q.options]
        if t.isdigit() and 1 <= int(t) <= len(values):
            return "answer", values[int(t) - 1]
        if t.replace(" ", "_") in values:
            return "answer", t.replace(" ", "_")
        return None
    if spec.kind is Kind.COUNT and t == "many":
        return "answer", "many"
    try:
        number = float(t.replace(",", "."))
    except ValueError:
        return None
    if not spec.minimum <= number <= spec.maximum:  # type: ignore[operator]
        return None
    return "answer", int(number) if spec.kind is Kind.COUNT and number.is_integer() else number


def _prompt(console: Console, kb: KnowledgeBase, q: Question, audience: str,
            number: int) -> str:
    text = q.patient if audience == "patient" else q.clinician
    console.print(f"\n[bold]Question {number}.[/bold] {text}")
    spec = FINDINGS[q.finding]
    if spec.kind is Kind.BOOLEAN:
        console.print("  y = yes, n = no")
    elif spec.kind is Kind.CATEGORY:
        for i, (value, label) in enumerate(q.options, 1):
            shown = option_label(kb, q.finding, value) if audience == "patient" else label
            console.print(f"  {i} = {shown}", markup=False)
    else:
        console.print("  type a number" + (' (or "many")' if spec.kind is Kind.COUNT else ""))
    console.print("  d = don't know, b = back, q = stop and show the result", style="dim")
    try:
        return console.input("> ")
    except EOFError:
        return "q"


def _alert(console: Console, kb: KnowledgeBase, found: Alert) -> None:
    lines = [found.advice, "", *[f"- {s.message} {s.meaning}" for s in found.signs]]
    if found.open_signs:
        lines += ["", "Not ruled out, because you answered \"I don't know\":",
                  *[f"- {s.message}" for s in found.open_signs]]
    lines += ["", "Type q to stop and see the result now, or carry on answering."]
    style = "bold red" if found.urgent else "yellow"
    console.print(Panel("\n".join(lines), title=found.heading, border_style=style),
                  markup=False)


def run_interview(kb: KnowledgeBase, *, audience: str, setting: str | None,
                  console: Console | None = None) -> PatientAssessment:
    console = console or Console()
    console.print(Panel(kb.texts.disclaimer.patient if audience == "patient"
                        else kb.texts.disclaimer.clinician, title="backmice interview"))
    state = InterviewState(setting=setting)
    alerted: tuple[Any, ...] = ()
    while True:
        question, now = step(kb, state)
        if question is None:
            break
        found = alert(kb, now) if audience == "patient" else None
        shown = (found.level, found.signs, found.open_signs) if found else ()
        if found is not None and shown != alerted:  # something new to say: say it now
            _alert(console, kb, found)
        alerted = shown
        raw = _prompt(console, kb, question, audience, len(state.asked) + 1)
        parsed = parse_answer(question, raw)
        if parsed is None:
            console.print("Sorry, I did not understand that answer.", style="yellow")
            continue
        action, value = parsed
        if action == "quit":
            break
        state = state.back() if action == "back" else state.answer(question.finding, value)
    final = finish(kb, state)  # stopped early: safety questions not asked are named, not "no"
    patient = PatientAssessment(kb_version=final.kb_version, engine_version=final.engine_version,
                                setting=final.setting, lumps=(final,), triage=final.triage,
                                disclaimer=final.disclaimer)
    console.rule("Result")
    if audience == "patient":
        from backmice.render.patient import patient_summary

        answers = answer_summary(kb, state.asked, final.findings, state.dont_know)
        stopped = bool(final.triage.unanswered_red_flag_questions)  # only left when stopped
        console.print(patient_summary(kb, patient, answers, stopped_early=stopped), markup=False)
    else:
        from backmice.render.terminal import patient_view

        console.print(patient_view(patient))
    return patient


__all__ = ["parse_answer", "run_interview"]
