"""Expected information gain of a question: the exact value, and a cheap estimate of it.

The gain of asking finding F is the expected drop in the entropy (bits) of the differential once
its answer is known: ``H(p) - sum_v P(v) H(p | v)`` (:func:`gain`, the number a question shows).

:func:`estimate` computes the same mutual information from its other, symmetric side,

    I(F; O) = H(F) - sum_o P(o) H(F | o),

where H(F | o), the entropy of the answer given the outcome, does not depend on the case: it is
computed once per finding (``Answers.conditional``). A case then only needs the answer's
marginal P(v) = sum_o P(o) P(v | o), one dot product per value but the last (the marginals add
up to 1), where the exact form needs a product, a division and a logarithm per value and
outcome. Both forms add a few dozen terms of at most a few bits, so their results differ only
by rounding, well under 1e-13 bits; ``TOLERANCE`` is set far above that. ``questions.rank``
uses the estimates to find the few questions whose exact gain decides what is shown.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import mul, truediv

from backmice.engine.bayes import group_likelihoods
from backmice.engine.model import CompiledModel
from backmice.findings import Value

TOLERANCE = 1e-9  # bits: an estimate is this close to the exact gain (the real error is < 1e-13)


def entropy(p: Sequence[float]) -> float:
    """-sum p log2 p over the positive entries of p (bits)."""
    if p and min(p) > 0.0:  # every term is defined: the same sum, with the loop in C
        return -sum(map(mul, p, map(math.log2, p)))
    return -sum(x * math.log2(x) for x in p if x > 0.0)


def gain(post: Sequence[float], rows: Sequence[Sequence[float]], h: float) -> float:
    """The exact expected information gain; ``rows[v][o]`` = P(v | o), ``h`` = entropy(post)."""
    expected = 0.0
    for row in rows:
        joint = list(map(mul, post, row))
        pv = sum(joint)
        if pv > 0.0:
            expected += pv * entropy(list(map(truediv, joint, repeat(pv))))
    return h - expected


@dataclass(frozen=True, slots=True)
class Answers:
    """The possible answers to one question, as the gain computations read them."""

    rows: tuple[tuple[float, ...], ...]  # P(value | outcome, what is known), per value
    conditional: tuple[float, ...]  # H(answer | outcome), per outcome

    @classmethod
    def of(cls, rows: Sequence[Sequence[float]]) -> Answers:
        rows = tuple(tuple(row) for row in rows)
        return cls(rows, tuple(entropy(column) for column in zip(*rows, strict=True)))


def estimate(post: Sequence[float], answers: Answers) -> float:
    """The expected information gain, up to TOLERANCE (see the module docstring)."""
    marginal = [sum(map(mul, post, row)) for row in answers.rows[:-1]]
    marginal.append(1.0 - sum(marginal))
    return entropy(marginal) - sum(map(mul, post, answers.conditional))


def _truth_values(members: Sequence[str], findings: Mapping[str, Value]
                  ) -> tuple[bool | None, ...]:
    """Each group member as the likelihoods read it: unknown (None), yes or no (truth value)."""
    return tuple([v if v is None else bool(v) for v in map(findings.get, members)])


@functools.cache
def _table_answers(model: CompiledModel) -> dict[str, Answers]:
    """The answers of every finding with a likelihood table (fixed per model)."""
    return {fid: Answers.of(table.probs) for fid, table in model.tables.items()}


def answers(model: CompiledModel, fid: str, findings: Mapping[str, Value]) -> Answers:
    """The answers to the question about ``fid``, an unknown finding, given the known ones.

    A dependence-group member's answer depends on the group's other members, yes, no or
    unknown: few combinations, each computed once.
    """
    table = _table_answers(model).get(fid)
    if table is not None:
        return table
    return _group_answers(model, fid, _truth_values(model.group_of[fid].members, findings))


@functools.cache
def _group_answers(model: CompiledModel, fid: str, values: tuple[bool | None, ...]) -> Answers:
    group = model.group_of[fid]
    known = {m: v for m, v in zip(group.members, values, strict=True) if v is not None}
    return Answers.of(_group_rows(model, fid, known))


def _group_rows(model: CompiledModel, fid: str, findings: Mapping[str, Value]
                ) -> list[list[float]]:
    """P(fid true | outcome, known members), and its complement."""
    group = model.group_of[fid]
    base = group_likelihoods(group, findings)
    with_true = dict(findings)
    with_true[fid] = True
    p_true = [a / b for a, b in zip(group_likelihoods(group, with_true), base, strict=True)]
    return [p_true, [1.0 - p for p in p_true]]
