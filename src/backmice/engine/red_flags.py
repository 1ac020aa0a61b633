"""Red flags: the deterministic safety rules, evaluated on the findings alone.

No probability enters here, so no probability can hide a red flag. A rule fires only on known
findings; :func:`completing_findings` tells which unknown findings could still make a rule fire,
so that the interview asks those questions first.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

from backmice.engine.model import source_of
from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.rules import Compare, Rule, to_data
from backmice.kb.schema import RedFlag, Urgency
from backmice.results import RedFlagHit


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


def fired(kb: KnowledgeBase, findings: Mapping[str, Value]) -> tuple[RedFlagHit, ...]:
    """The red flags whose rules hold for these findings, most urgent first."""
    return tuple(hit for _, rule, hit in _compiled(kb) if rule.evaluate(findings))


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


@functools.cache
def _rules_by_name(kb: KnowledgeBase) -> dict[str, tuple[tuple[RedFlag, Rule], ...]]:
    index: dict[str, list[tuple[RedFlag, Rule]]] = {}
    for flag, rule, _ in _compiled(kb):
        for name in rule.names():
            index.setdefault(name, []).append((flag, rule))
    return {k: tuple(v) for k, v in index.items()}


def completing_findings(kb: KnowledgeBase, findings: Mapping[str, Value],
                        candidates: list[str]) -> dict[str, RedFlag]:
    """Unknown findings that, answered alone, could fire a red flag not yet fired.

    Returns finding id -> the most urgent flag it could complete.
    """
    probes = _probe_values(kb)
    by_name = _rules_by_name(kb)
    out: dict[str, RedFlag] = {}
    trial = dict(findings)
    already: dict[str, bool] = {}
    for fid in candidates:
        for flag, rule in by_name.get(fid, ()):
            if fid in out and out[fid].urgency.rank <= flag.urgency.rank:
                continue
            if flag.id not in already:
                already[flag.id] = rule.evaluate(findings)
            if already[flag.id]:
                continue
            for value in probes[fid]:
                trial[fid] = value
                if rule.evaluate(trial):
                    out[fid] = flag
                    break
            trial.pop(fid, None)
    return out


def most_urgent(hits: tuple[RedFlagHit, ...]) -> Urgency | None:
    if not hits:
        return None
    return min((Urgency(h.urgency) for h in hits), key=lambda u: u.rank)
