"""In-text citations of knowledge-base prose (``[R40]``) numbered for one page.

KB text cites sources by their KB id. A page shows its own reference list, numbered 1, 2, ...
in order of first mention, so a marker must be shown as that number ("[29]"), never the id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backmice.kb.schema import CITATION_MARKER, Citation


@dataclass(frozen=True)
class PageReferences:
    """The sources of one page: ``numbers`` maps each cited id to its number on the page (in
    number order); ``further`` lists sources named for the page but cited nowhere in its text."""

    numbers: Mapping[str, int]
    further: tuple[str, ...]

    @property
    def cited(self) -> tuple[str, ...]:
        return tuple(self.numbers)


def number_citations(texts: Iterable[str], listed: Iterable[str] = ()) -> PageReferences:
    """Number the ids cited in ``texts`` (given in page order) by first mention."""
    numbers: dict[str, int] = {}
    for text in texts:
        for cid in CITATION_MARKER.findall(text):
            numbers.setdefault(cid, len(numbers) + 1)
    further = tuple(dict.fromkeys(cid for cid in listed if cid not in numbers))
    return PageReferences(numbers, further)


def split_markers(text: str) -> list[str]:
    """``text`` cut at its markers: even positions are text, odd positions citation ids."""
    return CITATION_MARKER.split(text)


def with_numbers(text: str, numbers: Mapping[str, int]) -> str:
    """Plain text with each marker shown as its page number ([R40] → [29]); an id the page
    does not number keeps its marker."""
    return CITATION_MARKER.sub(
        lambda m: f"[{numbers[m.group(1)]}]" if m.group(1) in numbers else m.group(0), text)


def reference_text(c: Citation) -> str:
    """One line for a reference list: authors, title, journal, year and identifiers. A source
    whose title was not recorded is named by what is known of it, and says so."""
    journal = c.journal
    year = str(c.year) if c.year and not (journal and str(c.year) in journal) else None
    main = c.title if c.title_recorded else (journal or c.description)
    lead = [c.authors, main, journal if c.title_recorded else None, year]
    parts = [". ".join(b.rstrip(".") for b in lead if b) + "."]
    if not c.title_recorded:
        parts.append(f"Title not recorded ({c.description})." if journal and c.description
                     else "Title not recorded.")
    parts += [f"PMID {c.pmid}." if c.pmid else "", f"doi:{c.doi}." if c.doi else ""]
    return " ".join(p for p in parts if p)
