"""The terminal view of an assessment (Rich renderables; the CLI prints them)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from backmice.render.wording import cite, likelihood_ratio, percent
from backmice.results import Assessment, PatientAssessment

STYLE = {
    "emergency": "bold white on red",
    "urgent_same_day": "bold red",
    "urgent_2_weeks": "bold yellow",
    "routine": "bold cyan",
    "self_care": "bold green",
}


def _bar(p: float, width: int = 20) -> str:
    filled = round(p * width)
    return "█" * filled + "·" * (width - filled)


def _triage(a: Assessment) -> Panel:
    t = a.triage
    body = Text()
    body.append(f"{t.label}\n", style=STYLE[t.level])
    body.append(f"{t.reason}.\n{t.advice_clinician}")
    if t.unanswered_red_flag_questions:
        body.append("\nStill unanswered red-flag questions: " +
                    ", ".join(q.replace("_", " ") for q in t.unanswered_red_flag_questions),
                    style="yellow")
    if t.unknown_red_flag_questions:
        body.append("\nAnswered \"don't know\" (not ruled out): " +
                    ", ".join(q.replace("_", " ") for q in t.unknown_red_flag_questions),
                    style="yellow")
    return Panel(body, title="Triage", border_style=STYLE[t.level].split()[-1])


def _red_flags(a: Assessment) -> RenderableType:
    if not a.red_flags:
        return Text("No red flag fired.", style="green")
    table = Table(title="Red flags", title_style="bold red", show_lines=True, expand=True)
    for col in ("Red flag", "Urgency", "Rationale and action", "Source"):
        table.add_column(col)
    for h in a.red_flags:
        table.add_row(h.title, Text(h.urgency.replace("_", " "), style=STYLE[h.urgency]),
                      f"{h.rationale}\n→ {h.action}", cite(h.source))
    return table


def _dont_miss(a: Assessment) -> RenderableType:
    if not a.dont_miss:
        return Text("")
    parts = [f"{m.name}" + (f" {percent(m.probability)}" if m.probability is not None else "")
             + f" ({m.because})" for m in a.dont_miss]
    return Text("Don't miss: " + "; ".join(parts), style="bold magenta")


def _differential(a: Assessment) -> Table:
    table = Table(title=f"Differential (back-mouse family total "
                        f"{percent(a.back_mouse_family_probability)})", expand=True)
    table.add_column("#", justify="right")
    table.add_column("Condition")
    table.add_column("Probability", justify="right")
    table.add_column("")
    for i, d in enumerate(a.differential, 1):
        name = d.name + (" [family]" if d.back_mouse_family else "")
        if d.includes:
            inner = [f"{n} {percent(p)}" for _, n, p in d.includes[:3] if p >= 0.01]
            if inner:
                name += "\n  incl. " + "; ".join(inner)
        table.add_row(str(i), name, percent(d.probability), _bar(d.probability))
    return table


def _reasoning(a: Assessment) -> RenderableType:
    table = Table(title="Why: findings for and against the leading conditions", expand=True)
    for col in ("Condition", "", "Finding", "LR", "Source"):
        table.add_column(col)
    for d in a.differential[:3]:
        for sign, items in (("for", d.supporting[:6]), ("against", d.opposing[:4])):
            for c in items:
                table.add_row(d.name, sign, f"{c.label}: {c.value}",
                              likelihood_ratio(c.likelihood_ratio), cite(c.source))
    return table


def _questions(a: Assessment) -> RenderableType:
    if not a.questions:
        return Text("No useful question left to ask.")
    table = Table(title="Most useful questions still unanswered", expand=True)
    table.add_column("Question")
    table.add_column("Why")
    for q in a.questions:
        why = q.reason if q.red_flag else f"information gain {q.expected_information_gain:.2f} bits"
        table.add_row(q.clinician, Text(why, style="red" if q.red_flag else ""))
    return table


def _workup_and_treatment(a: Assessment) -> RenderableType:
    parts: list[RenderableType] = []
    if a.workup:
        wt = Table(title="Work-up", expand=True)
        wt.add_column("Step")
        wt.add_column("Purpose")
        wt.add_column("Source")
        for w in a.workup:
            wt.add_row(w.name, w.purpose, cite(w.source))
        parts.append(wt)
    if a.treatments:
        tt = Table(title="Treatment options for the leading conditions", expand=True,
                   show_lines=True)
        tt.add_column("Option")
        tt.add_column("Evidence")
        tt.add_column("Summary")
        for t in a.treatments:
            tt.add_row(t.name, t.evidence_level.replace("_", " "),
                       f"{t.summary}\n{t.evidence_summary}")
        parts.append(tt)
    return Group(*parts)


def lump_view(a: Assessment) -> RenderableType:
    notes = [Text(n, style="italic") for n in a.notes]
    return Panel(
        Group(_triage(a), _red_flags(a), _dont_miss(a), _differential(a), _reasoning(a),
              _questions(a),
              _workup_and_treatment(a), *notes),
        title=f"Lump {a.lump_id}", subtitle=f"setting {a.setting} · KB {a.kb_version}",
    )


def patient_view(result: PatientAssessment) -> RenderableType:
    parts: list[RenderableType] = [lump_view(a) for a in result.lumps]
    if len(result.lumps) > 1:
        parts.insert(0, Panel(Text(f"{result.triage.label}: {result.triage.reason}",
                                   style=STYLE[result.triage.level]),
                              title=f"Overall triage across {len(result.lumps)} lumps"))
    parts += [Text(n, style="italic") for n in result.notes]
    first = result.lumps[0]
    parts.append(Text(f"After a procedure: {first.post_procedure_warning}", style="yellow"))
    parts.append(Text(result.disclaimer, style="bold"))
    return Group(*parts)
