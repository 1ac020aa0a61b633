"""Red flags: the deterministic safety rules, evaluated on the findings alone.

No probability enters here, so no probability can hide a red flag. A rule fires only on known
findings; :func:`completing_findings` tells which unknown findings could still make a rule fire,
so that the interview asks those questions first.

:func:`screen` answers both questions at once, for every rule, and remembers the answers (see
``_Verdicts``): a rule's answer depends only on the values of the findings it names, and a number
only through its position relative to the rule's thresholds, so after the first time a given
pattern is seen its answer is a dictionary look-up. The answers themselves always come from
evaluating the rule as written (:func:`_verdict`); nothing is approximated or skipped.

:func:`left_open` looks at the questions answered "I don't know" together: which red flags some
answers to them could still fire. "Don't know" fires no rule, but it is not a "no".
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from backmice.engine.model import source_of
from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.rules import Compare, Rule, compiled, to_data
from backmice.kb.schema import RedFlag, Urgency
from backmice.results import URGENCY_ORDER, RedFlagHit


@functools.cache
def _compiled(kb: KnowledgeBase) -> tuple[tuple[RedFlag, Rule, RedFlagHit], ...]:
    out = []
    for flag in kb.red_flags:
        rule = kb.rules[f"red_flags:{flag.id}"]
        hit = RedFlagHit(
            id=flag.id, title=flag.title, urgency=flag.urgency.value, rationale=flag.rationale,
            action=flag.action, patient_message=flag.patient_message, rule=to_data(rule),
            source=source_of(flag.provenance),
        )
        out.append((flag, rule, hit))
    # most urgent first, so hits come out in a clinically sensible order
    out.sort(key=lambda t: t[0].urgency.rank)
    return tuple(out)


def _constants(rule: Rule, name: str) -> set[float]:
    if isinstance(rule, Compare):
        if rule.name == name and rule.op not in ("in", "==", "!="):
            return {float(rule.value)}  # type: ignore[arg-type]
        return set()
    parts = getattr(rule, "parts", None) or (getattr(rule, "part", None),)
    return set().union(*(_constants(p, name) for p in parts if p is not None))


@functools.cache
def _probe_values(kb: KnowledgeBase) -> dict[str, tuple[Value, ...]]:
    """Values of each finding that decide every red-flag rule: for numbers, each threshold the
    rules compare against and the values just either side of it."""
    probes: dict[str, tuple[Value, ...]] = {}
    rules = [rule for _, rule, _ in _compiled(kb)]
    for fid, spec in FINDINGS.items():
        if spec.kind is Kind.BOOLEAN:
            probes[fid] = (True, False)
        elif spec.kind is Kind.CATEGORY:
            probes[fid] = spec.values
        else:
            points: set[float] = set()
            for rule in rules:
                for c in _constants(rule, fid):
                    points |= {math.nextafter(c, -math.inf), c, math.nextafter(c, math.inf)}
            inside = sorted(x for x in points if spec.minimum <= x <= spec.maximum)
            probes[fid] = tuple(inside) + (("many",) if spec.kind is Kind.COUNT else ())
    return probes


def _verdict(kb: KnowledgeBase, rule: Rule, findings: Mapping[str, Value]
             ) -> tuple[bool, tuple[str, ...]]:
    """(does the rule fire, which of its unknown findings could each alone make it fire).

    The reference computation: the rule is evaluated as written, and each unknown finding it
    names is tried at every probe value. Findings that could complete it are only listed when
    the rule does not already fire.
    """
    check = compiled(rule)
    if check(findings):
        return True, ()
    probes = _probe_values(kb)
    trial = dict(findings)
    could = []
    for fid in sorted(rule.names()):
        if findings.get(fid) is not None:
            continue
        for value in probes[fid]:
            trial[fid] = value
            if check(trial):
                could.append(fid)
                break
        trial.pop(fid, None)
        if fid in findings:  # present as None: put it back as it was
            trial[fid] = findings[fid]
    return False, tuple(could)


# --- remembering verdicts -------------------------------------------------------------------

_INVALID = object()  # a value parse_findings would reject: such findings are never memoised


def _numeric_points(rules: list[Rule], fid: str) -> tuple[float, ...]:
    """Every number a rule compares ``fid`` with (any operator, including list items)."""
    points: set[float] = set()

    def visit(rule: Rule) -> None:
        if isinstance(rule, Compare):
            if rule.name == fid:
                for v in rule.value if isinstance(rule.value, tuple) else (rule.value,):
                    if isinstance(v, int | float) and not isinstance(v, bool):
                        points.add(float(v))
            return
        for part in getattr(rule, "parts", None) or (rule.part,):  # type: ignore[union-attr]
            visit(part)

    for rule in rules:
        visit(rule)
    return tuple(sorted(points))


def _classifier(fid: str, points: tuple[float, ...]) -> Callable[[Any], Any]:
    """The pattern of one known value, as the rules see it.

    Booleans and categories are their own pattern. A number is replaced by its position among
    the thresholds ``points`` (2*i for "between points i-1 and i", 2*i+1 for "equal to point i"),
    which decides every comparison the rules make with it; "many" is its own pattern. Anything
    that is not a valid value of the finding is _INVALID.
    """
    spec = FINDINGS.get(fid)
    if spec is None:
        return lambda value: _INVALID
    if spec.kind is Kind.BOOLEAN:
        return lambda value: value if value is True or value is False else _INVALID
    if spec.kind is Kind.CATEGORY:
        allowed = frozenset(spec.values)
        return lambda value: value if value.__class__ is str and value in allowed else _INVALID
    low, high = spec.minimum, spec.maximum
    count = spec.kind is Kind.COUNT

    def position(value: Any) -> Any:
        if count and value == "many":
            return "many"
        if value.__class__ not in (int, float) or not low <= value <= high:  # type: ignore[operator]
            return _INVALID
        i = bisect.bisect_left(points, value)
        return 2 * i + (i < len(points) and points[i] == value)
    return position


# One rule: (its names' patterns as one key, its memo: key -> verdict, rule, hit, flag). A plain
# tuple, unpacked in the loop of screen().
_Entry = tuple[Callable[[dict[str, Any]], Any], dict[Any, tuple[bool, tuple[str, ...]]], Rule,
               RedFlagHit, RedFlag]


@dataclass(frozen=True)
class _Verdicts:
    """Per rule, the verdicts seen so far, keyed by the patterns of the findings it names.

    The number of keys is bounded: each named finding has a handful of patterns (unknown, its
    values or its threshold positions), so no memo can grow without limit.
    """

    entries: tuple[_Entry, ...]
    classifiers: dict[str, Callable[[Any], Any]]
    unknown: dict[str, None]  # every named finding, unknown: the starting pattern
    booleans: frozenset[str]  # the named yes/no findings: True and False are their own patterns


@functools.cache
def _verdicts(kb: KnowledgeBase) -> _Verdicts:
    rules = [rule for _, rule, _ in _compiled(kb)]
    names = sorted(set().union(*(rule.names() for rule in rules)))
    entries = []
    for flag, rule, hit in _compiled(kb):
        getter = operator.itemgetter(*sorted(rule.names()))
        entries.append((getter, {}, rule, hit, flag))
    return _Verdicts(
        entries=tuple(entries),
        classifiers={n: _classifier(n, _numeric_points(rules, n)) for n in names},
        unknown=dict.fromkeys(names),
        booleans=frozenset(n for n in names if n in FINDINGS and FINDINGS[n].kind is Kind.BOOLEAN),
    )


@dataclass(frozen=True, slots=True)
class Screening:
    """The red flags that fire, and the unknown findings that could each fire one more."""

    hits: tuple[RedFlagHit, ...]  # most urgent first
    could_fire: dict[str, RedFlag]  # finding id -> the most urgent flag it could fire alone


def screen(kb: KnowledgeBase, findings: Mapping[str, Value]) -> Screening:
    """Evaluate every red-flag rule once: what fires, and what could still fire."""
    verdicts = _verdicts(kb)
    patterns = dict(verdicts.unknown)
    classifiers = verdicts.classifiers
    booleans = verdicts.booleans
    valid = True
    for fid, value in findings.items():
        if (value is True or value is False) and fid in booleans:
            patterns[fid] = value  # what the classifier would say, without the call
            continue
        classify = classifiers.get(fid)
        if classify is not None and value is not None:
            pattern = classify(value)
            patterns[fid] = pattern
            if pattern is _INVALID:
                valid = False
    hits = []
    could_fire: dict[str, RedFlag] = {}
    for pattern, memo, rule, hit, flag in verdicts.entries:
        if valid:
            key = pattern(patterns)
            verdict = memo.get(key)
            if verdict is None:
                verdict = memo[key] = _verdict(kb, rule, findings)
        else:
            verdict = _verdict(kb, rule, findings)
        fires, could = verdict
        if fires:
            hits.append(hit)
        for fid in could:
            # entries are most urgent first, so the first flag a finding could fire is kept
            could_fire.setdefault(fid, flag)
    return Screening(tuple(hits), could_fire)


def fired(kb: KnowledgeBase, findings: Mapping[str, Value]) -> tuple[RedFlagHit, ...]:
    """The red flags whose rules hold for these findings, most urgent first."""
    return screen(kb, findings).hits


def completing_findings(kb: KnowledgeBase, findings: Mapping[str, Value],
                        candidates: list[str], *,
                        screening: Screening | None = None) -> dict[str, RedFlag]:
    """Unknown findings that, answered alone, could fire a red flag not yet fired.

    Returns finding id -> the most urgent flag it could complete, in ``candidates`` order.
    ``screening`` is :func:`screen` of the same findings when the caller already has it.
    """
    could = (screening or screen(kb, findings)).could_fire
    if not could:
        return {}
    return {fid: could[fid] for fid in candidates if fid in could}


# Above this many combinations of "don't know" answers a rule is taken as open without trying them
# all (the conservative answer). The rules of the knowledge base stay far below it.
MAX_COMBINATIONS = 4096


@dataclass(frozen=True, slots=True)
class OpenFlag:
    """A red flag that has not fired but that answers to "don't know" questions could fire."""

    flag: RedFlag
    findings: tuple[str, ...]  # the "don't know" findings whose answer decides it


def left_open(kb: KnowledgeBase, findings: Mapping[str, Value], unknown: Collection[str],
              fired_ids: Collection[str] = ()) -> tuple[OpenFlag, ...]:
    """Red flags that some answers to the ``unknown`` ("don't know") findings could fire.

    For each rule that names a "don't know" finding, every combination of the probe values of
    the rule's unknown findings (the "don't know" ones, and those never asked: often not asked
    because of an earlier "don't know") is tried. The rule is open when some combination fires
    it and a "don't know" finding decides it (changing that answer alone can stop it firing);
    those findings are listed. Most urgent flags first.
    """
    dont_know = {f for f in unknown if findings.get(f) is None}
    if not dont_know:
        return ()
    probes = _probe_values(kb)
    out = []
    for index, (flag, rule, _) in enumerate(_compiled(kb)):
        if flag.id in fired_ids or rule.names().isdisjoint(dont_know):
            continue
        names = sorted(rule.names())
        free = tuple(f for f in names if findings.get(f) is None and f in probes)
        known = tuple((f, findings[f]) for f in names if findings.get(f) is not None)
        deciding = _deciding(kb, index, known, free, tuple(f for f in free if f in dont_know))
        if deciding:
            out.append(OpenFlag(flag, deciding))
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def _deciding(kb: KnowledgeBase, index: int, known: tuple[tuple[str, Value], ...],
              free: tuple[str, ...], dont_know: tuple[str, ...]) -> tuple[str, ...]:
    """The "don't know" findings that decide rule ``index`` (see :func:`left_open`); the answer
    depends only on the values of the findings the rule names, so it is remembered."""
    probes = _probe_values(kb)
    if math.prod(len(probes[f]) for f in free) > MAX_COMBINATIONS:
        return dont_know  # too many to try: open, conservatively
    check = compiled(_compiled(kb)[index][1])
    trial: dict[str, Value] = dict(known)
    firing = set()
    for combo in itertools.product(*(probes[f] for f in free)):
        trial.update(zip(free, combo, strict=True))
        if check(trial):
            firing.add(combo)
    return tuple(
        name for i, name in enumerate(free)
        if name in dont_know and any((*combo[:i], v, *combo[i + 1:]) not in firing
                                     for combo in firing for v in probes[name]))


def most_urgent(hits: tuple[RedFlagHit, ...]) -> Urgency | None:
    if not hits:
        return None
    return Urgency(min([h.urgency for h in hits], key=URGENCY_ORDER.index))
