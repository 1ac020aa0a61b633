"""Numbers and places in one sentence: ages, sexes, sizes, durations, counts, temperatures,
sites and sides, each a candidate mention with its value and, for a word, the basis of its number.

The rules (patterns, units, word values) are in ``nlp/data/measures.yaml`` and ``sites.yaml``;
this module only reads matches and applies the context checks those files describe.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backmice.nlp.context import Work
from backmice.nlp.rules import Rules


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int
    end: int
    finding: str
    value: bool | str | float | int | None
    basis: str | None = None
    kind: str = "target"  # target, location, side, measure, word, pronoun
    negated_value: bool | str | None = None
    affirm_only: bool = False  # a negated match says nothing ("no signs of inflammation")
    also: tuple[tuple[str, bool | str], ...] = ()
    rank: int = 0  # a location's specificity


_UNIT_OR_DIGIT = re.compile(r"\b(?:cm|mm|inch|inches|in|x|by)\b|\d|[\"×*]", re.I)


def _number(raw: str) -> float:
    return float(raw.replace(",", "."))


Hits = Mapping[str, list[tuple[int, int, Any]]]  # a sentence's lexicon matches by category


def _find(regex: re.Pattern[str], text: str, a: int, b: int, work: Work):
    work.add(b - a)
    return regex.finditer(text, a, b)


def ages(rules: Rules, text: str, hits: Hits, a: int, b: int,
         work: Work) -> list[Candidate]:
    out = []
    ms = rules.measures
    for j in range(len(ms.age.patterns)):
        for m in _find(rules.regex[f"age{j}"], text, a, b, work):
            years: float = int(m["n"])
            if m.groupdict().get("months"):
                years = round(years / 12, 2)
            if not 0 < years <= 120:
                continue
            out.append(Candidate(m.start(), m.end(), "age_years", years, kind="measure"))
            groups = m.groupdict()
            letter = (groups.get("sex") or groups.get("yo") or "").lower()
            sex = ms.age.sex_letters.get(letter)
            if sex is None and letter:
                sex = _sex_word(rules, letter)
            if sex:
                out.append(Candidate(m.start(), m.end(), "sex", sex, kind="measure"))
    return out + age_words(rules, text, hits, a, b, work)


_DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
            "seventies": 70, "eighties": 80, "nineties": 90}
_PART = {"early": 2, "mid": 5, "late": 8}  # "early forties" 42, "mid-thirties" 35


def age_words(rules: Rules, text: str, hits: Hits, a: int, b: int,
              work: Work) -> list[Candidate]:
    out = []
    for start, end, word in hits.get("words.age", ()):
        said = text[start:end].lower()
        decade = re.search(r"[2-9](?=0s)", said)
        part = re.search(r"(early|mid|late)[- ]?([a-z]{4,8}ies)", said)
        if part and part.group(2) in _DECADES:
            years = _DECADES[part.group(2)] + _PART[part.group(1)]
        else:
            years = int(decade.group()) * 10 + 5 if decade else word.years
        out.append(Candidate(start, end, "age_years", years, word.basis, kind="word"))
    return out


def _sex_word(rules: Rules, word: str) -> str | None:
    found = rules.sex_lexicon.scan(word, [0], 0, len(word))
    return next((sex for _, end, (_, sex) in found if end == len(word)), None)


def sexes(rules: Rules, text: str, hits: Hits, a: int, b: int,
          work: Work) -> list[Candidate]:
    out = [Candidate(s, e, "sex", sex, kind="measure")
           for s, e, sex in hits.get("sex", ())]
    out += [Candidate(s, e, "sex", sex, kind="pronoun")
            for s, e, sex in hits.get("pronoun", ())]
    return out


def sizes(rules: Rules, text: str, hits: Hits, a: int, b: int,
          work: Work) -> list[Candidate]:
    out = []
    units = rules.measures.size.units
    for m in _find(rules.regex["size"], text, a, b, work):
        if m.start() > a and (text[m.start() - 1].isalnum() or text[m.start() - 1] in ".,"):
            continue  # the tail of a longer number or word
        after = text[m.end():min(b, m.end() + 40)]
        before = text[max(a, m.start() - 40):m.start()]
        if rules.regex["size_not_after"].search(after) or rules.regex["size_not_before"].search(
                before):
            continue
        unit = (m["unit"] or m["unit1"] or "").lower()
        factor = units.get(unit)
        if factor is None:
            continue
        dims = [m[g] for g in ("a", "b", "c", "one") if m[g]]
        cm = round(max(_number(d) for d in dims) * factor, 2)
        if 0 < cm <= 100:
            out.append(Candidate(m.start(), m.end(), "size_cm", cm, kind="measure"))
    return out + size_words(rules, text, hits, a, b, work)


def size_words(rules: Rules, text: str, hits: Hits, a: int, b: int,
               work: Work) -> list[Candidate]:
    return [Candidate(start, end, "size_cm", word.cm, word.basis, kind="word")
            for start, end, word in hits.get("words.size", ())]


def durations(rules: Rules, text: str, hits: Hits, a: int, b: int,
              work: Work) -> list[Candidate]:
    out = []
    d = rules.measures.duration
    rx = rules.regex
    for m in _find(rx["duration"], text, a, b, work):
        before = text[max(a, m.start() - 60):m.start()]
        after = text[m.end():min(b, m.end() + 40)]
        rest = (m["rest"] or "").strip().lower()
        if rx["duration_not_about"].search(before) or rx["duration_not_after"].search(after):
            continue
        if rest == "ago":
            if not rx["duration_ago"].search(text, a, m.start()):
                continue
        elif rest not in ("history", "hx", "duration") and not rx["duration_before"].search(
                before) and not (rest == "of" and rx["duration_of"].search(after)):
            continue
        raw = m["n"].lower()
        n = d.numbers.get(raw)
        if n is None:
            try:
                n = float(raw)
            except ValueError:
                continue
        weeks = round(n * d.units[m["unit"].lower()], 1)
        if 0 < weeks <= 5200:
            out.append(Candidate(m.start(), m.end(), "duration_weeks", weeks, kind="measure"))
    for m in _find(rx["fraction"], text, a, b, work):
        before = text[max(a, m.start() - 60):m.start()]
        if rx["duration_not_about"].search(before):
            continue
        weeks = round(float(m["n"]) * d.fraction_units[m["unit"]], 1)
        if 0 < weeks <= 5200:
            out.append(Candidate(m.start(), m.end(), "duration_weeks", weeks, kind="measure"))
    for start, end, word in hits.get("words.duration", ()):
        if rx["duration_not_about"].search(text[max(a, start - 60):start]):
            continue
        out.append(Candidate(start, end, "duration_weeks", word.weeks, word.basis, kind="word"))
    return out


def counts(rules: Rules, text: str, hits: Hits, a: int, b: int,
           work: Work) -> list[Candidate]:
    out = []
    c = rules.measures.count
    stop = rules.regex["count_gap_stop"]
    work.add(b - a)
    regex = rules.regex["count"]
    pos = a
    while (m := regex.search(text, pos, b)) is not None:
        pos = m.end()
        raw = " ".join(m["n"].lower().split())
        gap = text[m.end("n"):m.start("what")]
        if not raw.isdigit() and rules.regex["count_word_gap_stop"].search(gap):
            pos = m.end("n")  # "two years of swelling" is a duration, not two swellings
            continue
        if raw.isdigit():
            before = text[max(a, m.start() - 6):m.start()].lower()
            if (len(gap.split()) > 2 or stop.search(gap) or before.rstrip().endswith(
                    ("/", "aged", "age", "age:")) or text[m.end("n"):m.end("n") + 1] in ".,/"):
                pos = m.end("n")  # "62 yo M with a huge swelling": try "a huge swelling"
                continue
            value: int | str = int(raw)
        else:
            value = c.numbers.get(raw, 1)
        what = m["what"].lower()
        if raw in ("a", "an", "single", "solitary", "isolated", "one") and what.endswith(
                "s") and not what.endswith("ss"):
            continue  # "a few lumps" is read by "a few", "one of the lumps" is not a count
        out.append(Candidate(m.start(), m.end(), "nodule_count", value, c.basis.get(raw),
                             kind="measure"))
    for m in _find(rules.regex["count_after"], text, a, b, work):
        out.append(Candidate(m.start(), m.end(), "nodule_count", int(m["n"]), kind="measure"))
    return out


def temperatures(rules: Rules, text: str, hits: Hits, a: int, b: int,
                 work: Work) -> list[Candidate]:
    out = []
    for m in _find(rules.regex["temperature"], text, a, b, work):
        raw = m["t"] or m.groupdict().get("t2")
        if not raw:
            continue
        t = float(raw)
        if not 34 <= t <= 43:
            continue
        fever = t >= rules.measures.temperature.fever_at
        out.append(Candidate(m.start(), m.end(), "fever", fever,
                             f"temperature {t:g} °C", kind="measure"))
    return out


def locations(rules: Rules, text: str, hits: Hits, a: int, b: int,
              work: Work) -> list[Candidate]:
    out = []
    for start, end, (value, rank) in hits.get("location", ()):
        if rules.not_after.search(text[max(a, start - 40):start]):
            continue
        out.append(Candidate(start, end, "location", value, kind="location", rank=rank))
    return out


def sides(rules: Rules, text: str, hits: Hits, a: int, b: int,
          anchors: list[tuple[int, int]], work: Work) -> list[Candidate]:
    """Side words next to a site or lump word ("left PSIS", "a lump on the right")."""
    out = []
    gap, after = rules.sites.side_gap, rules.sites.side_after
    adjectives = set(rules.sites.side_adjectives)
    starts = sorted(s for s, _ in anchors)
    ends = sorted(e for _, e in anchors)
    for start, end, side in hits.get("side", ()):
        i = bisect_left(starts, end)
        j = bisect_right(ends, start)
        before_anchor = i < len(starts) and starts[i] - end <= gap
        after_anchor = side in ("left", "right") and j > 0 and start - ends[j - 1] <= after
        anywhere = side == "bilateral" and bool(anchors) and (
            text[start:end].lower() not in adjectives)
        if before_anchor or after_anchor or anywhere:
            out.append(Candidate(start, end, "laterality", side, kind="side"))
    return out
