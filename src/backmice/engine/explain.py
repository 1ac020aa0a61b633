"""The reasoning shown to the clinician: each known finding's likelihood ratio for an outcome.

The ratio compares P(finding | outcome) with P(finding | the other outcomes weighted by their
priors). Findings of a dependence group are shown together, as one piece of evidence, because the
engine counts them together.

An assessment explains several outcomes with the same findings, so :func:`evidence` reads the
findings once and :func:`explain` then only picks one outcome's entries and sorts them. Whether a
yes/no or category value supports or opposes an outcome, and its Contribution, depend on nothing
else, so those are built once per compiled model (``_Precomputed``) and shared; numbers (whose
shown value is the case's own) and dependence groups are built per assessment.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter

from backmice.engine.bayes import Row, group_ratios, table_rows
from backmice.engine.model import CompiledModel, GroupTable, source_of
from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.results import Contribution, Source

NEUTRAL = 0.05  # ratios within 5% of 1 neither support nor oppose
_ABOVE = 1 + NEUTRAL
_BELOW = 1 - NEUTRAL
_RATIO = attrgetter("likelihood_ratio")

# Per outcome index: the Contribution if it supports (or, in the other row, opposes) that
# outcome, else None. A tuple over all outcomes, or a dict over the outcomes being explained.
Side = Sequence[Contribution | None] | Mapping[int, Contribution | None]


def show_value(kb: KnowledgeBase, fid: str, value: Value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    entry = kb.findings[fid]
    if isinstance(value, str) and value in entry.value_labels:
        return entry.value_labels[value]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _sides(made: Iterable[Contribution]) -> tuple[tuple[Contribution | None, ...],
                                                   tuple[Contribution | None, ...]]:
    made = tuple(made)
    return (tuple(c if c.likelihood_ratio > _ABOVE else None for c in made),
            tuple(c if c.likelihood_ratio < _BELOW else None for c in made))


@dataclass(frozen=True, slots=True)
class _Precomputed:
    """Per compiled model: sources, labels, and the sides of yes/no and category values."""

    sources: dict[str, tuple[Source, ...]]  # finding or group id -> per outcome
    labels: dict[str, str]
    # finding id -> (value type, per table row (supporting side, opposing side)). The value
    # type is bool for yes/no tables, str for categories; any other type (1 for True, "true"
    # for True, ...) is shown as given, so its sides are built per assessment.
    sides: dict[str, tuple[type, list[tuple[Side, Side]]]]
    bin_labels: dict[str, tuple[str, ...]]  # numeric finding id -> the label of each bin


@functools.cache
def _precomputed(kb: KnowledgeBase, model: CompiledModel) -> _Precomputed:
    sources = {fid: tuple(source_of(p) for p in t.sources) for fid, t in model.tables.items()}
    sources.update({g.id: tuple(source_of(p) for p in g.sources) for g in model.groups})
    labels = {fid: kb.findings[fid].label for fid in model.tables}
    sides: dict[str, tuple[type, list[tuple[Side, Side]]]] = {}
    bin_labels = {fid: tuple(b.label for b in kb.findings[fid].bins)
                  for fid, table in model.tables.items() if table.bins}
    for fid, table in model.tables.items():
        if table.bins:
            continue
        boolean = FINDINGS[fid].kind is Kind.BOOLEAN
        per_row = []
        for vi, key in enumerate(table.values):
            value: Value = key == "true" if boolean else key
            assert table.value_index(value) == vi
            shown = show_value(kb, fid, value)
            per_row.append(_sides(
                Contribution(fid, labels[fid], shown, lr, source)
                for lr, source in zip(table.lrs[vi], sources[fid], strict=True)))
        sides[fid] = (bool if boolean else str, per_row)
    return _Precomputed(sources, labels, sides, bin_labels)


def _built(fid: str, label: str, shown: str, ratios: Sequence[float] | Mapping[int, float],
           sources: Sequence[Source], outcomes: Iterable[int], n: int) -> tuple[Side, Side]:
    """The sides of one piece of evidence for some of the ``n`` outcomes, built now."""
    support: list[Contribution | None] = [None] * n
    oppose: list[Contribution | None] = [None] * n
    for i in outcomes:
        lr = ratios[i]
        if lr > _ABOVE:
            support[i] = Contribution(fid, label, shown, lr, sources[i])
        elif lr < _BELOW:
            oppose[i] = Contribution(fid, label, shown, lr, sources[i])
    return support, oppose


def evidence(kb: KnowledgeBase, model: CompiledModel, findings: Mapping[str, Value],
             rows: list[Row] | None = None, outcomes: Sequence[int] | None = None
             ) -> tuple[list[Side], list[Side]]:
    """(supporting sides, opposing sides) of every known finding and dependence group, in the
    findings' order.

    ``rows`` is ``bayes.table_rows`` of the findings when the caller has it; ``outcomes`` are
    the outcomes that will be explained (default: all); only they are built for numbers and
    dependence groups.
    """
    pre = _precomputed(kb, model)
    precomputed = pre.sides
    n = len(model.outcomes)
    wanted = range(n) if outcomes is None else outcomes
    sides: list[tuple[Side, Side]] = []
    for fid, value, table, vi in table_rows(model, findings) if rows is None else rows:
        known = precomputed.get(fid)
        if known is not None and value.__class__ is known[0]:
            sides.append(known[1][vi])
            continue
        shown = f"{value:g}" if value.__class__ is float else show_value(kb, fid, value)
        if table.bins:
            shown = f"{shown} ({pre.bin_labels[fid][vi]})"
        sides.append(_built(fid, pre.labels[fid], shown, table.lrs[vi], pre.sources[fid],
                            wanted, n))
    for g, group in enumerate(model.groups):
        values = tuple([findings.get(m, _ABSENT) for m in group.members])
        if values.count(_ABSENT) == len(values):
            continue
        # yes/no answers (or absent members) take the group's few precomputed combinations
        if all(v is True or v is False or v is _ABSENT for v in values):
            sides.append(_group_sides(kb, model, g, values))
        else:
            sides.append(_group_built(kb, model, group, findings, wanted))
    if not sides:
        return [], []
    support, oppose = zip(*sides, strict=True)
    return list(support), list(oppose)


_ABSENT = object()  # a dependence-group member not in the findings


def _group_built(kb: KnowledgeBase, model: CompiledModel, group: GroupTable,
                 findings: Mapping[str, Value], outcomes: Iterable[int]) -> tuple[Side, Side]:
    known = [m for m in group.members if m in findings]
    shown = ", ".join(f"{kb.findings[m].label.lower()}: {show_value(kb, m, findings[m])}"
                      for m in known)
    return _built(group.id, group.label, shown, group_ratios(model, group, findings, outcomes),
                  _precomputed(kb, model).sources[group.id], outcomes, len(model.outcomes))


@functools.cache
def _group_sides(kb: KnowledgeBase, model: CompiledModel, g: int,
                 values: tuple[object, ...]) -> tuple[Side, Side]:
    """The sides of group ``g`` for one combination of yes/no/absent members, for every outcome
    (at most 3 ** members combinations per group, each built once)."""
    group = model.groups[g]
    findings = {m: v for m, v in zip(group.members, values, strict=True) if v is not _ABSENT}
    return _group_built(kb, model, group, findings, range(len(model.outcomes)))


def explain(sides: tuple[list[Side], list[Side]], outcome: int
            ) -> tuple[tuple[Contribution, ...], tuple[Contribution, ...]]:
    """(supporting, opposing) contributions for one outcome, strongest first."""
    pick = itemgetter(outcome)
    # filter(None, ...) drops the None entries (a Contribution is always true); stable sorts:
    # equal ratios keep the findings' order
    supporting = sorted(filter(None, map(pick, sides[0])), key=_RATIO, reverse=True)
    opposing = sorted(filter(None, map(pick, sides[1])), key=_RATIO)
    return tuple(supporting), tuple(opposing)


def contributions(kb: KnowledgeBase, model: CompiledModel, outcome: int,
                  findings: Mapping[str, Value]) -> tuple[tuple[Contribution, ...],
                                                          tuple[Contribution, ...]]:
    """(supporting, opposing) contributions for one outcome, strongest first."""
    return explain(evidence(kb, model, findings, outcomes=(outcome,)), outcome)
