"""The knowledge base compiled into lookup tables for one care setting.

Compilation happens once per (knowledge base, setting) and turns the YAML numbers into plain
tuples indexed by outcome, so that an assessment is a handful of additions. Nothing here reads
files or clocks; :func:`compile_model` is cached on the (immutable) knowledge base.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from backmice.findings import Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.checks import value_ids
from backmice.kb.schema import FindingEntry, Likelihood, Provenance
from backmice.results import Source


@dataclass(frozen=True, slots=True)
class FindingTable:
    """P(value | outcome) for one finding: ``probs[value_index][outcome_index]``."""

    id: str
    values: tuple[str, ...]
    bins: tuple[tuple[float, float], ...]  # numeric findings: [low, high) per value
    index_of: dict[str, int]
    probs: tuple[tuple[float, ...], ...]
    logs: tuple[tuple[float, ...], ...]
    # P(value | not outcome), the other outcomes weighted by their priors: the explanation's LR.
    lrs: tuple[tuple[float, ...], ...]
    sources: tuple[Provenance, ...]  # per outcome
    # The row of each yes/no value (True, False) or category value (its string): value_index
    # without the call, for the values a validated finding set holds.
    row_of: dict[bool | str, int]

    def value_index(self, value: Value) -> int:
        """The row of a finding value: its bin for numbers, the value itself otherwise."""
        if not self.bins:
            return self.index_of["true" if value is True else "false" if value is False
                                 else str(value)]
        number = math.inf if value == "many" else float(value)  # type: ignore[arg-type]
        for i, (low, high) in enumerate(self.bins):
            if low <= number < high:
                return i
        return len(self.bins) - 1


@dataclass(frozen=True, slots=True)
class GroupTable:
    """Findings explained by one latent cause (see findings.yaml dependence_groups)."""

    id: str
    label: str
    members: tuple[str, ...]
    if_present: tuple[float, ...]  # P(member true | cause), per member
    if_absent: tuple[float, ...]  # P(member true | no cause), per member
    cause: tuple[float, ...]  # P(cause | outcome), per outcome
    sources: tuple[Provenance, ...]  # per outcome


@dataclass(frozen=True, slots=True, eq=False)
class CompiledModel:
    """All tables of one setting; hashed by identity (it is cached and never copied)."""

    setting: str
    outcomes: tuple[str, ...]
    prior: tuple[float, ...]
    log_prior: tuple[float, ...]
    tables: dict[str, FindingTable]
    groups: tuple[GroupTable, ...]
    group_of: dict[str, GroupTable]
    histology: dict[str, frozenset[int]]  # histopathology value -> allowed outcome indices
    # every log-likelihood is multiplied by this (fit.yaml likelihood_weight; 1 = as written)
    weight: float = 1.0

    def index(self, outcome: str) -> int:
        return self.outcomes.index(outcome)


def source_of(provenance: Provenance) -> Source:
    """A knowledge-base provenance as the Source carried by results."""
    return Source(grade=provenance.grade.value, citations=tuple(provenance.citations),
                  remark=provenance.remark)


def _distribution(entry: FindingEntry, lk: Likelihood) -> dict[str, float]:
    if lk.p is not None:
        return {"true": lk.p, "false": 1.0 - lk.p}
    total = sum(lk.values.values())  # type: ignore[union-attr]
    return {k: v / total for k, v in lk.values.items()}  # type: ignore[union-attr]


def _finding_table(kb: KnowledgeBase, fid: str, outcomes: tuple[str, ...],
                   prior: tuple[float, ...], weight: float = 1.0) -> FindingTable:
    """P(value | outcome) of one finding for every outcome. With ``weight`` w below 1 the
    log-likelihoods (and so the likelihood ratios shown) are damped: log P becomes w log P."""
    entry = kb.findings[fid]
    keys = value_ids(entry)
    per_outcome = []
    sources = []
    for o in outcomes:
        lk = kb.likelihoods[o].findings.get(fid, entry.default)
        per_outcome.append(_distribution(entry, lk))
        sources.append(lk.provenance if fid in kb.likelihoods[o].findings
                       else _default_source(entry))
    probs = tuple(tuple(d[k] for d in per_outcome) for k in keys)
    lrs = []
    for row in probs:
        lr_row = []
        for i, p in enumerate(row):
            rest = sum(prior[j] * row[j] for j in range(len(row)) if j != i) / (1.0 - prior[i])
            lr_row.append((p / rest) ** weight)
        lrs.append(tuple(lr_row))
    bins = tuple((b.low if b.low is not None else -math.inf,
                  b.high if b.high is not None else math.inf) for b in entry.bins)
    index_of = {k: i for i, k in enumerate(keys)}
    if bins:
        row_of: dict[bool | str, int] = {}
    elif set(keys) == {"true", "false"}:
        row_of = {True: index_of["true"], False: index_of["false"]}
    else:
        row_of = dict(index_of)
    return FindingTable(
        id=fid, values=keys, bins=bins, index_of=index_of, probs=probs,
        logs=tuple(tuple(weight * math.log(p) for p in row) for row in probs),
        lrs=tuple(lrs), sources=tuple(sources), row_of=row_of,
    )


def _default_source(entry: FindingEntry) -> Provenance:
    return Provenance(
        grade=entry.default.provenance.grade,
        citations=entry.default.provenance.citations,
        remark="no specific number for this condition: the population default is used "
               f"({entry.default.provenance.remark})",
    )


@functools.cache
def compile_model(kb: KnowledgeBase, setting: str) -> CompiledModel:
    """Tables for one care setting (cached per knowledge base and setting)."""
    s = kb.setting(setting)
    outcomes = tuple(s.priors)
    prior = tuple(s.priors[o].p for o in outcomes)
    total = sum(prior)
    prior = tuple(p / total for p in prior)
    weight = kb.fit.likelihood_weight
    grouped = {m.finding for g in kb.dependence_groups for m in g.members}
    tables = {
        fid: _finding_table(kb, fid, outcomes, prior, weight)
        for fid in kb.findings
        if fid not in grouped and fid != "histopathology_finding"
    }
    groups = tuple(
        GroupTable(
            id=g.id, label=g.label,
            members=tuple(m.finding for m in g.members),
            if_present=tuple(m.if_present for m in g.members),
            if_absent=tuple(m.if_absent for m in g.members),
            cause=tuple(kb.likelihoods[o].latent[g.id].p for o in outcomes),
            sources=tuple(kb.likelihoods[o].latent[g.id].provenance for o in outcomes),
        )
        for g in kb.dependence_groups
    )
    group_of = {m: g for g in groups for m in g.members}
    histology = {
        rid: frozenset(outcomes.index(o) for o in res.compatible)
        for rid, res in kb.histopathology.results.items()
    }
    return CompiledModel(
        setting=setting, outcomes=outcomes, prior=prior,
        log_prior=tuple(math.log(p) for p in prior),
        tables=tables, groups=groups, group_of=group_of, histology=histology, weight=weight,
    )
