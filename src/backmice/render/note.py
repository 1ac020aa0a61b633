"""The clinician note: Markdown ready to paste into a chart.

Findings and red-flag rules are written with the knowledge base's labels ("Size: 1.5 cm",
"Size ≥ 5 cm"), as on the clinician page; the note is shared by the CLI, the API and the pages.
Every source the note leans on is cited by number ("[3]"), numbered by first mention, and
listed under "References" at its end, so the pasted note carries its own sources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from backmice.kb.base import KnowledgeBase
from backmice.render.citing import reference_text
from backmice.render.finding_text import finding_label, findings_text, rule_text
from backmice.render.wording import likelihood_ratio, percent
from backmice.results import Assessment, Contribution, PatientAssessment, Source


class NoteReferences:
    """The note's sources, numbered 1, 2, ... in order of first mention."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def marks(self, citations: tuple[str, ...]) -> str:
        """``[1, 3]`` for these ids (numbering new ones), or "" when there are none."""
        if not citations:
            return ""
        for cid in citations:
            self.numbers.setdefault(cid, len(self.numbers) + 1)
        return "[" + ", ".join(str(self.numbers[cid]) for cid in dict.fromkeys(citations)) + "]"

    def basis(self, source: Source) -> str:
        """The grade and the numbered sources: ``expert opinion [1, 2]``."""
        grade = source.grade.replace("_", " ")
        marks = self.marks(source.citations)
        return f"{grade} {marks}" if marks else grade

    def lines(self, kb: KnowledgeBase) -> list[str]:
        """The numbered list; a source the knowledge base no longer holds (an old saved
        assessment) is named by its id."""
        return [f"{n}. {reference_text(kb.citations[cid]) if cid in kb.citations else cid}"
                for cid, n in self.numbers.items()]


def _contribution(c: Contribution, refs: NoteReferences) -> str:
    ratio = likelihood_ratio(c.likelihood_ratio)
    return f"{c.label} = {c.value}: LR {ratio} ({refs.basis(c.source)})"


def _findings_line(kb: KnowledgeBase, a: Assessment) -> str:
    parts = [f"{label}: {value}" for label, value in findings_text(kb, a.findings)]
    return "; ".join(parts) if parts else "none recorded"


def name_lumps(text: str, names: Mapping[str, str] | None) -> str:
    """``text`` with each ``Lump <id>`` (how reading notes name a lump) written as the name
    given for that id (e.g. a lesion's label for ``lesion-2``); ids without a name stay."""
    if not names:
        return text
    pattern = re.compile(r"\bLump (" + "|".join(
        re.escape(k) for k in sorted(names, key=len, reverse=True)) + r")(?![\w-])")
    return pattern.sub(lambda m: names[m.group(1)], text)


def lump_note(kb: KnowledgeBase, a: Assessment, *, name: str | None = None,
              names: Mapping[str, str] | None = None,
              refs: NoteReferences | None = None) -> list[str]:
    """One lump's section, headed by ``name`` if given (else ``Lump <id>``); ``names`` (id →
    name) rewrites how its notes name lumps; ``refs`` numbers the sources it cites."""
    refs = refs if refs is not None else NoteReferences()
    title = name or f"Lump {a.lump_id}"
    lines = [f"### {title}", "", f"**Findings:** {_findings_line(kb, a)}.", ""]
    lines.append(f"**Triage: {a.triage.label}.** {a.triage.reason}. {a.triage.advice_clinician}")
    if a.triage.unanswered_red_flag_questions:
        still = ", ".join(finding_label(kb, f) for f in a.triage.unanswered_red_flag_questions)
        lines += ["", f"**Still to ask (safety):** {still}."]
    if a.red_flags:
        lines += ["", "**Red flags:**"]
        lines += [f"- {h.title} ({h.urgency.replace('_', ' ')}): {h.action} "
                  f"(rule: {rule_text(kb, h.rule)}; {refs.basis(h.source)})" for h in a.red_flags]
    if a.dont_miss:
        named = "; ".join(f"{m.name}" + (f" {percent(m.probability)}" if m.probability is not None
                                          else "") + f" ({m.because})" for m in a.dont_miss)
        lines += ["", f"**Don't miss:** {named}."]
    family = percent(a.back_mouse_family_probability)
    lines += ["", f"**Differential** (back-mouse family {family}):"]
    for i, d in enumerate(a.differential[:5], 1):
        extra = ""
        if d.includes:
            top = [f"{name} {percent(p)}" for _, name, p in d.includes[:3] if p >= 0.01]
            extra = f" (of which {', '.join(top)})" if top else ""
        lines.append(f"{i}. {d.name}: {percent(d.probability)}{extra}")
    for d in a.differential[:3]:
        if d.supporting or d.opposing:
            lines += ["", f"*Reasoning for {d.name}:*"]
            lines += [f"- for: {_contribution(c, refs)}" for c in d.supporting[:5]]
            lines += [f"- against: {_contribution(c, refs)}" for c in d.opposing[:3]]
    if a.invasive_deferred:
        lines += ["", f"**Invasive options held back:** {a.notes[0]}"]
    if a.workup:
        lines += ["", "**Work-up:**"] + [f"- {w.name} ({refs.basis(w.source)})" for w in a.workup]
    if a.treatments:
        lines += ["", "**Treatment options discussed:**"]
        lines += [f"- {t.name} (evidence: {t.evidence_level.replace('_', ' ')}"
                  + (f"; {refs.marks(t.source.citations)})" if t.source.citations else ")")
                  for t in a.treatments]
    if a.questions:
        lines += ["", "**Still to establish:** " + "; ".join(q.clinician for q in a.questions)]
    rest = a.notes[1:] if a.invasive_deferred else a.notes
    if rest:
        lines += ["", *[f"_{name_lumps(n, names)}_" for n in rest]]
    return lines


def clinician_note(kb: KnowledgeBase, result: PatientAssessment, *,
                   lump_names: Mapping[str, str] | None = None) -> str:
    """The note; ``lump_names`` (lump id → name, e.g. ``lesion-2`` → a lesion's label) names
    the lumps as the reader knows them, in headings and notes alike."""
    names = dict(lump_names or {})
    refs = NoteReferences()
    lines = ["## Back lump assessment (backmice)", "",
             f"Setting: {result.setting.replace('_', ' ')}; knowledge base {result.kb_version}, "
             f"engine {result.engine_version}.", "",
             f"**Overall triage: {result.triage.label}.** {result.triage.reason}.", ""]
    for note in result.notes:
        lines.append(f"_{name_lumps(note, names)}_")
    for a in result.lumps:
        lines += ["", *lump_note(kb, a, name=names.get(a.lump_id), names=names, refs=refs)]
    first = result.lumps[0]
    lines += ["", f"Safety-netting: {first.post_procedure_warning}", "",
              f"_{result.disclaimer}_", ""]
    if refs.numbers:
        lines += ["**References:**", "", *refs.lines(kb), ""]
    return "\n".join(lines)
