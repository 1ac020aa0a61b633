"""The reasoning shown to the clinician: each known finding's likelihood ratio for an outcome.

The ratio compares P(finding | outcome) with P(finding | the other outcomes weighted by their
priors). Findings of a dependence group are shown together, as one piece of evidence, because the
engine counts them together.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from backmice.engine.bayes import group_likelihood_ratio
from backmice.engine.model import CompiledModel, source_of
from backmice.findings import Value
from backmice.kb.base import KnowledgeBase
from backmice.results import Contribution, Source

NEUTRAL = 0.05  # ratios within 5% of 1 neither support nor oppose


@functools.cache
def _sources(kb: KnowledgeBase, model: CompiledModel) -> dict[str, tuple[Source, ...]]:
    out = {fid: tuple(source_of(p) for p in t.sources) for fid, t in model.tables.items()}
    out.update({g.id: tuple(source_of(p) for p in g.sources) for g in model.groups})
    return out


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


def contributions(kb: KnowledgeBase, model: CompiledModel, outcome: int,
                  findings: Mapping[str, Value]) -> tuple[tuple[Contribution, ...],
                                                          tuple[Contribution, ...]]:
    """(supporting, opposing) contributions for one outcome, strongest first."""
    sources = _sources(kb, model)
    items: list[Contribution] = []
    for fid, value in findings.items():
        table = model.tables.get(fid)
        if table is None:
            continue
        vi = table.value_index(value)
        label = kb.findings[fid].label
        shown = show_value(kb, fid, value)
        if table.bins:
            shown = f"{shown} ({kb.findings[fid].bins[vi].label})"
        items.append(Contribution(fid, label, shown, table.lrs[vi][outcome],
                                  sources[fid][outcome]))
    for group in model.groups:
        known = [m for m in group.members if m in findings]
        if known:
            shown = ", ".join(f"{kb.findings[m].label.lower()}: {show_value(kb, m, findings[m])}"
                              for m in known)
            lr = group_likelihood_ratio(model, group, outcome, findings)
            items.append(Contribution(group.id, group.label, shown, lr, sources[group.id][outcome]))
    supporting = sorted((c for c in items if c.likelihood_ratio > 1 + NEUTRAL),
                        key=lambda c: -c.likelihood_ratio)
    opposing = sorted((c for c in items if c.likelihood_ratio < 1 - NEUTRAL),
                      key=lambda c: c.likelihood_ratio)
    return tuple(supporting), tuple(opposing)
