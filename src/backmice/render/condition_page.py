"""One condition's page as Markdown: the same content the web pages show."""

from __future__ import annotations

from backmice.kb.base import KnowledgeBase

SECTIONS = (
    ("what_it_is", "What it is"),
    ("causes", "Why it happens"),
    ("presentation", "How it shows itself"),
    ("diagnosis", "How it is diagnosed"),
    ("treatment", "How it is treated"),
    ("alternatives", "Alternatives"),
    ("when_to_see_a_doctor", "When to see a doctor"),
)


def condition_markdown(kb: KnowledgeBase, condition_id: str, *, audience: str = "clinician"
                       ) -> str:
    c = kb.conditions[condition_id]
    lines = [f"# {c.name}", ""]
    if c.synonyms:
        lines += [f"*Also called:* {', '.join(c.synonyms)}", ""]
    lines += [getattr(c.summary, audience), ""]
    for attr, title in SECTIONS:
        lines += [f"## {title}", "", getattr(getattr(c, attr), audience), ""]
    if audience == "clinician":
        lines += ["## What distinguishes it", ""] + [f"- {f}" for f in c.distinguishing_features]
        if c.codes:
            lines += ["", "## Codes", ""]
            lines += [f"- {code.system} {code.code}: {code.title} ({code.status.value})"
                      for code in c.codes]
    if c.related:
        names = [kb.conditions[r].name for r in c.related if r in kb.conditions]
        lines += ["", "## Related conditions", "", ", ".join(names)]
    lines += ["", "## References", ""]
    for i, rid in enumerate(c.references, 1):
        ref = kb.citations[rid]
        bits = [ref.authors, ref.title, ref.journal, str(ref.year) if ref.year else None]
        text = ". ".join(b.rstrip(".") for b in bits if b)
        link = f" <{ref.url}>" if ref.url else ""
        lines.append(f"{i}. [{rid}] {text}.{link}")
    lines += ["", f"*Medically reviewed by:* {c.review.reviewed_by}, on {c.review.reviewed_on}; "
              f"last modified {c.review.last_modified}. Knowledge base {kb.version}.", "",
              f"*{getattr(kb.texts.disclaimer, audience)}*"]
    return "\n".join(lines)
