"""Clinical note → findings: :func:`extract` reads a free-text note into the case format's findings
and lists every mention behind them, with its span, value and ConText modifiers.

Pure and deterministic: no I/O but the rules read once from ``nlp/data``, no clock. Text of any
length is read in time proportional to its length; control characters are read as spaces (the
offsets still point into the text given), and text in which nothing is recognised (another
language, another script, binary noise) gives an empty extraction.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from backmice.errors import InputError
from backmice.findings import FINDINGS, FindingSet, Kind, Value, parse_findings, parse_value
from backmice.nlp import measures
from backmice.nlp.context import SentenceContext, Work, sentences
from backmice.nlp.lexicon import token_starts
from backmice.nlp.measures import Candidate, Hits
from backmice.nlp.rules import Rules, rules

_DIGIT = re.compile(r"\d")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Mention:
    """One phrase of the note that speaks to a finding, and how the note speaks of it.

    ``value`` is what the phrase says once its modifiers are applied ("no fever": ``False``), or
    None when a negation leaves nothing to say ("not hard"). ``counted`` is whether it sets the
    finding: a possible, hypothetical or another person's mention never does, and a historical one
    only for findings that describe the patient still (a past cancer, an old operation). ``basis``
    says where a number read from words came from ("golf ball: about 4 cm").
    """

    text: str
    start: int
    end: int
    finding: str
    value: Value | None
    negated: bool = False
    possible: bool = False
    historical: bool = False
    hypothetical: bool = False
    other_person: bool = False
    basis: str | None = None
    counted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Extraction:
    """The findings read from a note and every mention behind them (in the order of the text)."""

    findings: FindingSet
    mentions: tuple[Mention, ...] = ()

    def evidence(self, finding: str) -> tuple[Mention, ...]:
        """The counted mentions that give ``finding`` its value."""
        if finding not in self.findings:
            return ()
        value = self.findings[finding]
        hits = tuple(m for m in self.mentions if m.finding == finding and m.counted
                     and _same(m.value, value))
        if hits or finding != "laterality":
            return hits
        return tuple(m for m in self.mentions if m.finding == finding and m.counted)

    def to_dict(self) -> dict[str, Any]:
        return {"findings": dict(self.findings.values),
                "mentions": [m.to_dict() for m in self.mentions]}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) < 1e-9
    return a == b


EMPTY = Extraction(FindingSet({}), ())


def readable(text: str) -> str:
    """The text as it is read: control characters and lone surrogates as spaces (same length)."""
    return _CONTROL.sub(" ", text)


def extract(text: str) -> Extraction:
    """Read a clinical note into findings, with every mention behind them."""
    return _extract(text, Work())[0]


def extract_counted(text: str) -> tuple[Extraction, int]:
    """:func:`extract` and the units of work it did (characters scanned, pairs examined)."""
    work = Work()
    result = _extract(text, work)[0]
    return result, work.steps


def _extract(text: str, work: Work) -> tuple[Extraction, Work]:
    if not isinstance(text, str):
        raise InputError("text", "expected text", "a string")
    if not text.strip():
        return EMPTY, work
    clean = readable(text)
    r = rules()
    mentions: list[Mention] = []
    ranks: dict[int, int] = {}
    tokens = token_starts(clean)
    work.add(len(clean))
    for a, b in sentences(clean):
        mentions.extend(_sentence(r, text, clean, tokens, a, b, work, ranks))
    findings = _combine(r, mentions, ranks)
    return Extraction(findings, tuple(mentions)), work


def _targets(r: Rules, hits: Hits) -> list[Candidate]:
    found = []
    for start, end, index in hits.get("target", ()):
        t = r.compiled_targets[index]
        found.append(Candidate(start, end, t.finding, t.value, negated_value=t.negated_value,
                               also=t.also, affirm_only=t.affirm_only))
    return found


def _within(spans: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    """Whether [start, end) lies inside one of the sorted ``spans`` (none inside another)."""
    i = bisect_right(starts, start) - 1
    return i >= 0 and end <= spans[i][1]


def _outermost(cands: Iterable[Candidate]) -> list[Candidate]:
    """Drop every candidate that lies inside a longer one ("non-tender" holds "tender")."""
    ordered = sorted(cands, key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[Candidate] = []
    reach_end, reach_start = -1, -1
    for c in ordered:
        if c.end <= reach_end and (c.end - c.start) < reach_end - reach_start:
            continue
        kept.append(c)
        if c.end > reach_end:
            reach_start, reach_end = c.start, c.end
    return kept


def _sentence(r: Rules, text: str, clean: str, tokens: Sequence[int], a: int, b: int,
              work: Work, ranks: dict[int, int]) -> list[Mention]:
    work.add(b - a)
    hits: dict[str, list[tuple[int, int, Any]]] = {}
    for start, end, (category, value) in r.lexicon.scan(clean, tokens, a, b):
        hits.setdefault(category, []).append((start, end, value))
    by_target: dict[str, list[Candidate]] = {}
    for c in _targets(r, hits):
        by_target.setdefault(c.finding, []).append(c)
    targets = sorted((c for group in by_target.values() for c in _outermost(group)),
                     key=lambda c: (c.start, c.end))
    for container, hidden in r.targets.hides.items():
        outer = sorted((c.start, c.end) for c in _outermost(by_target.get(container, ())))
        if outer:
            starts = [s for s, _ in outer]
            targets = [c for c in targets if c.finding not in hidden
                       or not _within(outer, starts, c.start, c.end)]
    places = _outermost(measures.locations(r, clean, hits, a, b, work))
    readers = (measures.ages, measures.sizes, measures.durations, measures.counts,
               measures.temperatures) if _DIGIT.search(clean, a, b) else (
               measures.age_words, measures.size_words, measures.durations, measures.counts)
    numbers = [c for read in readers for c in read(r, clean, hits, a, b, work)]
    by_finding: dict[str, list[Candidate]] = {}
    for c in numbers:
        by_finding.setdefault(c.finding, []).append(c)
    numbers = [c for group in by_finding.values() for c in _outermost(group)]
    sexes = measures.sexes(r, clean, hits, a, b, work)
    lumps = [(c.start, c.end) for c in targets if c.finding in ("palpable_lump", "tender")]
    if not lumps:  # "low back pain" says where the pain is, not where a lump is
        places = [c for c in places if c.rank > 1]
    anchors = [(c.start, c.end) for c in places] + lumps
    sides = _outermost(measures.sides(r, clean, hits, a, b, anchors, work))
    everything = [*targets, *places, *numbers, *sexes, *sides]
    # a trigger or terminator inside a target is part of it ("no change in size"); a count's
    # span is a number and the free words up to the lump word ("a ... lump"), so it hides
    # nothing: "no fever and a tender lump" ends the negation at "and a"
    spans = [(c.start, c.end) for c in everything if c.finding != "nodule_count"]
    ctx = SentenceContext(r, clean, hits, a, b, spans, work)
    ordered = sorted(everything, key=lambda c: (c.start, c.end))
    return mentions_of(r, clean, [(c, ctx.modifiers(c.start, c.end)) for c in ordered], ranks)


def mentions_of(r: Rules, text: str, items: Iterable[tuple[Candidate, dict[str, bool]]],
                ranks: dict[int, int]) -> list[Mention]:
    """Candidates with their ConText modifiers → mentions: the value a negation leaves, whether
    the mention counts, the extra findings a target implies; a site's rank (and -1 for a
    pronoun) is noted in ``ranks`` for :func:`_combine`. Shared with bench/notes.py's medspaCy
    pipeline, so both read their matches the same way."""
    out = []
    historical_ok = set(r.targets.historical_counts)
    for c, mods in items:
        value = _value(c, mods["negated"])
        counted = value is not None and not (
            mods["possible"] or mods["hypothetical"] or mods["other_person"]) and (
            not mods["historical"] or mods["negated"] or c.finding in historical_ok)
        mention = Mention(text[c.start:c.end], c.start, c.end, c.finding, value,
                          basis=c.basis, counted=counted, **mods)
        if c.kind == "location":
            ranks[id(mention)] = c.rank
        elif c.kind == "pronoun":
            ranks[id(mention)] = -1
        out.append(mention)
        if counted and not mods["negated"]:
            for fid, extra in c.also:
                out.append(Mention(text[c.start:c.end], c.start, c.end, fid, extra,
                                   basis=c.basis, counted=True, **mods))
    return out


def _value(c: Candidate, negated: bool) -> Value | None:
    if not negated:
        return c.value
    if c.kind != "target" or c.affirm_only:
        return None
    if c.value is False:
        return False  # "apyrexial" in "no redness, apyrexial" says no fever already
    if c.negated_value is not None:
        return c.negated_value
    if isinstance(c.value, bool):
        return not c.value
    return None


def _combine(r: Rules, mentions: list[Mention], ranks: Mapping[int, int]) -> FindingSet:
    by: dict[str, list[Mention]] = {}
    for m in mentions:
        if m.counted:
            by.setdefault(m.finding, []).append(m)
    raw: dict[str, Value] = {}
    for fid, ms in by.items():
        value = _one(r, fid, ms, ranks)
        if value is None:
            continue
        try:
            checked = parse_value(FINDINGS[fid], value, fid)
        except InputError:
            continue
        if checked is not None:
            raw[fid] = checked
    return parse_findings(raw)


def _one(r: Rules, fid: str, ms: list[Mention], ranks: Mapping[int, int]) -> Value | None:
    spec = FINDINGS[fid]
    values = [m.value for m in ms if m.value is not None]
    if not values:
        return None
    if spec.kind is Kind.BOOLEAN:
        return True if any(v is True for v in values) else values[0]
    if fid == "laterality":
        sides = set(values)
        if "bilateral" in sides or {"left", "right"} <= sides:
            return "bilateral"
        sided = [v for v in values if v != "midline"]
        return sided[0] if sided else values[0]
    if fid == "location":
        return max(ms, key=lambda m: (ranks.get(id(m), 0), -m.start)).value
    if fid == "sex":
        named = [m.value for m in ms if ranks.get(id(m), 0) != -1]
        return (named or values)[0]
    prefer = r.targets.combine.get(fid)
    if prefer is not None:
        return next(v for v in prefer.prefer + values if v in values)
    if fid == "size_cm":
        measured = [m.value for m in ms if m.basis is None and m.value is not None]
        return max(measured or values)  # type: ignore[type-var]
    if fid == "duration_weeks":
        return max(values)  # type: ignore[type-var]
    if fid == "nodule_count":
        return "many" if "many" in values else max(v for v in values if v != "many")  # type: ignore[type-var]
    return values[0]
