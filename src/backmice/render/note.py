"""The clinician note: Markdown ready to paste into a chart.

Findings and red-flag rules are written with the knowledge base's labels ("Size: 1.5 cm",
"Size ≥ 5 cm"), as on the clinician page; the note is shared by the CLI, the API and the pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from backmice.kb.base import KnowledgeBase
from backmice.render.finding_text import finding_label, findings_text, rule_text
from backmice.render.wording import contribution_line, percent
from backmice.results import Assessment, PatientAssessment


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
              names: Mapping[str, str] | None = None) -> list[str]:
    """One lump's section, headed by ``name`` if given (else ``Lump <id>``); ``names`` (id →
    name) rewrites how its notes name lumps."""
    title = name or f"Lump {a.lump_id}"
    lines = [f"### {title}", "", f"**Findings:** {_findings_line(kb, a)}.", ""]
    lines.append(f"**Triage: {a.triage.label}.** {a.triage.reason}. {a.triage.advice_clinician}")
    if a.triage.unanswered_red_flag_questions:
        still = ", ".join(finding_label(kb, f) for f in a.triage.unanswered_red_flag_questions)
        lines += ["", f"**Still to ask (safety):** {still}."]
    if a.red_flags:
        lines += ["", "**Red flags:**"]
        lines += [f"- {h.title} ({h.urgency.replace('_', ' ')}): {h.action} "
                  f"(rule: {rule_text(kb, h.rule)})" for h in a.red_flags]
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
            lines += [f"- for: {contribution_line(c)}" for c in d.supporting[:5]]
            lines += [f"- against: {contribution_line(c)}" for c in d.opposing[:3]]
    if a.invasive_deferred:
        lines += ["", f"**Invasive options held back:** {a.notes[0]}"]
    if a.workup:
        lines += ["", "**Work-up:**"] + [f"- {w.name}" for w in a.workup]
    if a.treatments:
        lines += ["", "**Treatment options discussed:**"]
        lines += [f"- {t.name} (evidence: {t.evidence_level.replace('_', ' ')})"
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
    lines = ["## Back lump assessment (backmice)", "",
             f"Setting: {result.setting.replace('_', ' ')}; knowledge base {result.kb_version}, "
             f"engine {result.engine_version}.", "",
             f"**Overall triage: {result.triage.label}.** {result.triage.reason}.", ""]
    for note in result.notes:
        lines.append(f"_{name_lumps(note, names)}_")
    for a in result.lumps:
        lines += ["", *lump_note(kb, a, name=names.get(a.lump_id), names=names)]
    first = result.lumps[0]
    lines += ["", f"Safety-netting: {first.post_procedure_warning}", "",
              f"_{result.disclaimer}_", ""]
    return "\n".join(lines)
