"""The differential: Bayes over the modelled outcomes, with an explicit "other" outcome.

Findings are conditionally independent given the outcome, except the findings of a dependence
group (redness, warmth, spreading redness, fever), which share one latent cause per outcome:

    P(group findings | o) = q_o * prod P(f | cause) + (1 - q_o) * prod P(f | no cause)

so that one inflamed lump is not counted three times. A histopathology result then removes every
outcome it excludes. Unknown findings are simply absent from the sum.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from operator import add, sub

from backmice.engine.model import CompiledModel, FindingTable, GroupTable
from backmice.findings import Value


def _member_products(group: GroupTable, known: Mapping[str, Value]
                     ) -> tuple[float, float] | None:
    """P(known members | latent cause present), P(... | absent); None when no member is known."""
    with_cause = without_cause = 1.0
    seen = False
    for member, a, b in zip(group.members, group.if_present, group.if_absent, strict=True):
        value = known.get(member)
        if value is None:
            continue
        seen = True
        with_cause *= a if value else 1.0 - a
        without_cause *= b if value else 1.0 - b
    return (with_cause, without_cause) if seen else None


def group_likelihood(group: GroupTable, outcome: int, known: Mapping[str, Value]) -> float:
    """P(the known members of ``group`` | outcome); 1.0 when none is known."""
    products = _member_products(group, known)
    if products is None:
        return 1.0
    q = group.cause[outcome]
    return q * products[0] + (1.0 - q) * products[1]


def group_likelihoods(group: GroupTable, known: Mapping[str, Value]) -> list[float]:
    """:func:`group_likelihood` for every outcome at once (the same numbers, computed once)."""
    products = _member_products(group, known)
    if products is None:
        return [1.0] * len(group.cause)
    with_cause, without_cause = products
    return [q * with_cause + (1.0 - q) * without_cause for q in group.cause]


# A known finding that has a likelihood table: (finding id, value, table, row of the value).
Row = tuple[str, Value, FindingTable, int]


def table_rows(model: CompiledModel, findings: Mapping[str, Value]) -> list[Row]:
    """The table row of every known finding that has one, in the findings' order.

    The differential and the explanation both read these rows; an assessment finds them once.
    """
    tables = model.tables
    rows = []
    for fid, value in findings.items():
        table = tables.get(fid)
        if table is not None:
            # a bool or str is looked up directly (1 == True, so other types never are)
            kind = value.__class__
            vi = table.row_of.get(value) if kind is bool or kind is str else None
            rows.append((fid, value, table, table.value_index(value) if vi is None else vi))
    return rows


def log_scores(model: CompiledModel, findings: Mapping[str, Value],
               rows: list[Row] | None = None) -> list[float]:
    """Unnormalised log posterior of every outcome (``rows``: :func:`table_rows`, if known).

    Outcome by outcome, the log prior plus each known finding's log likelihood, added left to
    right in the findings' order: ``sum(column, start)`` does those additions in C, several
    times faster than a loop. (Python 3.11's ``sum`` of floats adds left to right exactly like
    ``+``; from 3.12 it compensates rounding errors, which can change the last bit of a score.)
    """
    if rows is None:
        rows = table_rows(model, findings)
    logs = [table.logs[vi] for _, _, table, vi in rows]
    scores = list(map(sum, zip(*logs, strict=True), model.log_prior)) if logs \
        else list(model.log_prior)
    for g, group in enumerate(model.groups):
        values = [findings.get(m) for m in group.members]
        if values.count(None) == len(values):
            continue  # no member known: the group's likelihood is 1
        # the likelihood reads each known member as yes or no (its truth value)
        known = tuple([v if v is None else bool(v) for v in values])
        scores = list(map(add, scores, _group_logs(model, g, known)))
    histology = findings.get("histopathology_finding")
    if histology is not None:
        allowed = model.histology[str(histology)]
        for i in range(len(scores)):
            if i not in allowed:
                scores[i] = -math.inf
    return scores


@functools.cache
def _group_logs(model: CompiledModel, g: int, known: tuple[bool | None, ...]) -> tuple[float, ...]:
    """log P(known members of group ``g`` | outcome) for one combination of yes/no/unknown
    members (at most 3 ** members combinations per group, each computed once)."""
    group = model.groups[g]
    values = {m: v for m, v in zip(group.members, known, strict=True) if v is not None}
    weight = model.weight
    return tuple([weight * math.log(x) for x in group_likelihoods(group, values)])


def normalise(scores: Sequence[float]) -> list[float]:
    """Softmax of log scores; outcomes at -inf get exactly 0."""
    top = max(scores)  # finite: every prior is positive
    weights = list(map(math.exp, map(sub, scores, repeat(top))))  # exp(-inf) is 0.0
    total = sum(weights)
    return [w / total for w in weights]


def posterior(model: CompiledModel, findings: Mapping[str, Value],
              rows: list[Row] | None = None) -> list[float]:
    """P(outcome | findings) for every outcome, in ``model.outcomes`` order; sums to 1."""
    return normalise(log_scores(model, findings, rows))


def group_likelihood_ratio(model: CompiledModel, group: GroupTable, outcome: int,
                           findings: Mapping[str, Value]) -> float:
    """LR of the known group members for one outcome against the prior-weighted others."""
    liks = group_likelihoods(group, findings)
    return group_ratio(model, liks, _weighted(model, liks), outcome)


def _weighted(model: CompiledModel, liks: Sequence[float]) -> float:
    return sum(p * lik for p, lik in zip(model.prior, liks, strict=True))


def group_ratios(model: CompiledModel, group: GroupTable, findings: Mapping[str, Value],
                 outcomes: Iterable[int] | None = None) -> dict[int, float]:
    """:func:`group_likelihood_ratio` for several outcomes (default all), sharing the
    prior-weighted sum."""
    liks = group_likelihoods(group, findings)
    total = _weighted(model, liks)
    return {i: group_ratio(model, liks, total, i)
            for i in (range(len(liks)) if outcomes is None else outcomes)}


def group_ratio(model: CompiledModel, liks: Sequence[float], total: float, outcome: int) -> float:
    rest = total - model.prior[outcome] * liks[outcome]
    return (liks[outcome] / (rest / (1.0 - model.prior[outcome]))) ** model.weight
