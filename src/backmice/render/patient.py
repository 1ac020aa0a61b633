"""Patient wording: what the lump might be, how urgently to be seen, and what to watch for.

Never states a diagnosis as certain: conditions are "possible explanations", always paired with
"only an examination can tell".
"""

from __future__ import annotations

from backmice.kb.base import KnowledgeBase
from backmice.render.wording import plain_chance
from backmice.results import Assessment, PatientAssessment


def possibilities(kb: KnowledgeBase, a: Assessment, limit: int = 3) -> list[tuple[str, str, str]]:
    """(condition id, plain name, hedged phrase) for the leading outcomes."""
    out = []
    for oid, p in a.outcomes[:limit]:
        if p < 0.05 and out:
            break
        page = kb.conditions[oid]
        out.append((oid, page.patient_name, plain_chance(p)))
    return out


def patient_summary(kb: KnowledgeBase, result: PatientAssessment) -> str:
    tri = result.triage
    lines = [f"How soon to get seen: {kb.texts.triage[tri.level].patient}", ""]
    for a in result.lumps:
        flags = [h.patient_message for h in a.red_flags]
        if flags:
            lines += ["Why:", *[f"  - {m}" for m in flags], ""]
        label = f" ({a.lump_id})" if len(result.lumps) > 1 else ""
        lines.append(f"What the lump{label} might be (only an examination can tell):")
        for _, name, phrase in possibilities(kb, a):
            lines.append(f"  - {name}: {phrase}")
        lines.append("")
    lines += [
        "Get help sooner if anything changes: call emergency services for loss of bladder or "
        "bowel control, numbness between the legs, or weakness in both legs; see a doctor today "
        "for fever, a red, hot or leaking lump, or spreading redness; see a doctor within two "
        "weeks if the lump grows, is bigger than a golf ball, is hard, or cannot be moved.",
        "",
        kb.texts.post_procedure_warning.patient,
        "",
        kb.texts.disclaimer.patient,
    ]
    return "\n".join(lines)
