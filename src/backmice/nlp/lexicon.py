"""Many phrase patterns matched in one pass: each pattern is tried only where a word of the text
starts with the first letters it can start with.

A hundred separate regular expressions scanned over a note cost a hundred passes; here the text is
cut into tokens once, and at each token a dictionary keyed by its first three letters names the few
patterns worth trying there (``pattern.match`` at that position). The first letters of each
pattern are worked out from its parsed form; a pattern whose start cannot be worked out is tried
at every token.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

TOKEN = re.compile(r"\w{1,60}|[^\w\s]")
_MAX_KEYS = 400
KEY = 3  # patterns are filed under their first three letters


def phrase(pattern: str) -> str:
    """A pattern as a whole phrase: a word boundary on each side that starts or ends a word."""
    head = r"(?<!\w)" if re.match(r"[\w(\[]", pattern) else ""
    tail = "" if re.search(r"\\[^\w]$|[^\w)\]?*}]$", pattern) else r"(?!\w)"
    return f"{head}(?:{pattern}){tail}"


def _chars(av: Any) -> set[str] | None:
    out: set[str] = set()
    for op, arg in av:
        if op is sre_c.LITERAL:
            out.add(chr(arg))
        elif op is sre_c.RANGE and arg[1] - arg[0] < 40:
            out.update(chr(c) for c in range(arg[0], arg[1] + 1))
        else:
            return None
    return out


def _extend(prefixes: set[str], items: Sequence[Any], want: int) -> set[str] | None:
    """Every prefix (up to ``want`` letters) the parsed ``items`` can start with, after each of
    ``prefixes``; None when that cannot be worked out."""
    current = set(prefixes)
    for index, (op, av) in enumerate(items):
        done = {p for p in current if len(p) >= want}
        todo = current - done
        if not todo:
            return current
        if op is sre_c.LITERAL:
            current = done | {p + chr(av) for p in todo}
        elif op is sre_c.IN:
            chars = _chars(av)
            if chars is None:
                return None
            current = done | {p + c for p in todo for c in chars}
        elif op is sre_c.SUBPATTERN:
            sub = _extend(todo, list(av[-1]), want)
            if sub is None:
                return None
            current = done | sub
        elif op is sre_c.BRANCH:
            merged: set[str] = set()
            for branch in av[1]:
                sub = _extend(todo, list(branch), want)
                if sub is None:
                    return None
                merged |= sub
            current = done | merged
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            low, _high, sub_items = av
            once = _extend(todo, list(sub_items), want)
            if once is None:
                return None
            if low >= 1:
                # past one repetition the prefix may go on with more of it: stop here
                current = done | once
                return current if all(p for p in current) else None
            rest = _extend(todo, list(items[index + 1:]), want)
            if rest is None:
                return None
            return done | once | rest
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT, sre_c.AT):
            continue  # zero-width: no letter
        else:
            break
        if len(current) > _MAX_KEYS:
            return None
    return current if all(p for p in current) else None


def keys(pattern: str, want: int = 2) -> set[str] | None:
    """The lowercase first letters (up to ``want``) a phrase pattern can start with, or None."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    found = _extend({""}, list(parsed), want)
    return None if found is None else {p.lower() for p in found}


@dataclass
class Lexicon:
    """Phrase patterns with a payload each, matched at token starts (see the module docstring)."""

    tables: tuple[dict[str, list[tuple[re.Pattern[str], Any]]], ...] = field(
        default_factory=lambda: ({}, {}, {}))  # keyed by the first 1, 2 and 3 letters
    anywhere: list[tuple[re.Pattern[str], Any]] = field(default_factory=list)
    size: int = 0

    @classmethod
    def build(cls, entries: Iterable[tuple[str, Any, bool]]) -> Lexicon:
        """``entries``: (pattern, payload, case_sensitive)."""
        lex = cls()
        for pattern, payload, case_sensitive in entries:
            regex = re.compile(phrase(pattern), 0 if case_sensitive else re.IGNORECASE)
            lex.size += 1
            first = keys(pattern, KEY)
            if first is None:
                lex.anywhere.append((regex, payload))
                continue
            for key in first:
                lex.tables[len(key) - 1].setdefault(key, []).append((regex, payload))
        return lex

    def scan(self, text: str, tokens: Sequence[int], a: int, b: int) -> list[tuple[int, int, Any]]:
        """Every match (start, end, payload) that starts at a token start in [a, b)."""
        out = []
        one, two, three = self.tables
        anywhere = self.anywhere
        for i in range(bisect_left(tokens, a), len(tokens)):
            pos = tokens[i]
            if pos >= b:
                break
            key = text[pos:pos + KEY].lower()
            for entries in (three.get(key), two.get(key[:2]), one.get(key[:1]), anywhere):
                if not entries:
                    continue
                for regex, payload in entries:
                    m = regex.match(text, pos, b)
                    if m is not None and m.end() > pos:
                        out.append((pos, m.end(), payload))
        return out


def token_starts(text: str) -> list[int]:
    return [m.start() for m in TOKEN.finditer(text)]
