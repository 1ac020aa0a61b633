"""Which question to ask next: red-flag questions first, then expected information gain.

The expected information gain of a finding is the expected drop in the entropy (bits) of the
differential over all modelled outcomes once its answer is known:
``H(p) - sum_v P(v) H(p | v)``. A red-flag question is an unanswered finding that could, on its
own, make a red flag fire; those come first, most urgent first.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Mapping, Sequence

from backmice.engine.bayes import group_likelihood
from backmice.engine.model import CompiledModel
from backmice.engine.red_flags import Screening, completing_findings, screen
from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import RedFlag
from backmice.results import Question

MIN_GAIN = 0.01  # bits: below this a question is not worth asking


def entropy(p: Sequence[float]) -> float:
    return -sum(x * math.log2(x) for x in p if x > 0.0)


def _gain(post: Sequence[float], rows: Sequence[Sequence[float]], h: float) -> float:
    expected = 0.0
    for row in rows:
        joint = [a * b for a, b in zip(post, row, strict=True)]
        pv = sum(joint)
        if pv > 0.0:
            expected += pv * entropy([j / pv for j in joint])
    return h - expected


def _rows(model: CompiledModel, fid: str, findings: Mapping[str, Value]) -> list[list[float]]:
    """P(value | outcome, what is known) for each value of one finding."""
    table = model.tables.get(fid)
    if table is not None:
        return [list(r) for r in table.probs]
    group = model.group_of[fid]
    n = len(model.outcomes)
    base = [group_likelihood(group, i, findings) for i in range(n)]
    with_true = dict(findings)
    with_true[fid] = True
    p_true = [group_likelihood(group, i, with_true) / base[i] for i in range(n)]
    return [p_true, [1.0 - p for p in p_true]]


def options(kb: KnowledgeBase, fid: str) -> tuple[tuple[str, str], ...]:
    spec, entry = FINDINGS[fid], kb.findings[fid]
    if spec.kind is Kind.BOOLEAN:
        return (("true", "yes"), ("false", "no"))
    if spec.kind is Kind.CATEGORY:
        return tuple((v, entry.value_labels.get(v, v.replace("_", " "))) for v in spec.values)
    return tuple((b.id, b.label) for b in entry.bins)


@functools.cache
def _askable(kb: KnowledgeBase) -> tuple[str, ...]:
    """Findings that can be asked, in knowledge-base order (later tests are work-up)."""
    return tuple(f for f in kb.findings if not FINDINGS[f].later_test)


def candidates(kb: KnowledgeBase, findings: Mapping[str, Value],
               skip: Collection[str] = ()) -> list[str]:
    """Unanswered questions (later tests are work-up, not questions)."""
    if not skip:
        return [f for f in _askable(kb) if f not in findings]
    return [f for f in _askable(kb) if f not in findings and f not in skip]


def rank(kb: KnowledgeBase, model: CompiledModel, findings: Mapping[str, Value],
         post: Sequence[float], *, skip: Collection[str] = (), limit: int | None = 5,
         red: Mapping[str, RedFlag] | None = None) -> tuple[Question, ...]:
    """The most useful unanswered questions, red-flag questions first.

    ``red`` is :func:`red_flag_questions` when the caller already has it.
    """
    todo = candidates(kb, findings, skip)
    if red is None:
        red = completing_findings(kb, findings, todo)
    h = entropy(post)
    scored = []
    for fid in todo:
        gain = max(0.0, _gain(post, _rows(model, fid, findings), h))
        flag = red.get(fid)
        if flag is None and gain < MIN_GAIN:
            continue
        key = (0, flag.urgency.rank, -gain) if flag else (1, 0, -gain)
        scored.append((key, fid, gain, flag))
    scored.sort(key=lambda t: t[0])
    out = []
    for _, fid, gain, flag in scored[:limit]:
        q = kb.findings[fid].question
        out.append(Question(
            finding=fid, clinician=q.clinician, patient=q.patient,
            reason=f"red flag: {flag.title}" if flag else "information gain",
            expected_information_gain=round(gain, 4), red_flag=flag is not None,
            options=options(kb, fid),
        ))
    return tuple(out)


def red_flag_questions(kb: KnowledgeBase, findings: Mapping[str, Value],
                       skip: Collection[str] = (), *,
                       screening: Screening | None = None) -> dict[str, RedFlag]:
    """Unanswered findings that could fire a red flag → the most urgent flag each could fire.

    ``screening`` is ``red_flags.screen`` of the same findings when the caller already has it.
    The same as ``completing_findings(kb, findings, candidates(kb, findings, skip))``, without
    listing every candidate: only the few findings that could fire a flag are ordered.
    """
    could = (screening or screen(kb, findings)).could_fire
    if not could:
        return {}
    position = _askable_position(kb)
    chosen = [f for f in could if f in position and f not in findings and f not in skip]
    chosen.sort(key=position.__getitem__)
    return {f: could[f] for f in chosen}


@functools.cache
def _askable_position(kb: KnowledgeBase) -> dict[str, int]:
    return {f: i for i, f in enumerate(_askable(kb))}
