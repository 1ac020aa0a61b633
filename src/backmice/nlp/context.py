"""ConText-style scoping: which modifiers (negated, possible, historical, hypothetical, another
person) reach a span of a sentence.

A forward trigger reaches the spans after it, a backward trigger the spans before it, within the
sentence, within a window, up to a terminator. Triggers are found once per sentence and each span
looks up the few triggers within its window by bisection, so a sentence of any length (even one
megabyte without a full stop) costs time in proportion to its length. ``Work`` counts what is
done, so a test can show that the work grows linearly without timing anything.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backmice.nlp.rules import MODIFIERS, Rules

# A sentence ends at . ! ? ; or a line break (a full stop inside "1.5" or "y.o." does not end one).
SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[;\n]")
_COMMA = re.compile(r",")
_WORD = re.compile(r"[A-Za-z]{1,40}")
_DIGIT = re.compile(r"\d")


@dataclass
class Work:
    """Units of work done by one extraction: characters scanned and candidate pairs examined."""

    steps: int = 0

    def add(self, n: int) -> None:
        self.steps += n


@dataclass
class _Spans:
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, the end mark included."""
    out = []
    start = 0
    for m in SENTENCE_END.finditer(text):
        out.append((start, m.end()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return [(a, b) for a, b in out if text[a:b].strip()]


def _spans(hits: Sequence[tuple[int, int, Any]], blocked: list[tuple[int, int]], *,
           by_end: bool = False) -> _Spans:
    """The matches outside ``blocked``, ordered by start (or by end, ``by_end``)."""
    found = _Spans()
    kept = [(s, e) for s, e, _ in hits if not _inside(blocked, s, e)]
    kept.sort(key=(lambda h: (h[1], h[0])) if by_end else None)
    for start, end in kept:
        found.starts.append(start)
        found.ends.append(end)
    return found


def _inside(blocked: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps any of the sorted, non-overlapping ``blocked`` spans."""
    i = bisect_right(blocked, (start, 1 << 62)) - 1
    for j in (i, i + 1):
        if 0 <= j < len(blocked) and blocked[j][0] < end and start < blocked[j][1]:
            return True
    return False


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


class SentenceContext:
    """The triggers of one sentence, ready to answer "which modifiers reach this span?"."""

    def __init__(self, rules: Rules, text: str, hits: Mapping[str, list[tuple[int, int, Any]]],
                 a: int, b: int, targets: list[tuple[int, int]], work: Work) -> None:
        self.rules = rules
        self.text = text
        self.work = work
        ctx = rules.context
        blocked = _merge([*targets, *((s, e) for s, e, _ in hits.get("pseudo", ()))])
        self.forward = {}
        self.backward = {}
        self.own_terminators = {}
        self.present = tuple(name for name in MODIFIERS
                             if f"{name}.forward" in hits or f"{name}.backward" in hits)
        for name in self.present:
            self.forward[name] = _spans(hits.get(f"{name}.forward", ()), blocked, by_end=True)
            self.backward[name] = _spans(hits.get(f"{name}.backward", ()), blocked)
            self.own_terminators[name] = _spans(hits.get(f"{name}.terminator", ()), blocked)
        self.terminators = _spans(hits.get("terminator", ()), blocked)
        self.back_stops = _spans(hits.get("back_stop", ()), blocked)
        # A comma breaks a forward scope when the part after it is long or holds a number:
        # "no erythema, firm 3 cm lump" (but not "no fever, chills or rigors").
        self.breaks: list[int] = []
        commas = [m.start() for m in _COMMA.finditer(text, a, b)]
        work.add(b - a)
        for i, at in enumerate(commas):
            end = commas[i + 1] if i + 1 < len(commas) else b
            part = text[at + 1:end]
            words = len(_WORD.findall(part, 0, 400))
            if words > ctx.list_words or _DIGIT.search(part, 0, 400):
                self.breaks.append(at)

    @staticmethod
    def _any_between(positions: list[int], low: int, high: int) -> bool:
        i = bisect_left(positions, low)
        return i < len(positions) and positions[i] < high

    def modifiers(self, start: int, end: int) -> dict[str, bool]:
        """Which modifiers reach the span [start, end)."""
        ctx = self.rules.context
        out = dict.fromkeys(MODIFIERS, False)
        for name in self.present:
            out[name] = bool(
                (self.forward[name].starts and self._forward(name, start, ctx.window))
                or (self.backward[name].starts and self._backward(name, end,
                                                                    ctx.backward_window)))
        return out

    def _forward(self, name: str, start: int, window: int) -> bool:
        trig = self.forward[name]
        # triggers that end within the window before the span
        hi = bisect_right(trig.ends, start)
        lo = bisect_left(trig.ends, start - window)
        own = self.own_terminators[name]
        for i in range(hi - 1, max(lo, hi - 8) - 1, -1):
            self.work.add(1)
            t_end = trig.ends[i]
            if trig.starts[i] >= start:
                continue
            if (self._any_between(self.terminators.starts, t_end, start)
                    or self._any_between(own.starts, t_end, start)
                    or self._any_between(self.breaks, t_end, start)):
                continue
            return True
        return False

    def _backward(self, name: str, end: int, window: int) -> bool:
        trig = self.backward[name]
        lo = bisect_left(trig.starts, end)
        hi = bisect_right(trig.starts, end + window)
        own = self.own_terminators[name]
        for i in range(lo, min(hi, lo + 8)):
            self.work.add(1)
            t_start = trig.starts[i]
            if ((name == "negated" and self._any_between(self.back_stops.starts, end, t_start))
                    or self._any_between(self.terminators.starts, end, t_start)
                    or self._any_between(own.starts, end, t_start)):
                continue
            return True
        return False
