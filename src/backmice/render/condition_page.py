"""One condition's page as Markdown: the same content the web pages show; and the review line
every content page carries, worded from the knowledge base's review metadata."""

from __future__ import annotations

from collections.abc import Iterator

from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import Condition, Review
from backmice.render.citing import PageReferences, number_citations, reference_text, with_numbers

SECTIONS = (
    ("what_it_is", "What it is"),
    ("causes", "Why it happens"),
    ("presentation", "How it shows itself"),
    ("diagnosis", "How it is diagnosed"),
    ("treatment", "How it is treated"),
    ("alternatives", "Alternatives"),
    ("when_to_see_a_doctor", "When to see a doctor"),
)


def review_note(review: Review, *, authors: str) -> str:
    """What is true of a page's review, in one sentence: "Medically reviewed by ..." only when
    a clinician reviewed it (``by_clinician``); otherwise who wrote it and that no clinician
    has reviewed it yet. ``authors``: the knowledge base's maintainers."""
    if review.by_clinician:
        return f"Medically reviewed by {review.reviewed_by} on {review.reviewed_on.isoformat()}."
    return (f"Written by {authors}; not yet reviewed by a clinician. "
            f"Last checked on {review.reviewed_on.isoformat()}.")


def condition_texts(c: Condition) -> Iterator[str]:
    """Every piece of a condition's prose, in the order its page shows them."""
    yield c.summary.patient
    yield c.summary.clinician
    for attr, _ in SECTIONS:
        yield getattr(c, attr).patient
        yield getattr(c, attr).clinician
    yield from c.distinguishing_features
    yield from (code.note for code in c.codes if code.note)


def condition_references(c: Condition) -> PageReferences:
    """The page's sources: those its text cites, numbered by first mention, then the rest of
    the condition's ``references`` as further reading."""
    return number_citations(condition_texts(c), c.references)


def condition_markdown(kb: KnowledgeBase, condition_id: str, *, audience: str = "clinician"
                       ) -> str:
    c = kb.conditions[condition_id]
    refs = condition_references(c)

    def cite(text: str) -> str:
        return with_numbers(text, refs.numbers)

    lines = [f"# {c.name}", ""]
    if c.synonyms:
        lines += [f"*Also called:* {', '.join(c.synonyms)}", ""]
    lines += [cite(getattr(c.summary, audience)), ""]
    for attr, title in SECTIONS:
        lines += [f"## {title}", "", cite(getattr(getattr(c, attr), audience)), ""]
    if audience == "clinician":
        lines += ["## What distinguishes it", ""]
        lines += [f"- {cite(f)}" for f in c.distinguishing_features]
        if c.codes:
            lines += ["", "## Codes", ""]
            lines += [f"- {code.system} {code.code}: {code.title} ({code.status.value})"
                      + (f". {cite(code.note)}" if code.note else "") for code in c.codes]
    if c.related:
        names = [kb.conditions[r].name for r in c.related if r in kb.conditions]
        lines += ["", "## Related conditions", "", ", ".join(names)]
    lines += ["", "## References", ""]
    lines += [_reference_line(kb, cid, f"{n}.") for cid, n in refs.numbers.items()]
    if refs.further:
        lines += ["", "## Further reading", ""]
        lines += [_reference_line(kb, cid, "-") for cid in refs.further]
    lines += ["", f"*{review_note(c.review, authors=kb.manifest.maintainers)}* "
              f"Last changed on {c.review.last_modified}. Knowledge base {kb.version}.", "",
              f"*{getattr(kb.texts.disclaimer, audience)}*"]
    return "\n".join(lines)


def _reference_line(kb: KnowledgeBase, cid: str, bullet: str) -> str:
    ref = kb.citations[cid]
    link = f" <{ref.link}>" if ref.link else ""
    return f"{bullet} {reference_text(ref)}{link}"
