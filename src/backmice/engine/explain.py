"""The reasoning shown to the clinician: each known finding's likelihood ratio for an outcome.

The ratio compares P(finding | outcome) with P(finding | the other outcomes weighted by their
priors). Findings of a dependence group are shown together, as one piece of evidence, because the
engine counts them together.

An assessment explains several outcomes with the same findings, so :func:`evidence` reads the
findings once (table rows, shown values, group ratios) and :func:`explain` then only picks and
sorts the ratios of one outcome. The Contribution of a yes/no or category value depends on
nothing else, so those are built once per compiled model (``_Precomputed``) and shared.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

from backmice.engine.bayes import Row, group_ratios, table_rows
from backmice.engine.model import CompiledModel, source_of
from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.results import Contribution, Source

NEUTRAL = 0.05  # ratios within 5% of 1 neither support nor oppose
_ABOVE = 1 + NEUTRAL
_BELOW = 1 - NEUTRAL
_RATIO = attrgetter("likelihood_ratio")


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


@dataclass(frozen=True, slots=True)
class _Precomputed:
    """Per compiled model: sources, labels, and ready Contributions for yes/no/category values."""

    sources: dict[str, tuple[Source, ...]]  # finding or group id -> per outcome
    labels: dict[str, str]
    # finding id -> value (True/False or a category) -> one Contribution per outcome
    made: dict[str, dict[Value, tuple[Contribution, ...]]]


def _table_value(fid: str, key: str) -> Value:
    """The finding value behind a table row id ("true" is the value True)."""
    return key == "true" if FINDINGS[fid].kind is Kind.BOOLEAN else key


@functools.cache
def _precomputed(kb: KnowledgeBase, model: CompiledModel) -> _Precomputed:
    sources = {fid: tuple(source_of(p) for p in t.sources) for fid, t in model.tables.items()}
    sources.update({g.id: tuple(source_of(p) for p in g.sources) for g in model.groups})
    labels = {fid: kb.findings[fid].label for fid in model.tables}
    made: dict[str, dict[Value, tuple[Contribution, ...]]] = {}
    for fid, table in model.tables.items():
        if table.bins:  # the shown number is the case's own value: built per assessment
            continue
        made[fid] = {}
        for key in table.values:
            value = _table_value(fid, key)
            vi = table.value_index(value)
            shown = show_value(kb, fid, value)
            made[fid][value] = tuple(
                Contribution(fid, labels[fid], shown, lr, source)
                for lr, source in zip(table.lrs[vi], sources[fid], strict=True))
    return _Precomputed(sources, labels, made)


# One piece of evidence: (ratio per outcome index, ready Contributions per outcome or None, finding
# or group id, label, shown value).
Item = tuple[Sequence[float] | Mapping[int, float], tuple[Contribution, ...] | None, str, str, str]


def evidence(kb: KnowledgeBase, model: CompiledModel, findings: Mapping[str, Value],
             rows: list[Row] | None = None, outcomes: Iterable[int] | None = None) -> list[Item]:
    """Every known finding (and dependence group) with its ratios, in the findings' order.

    ``rows`` is ``bayes.table_rows`` of the findings when the caller has it; ``outcomes`` limits
    the dependence groups' ratios to the outcomes that will be explained (default: all).
    """
    pre = _precomputed(kb, model)
    items: list[Item] = []
    for fid, value, table, vi in table_rows(model, findings) if rows is None else rows:
        # Only exact booleans and strings have ready Contributions (1 == True is not a "yes").
        ready = pre.made[fid].get(value) if value.__class__ in (bool, str) and not table.bins \
            else None
        if ready is not None:
            items.append((table.lrs[vi], ready, fid, "", ""))
            continue
        shown = show_value(kb, fid, value)
        if table.bins:
            shown = f"{shown} ({kb.findings[fid].bins[vi].label})"
        items.append((table.lrs[vi], None, fid, pre.labels[fid], shown))
    for group in model.groups:
        known = [m for m in group.members if m in findings]
        if known:
            shown = ", ".join(f"{kb.findings[m].label.lower()}: {show_value(kb, m, findings[m])}"
                              for m in known)
            items.append((group_ratios(model, group, findings, outcomes), None, group.id,
                          group.label, shown))
    return items


def explain(kb: KnowledgeBase, model: CompiledModel, outcome: int, items: list[Item]
            ) -> tuple[tuple[Contribution, ...], tuple[Contribution, ...]]:
    """(supporting, opposing) contributions for one outcome, strongest first."""
    sources = _precomputed(kb, model).sources
    supporting: list[Contribution] = []
    opposing: list[Contribution] = []
    for ratios, ready, fid, label, shown in items:
        lr = ratios[outcome]
        if lr > _ABOVE:
            chosen = supporting
        elif lr < _BELOW:
            chosen = opposing
        else:
            continue
        chosen.append(ready[outcome] if ready is not None
                      else Contribution(fid, label, shown, lr, sources[fid][outcome]))
    # stable sorts: equal ratios keep the findings' order
    supporting.sort(key=_RATIO, reverse=True)
    opposing.sort(key=_RATIO)
    return tuple(supporting), tuple(opposing)


def contributions(kb: KnowledgeBase, model: CompiledModel, outcome: int,
                  findings: Mapping[str, Value]) -> tuple[tuple[Contribution, ...],
                                                          tuple[Contribution, ...]]:
    """(supporting, opposing) contributions for one outcome, strongest first."""
    return explain(kb, model, outcome, evidence(kb, model, findings))
