"""Fitting the likelihoods on real published cases: the numbers behind ``backmice kb fit``.

Every likelihood P(finding value | outcome) becomes the mean of a Bayesian posterior:

* its prior is a Beta (yes/no findings) or Dirichlet (the others) centred on the expert or
  literature number, worth ``m`` pseudo-cases, where ``m`` depends on that number's grade
  (``fit.yaml``: ``pseudo_count_scale * pseudo_counts[grade]``); an outcome with no number of its
  own for a finding starts from the population default of ``findings.yaml``;
* its data are the corpus patients of that outcome in whom the finding was stated (``null``
  never counts), binned as the engine bins them.

So the fitted value is ``(m * expert + count) / (m + n)``: one case moves a number little, many
cases move it far. A number with no case keeps its expert value and grade. The findings of a
dependence group (redness, warmth, spreading redness, fever) share a latent cause and are not
fitted; neither are the priors, because published patients are a selected sample (rare and
unusual presentations are over-represented) that says nothing of how common each condition is.

Everything here is pure: a fit returns a new, in-memory :class:`KnowledgeBase`; writing it to the
YAML files is :mod:`backmice.evaluation.kb_writer`'s job.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from backmice.engine.model import compile_model
from backmice.interop.cases import CaseRecord
from backmice.kb.base import OTHER, KnowledgeBase
from backmice.kb.checks import value_ids
from backmice.kb.schema import ExpertValue, FitRecord, Grade, Likelihood, Provenance

# (outcome id, finding id) -> count of each value id among the cases where it was stated
Counts = dict[tuple[str, str], Counter[str]]

DIGITS = 4  # fitted probabilities are written with this many decimals


def gold_outcome(kb: KnowledgeBase, gold: str) -> str:
    """The modelled outcome a corpus gold label stands for: the condition itself, a modelled
    mimic (``other:<id>`` or an alias of ``fit.yaml``), else the explicit "other"."""
    if gold in kb.outcomes:
        return gold
    name = gold.removeprefix("other:")
    name = kb.fit.aliases.get(name, name)
    return name if name in kb.outcomes and name != OTHER else OTHER


def fitted_findings(kb: KnowledgeBase) -> tuple[str, ...]:
    """The findings whose likelihoods are fitted: every finding with its own table, except
    those ``fit.yaml`` keeps at their expert numbers (``not_fitted``)."""
    model = compile_model(kb, kb.priors.default_setting)
    return tuple(f for f in model.tables if f not in kb.fit.not_fitted)


def count(kb: KnowledgeBase, cases: Iterable[CaseRecord]) -> Counts:
    """Per (outcome, finding), how often each value was stated, over the cases' findings at
    the first visit together with their later tests."""
    tables = compile_model(kb, kb.priors.default_setting).tables
    counts: Counts = {}
    for case in cases:
        if not case.gold:
            continue
        outcome = gold_outcome(kb, case.gold)
        for fid, value in case.with_later_tests.items():
            table = tables.get(fid)
            if table is None:
                continue
            value_id = table.values[table.value_index(value)]
            counts.setdefault((outcome, fid), Counter())[value_id] += 1
    return counts


def _expert(kb: KnowledgeBase, outcome: str, fid: str) -> tuple[ExpertValue, Provenance, bool]:
    """The number a fit starts from, the provenance to keep, and whether it is the default."""
    own = kb.likelihoods[outcome].findings.get(fid)
    if own is not None and own.expert is not None:
        return own.expert, own.provenance, False
    if own is not None:
        return (ExpertValue(p=own.p, values=own.values, grade=own.provenance.grade),
                own.provenance, False)
    default = kb.findings[fid].default
    return (ExpertValue(p=default.p, values=default.values, grade=default.provenance.grade),
            default.provenance, True)


def _original(expert: ExpertValue, provenance: Provenance) -> Likelihood:
    grade = expert.grade
    remark = provenance.remark.split(" | fitted: ")[0]
    return Likelihood(p=expert.p, values=expert.values,
                      provenance=Provenance(grade=grade, citations=provenance.citations,
                                            remark=remark))


def _posterior(expert: ExpertValue, keys: tuple[str, ...], seen: Counter[str],
               m: float) -> tuple[float | None, dict[str, float] | None]:
    n = sum(seen.values())
    if expert.p is not None:
        p = (m * expert.p + seen["true"]) / (m + n)
        return round(p, DIGITS), None
    centre = expert.values or {}
    total = sum(centre.values())
    raw = {k: (m * centre[k] / total + seen[k]) / (m + n) for k in keys}
    values = {k: round(v, DIGITS) for k, v in raw.items()}
    # rounding may leave the sum a few 1e-4 off 1: give the difference to the largest value
    largest = max(values, key=values.__getitem__)
    values[largest] = round(values[largest] + 1.0 - sum(values.values()), DIGITS)
    return None, values


def fit_likelihood(kb: KnowledgeBase, outcome: str, fid: str, seen: Counter[str] | None,
                   scale: float) -> Likelihood | None:
    """The fitted likelihood of one (outcome, finding), or None where the outcome keeps the
    population default (no number of its own and no case)."""
    expert, provenance, is_default = _expert(kb, outcome, fid)
    n = sum(seen.values()) if seen else 0
    if n == 0:
        return None if is_default else _original(expert, provenance)
    m = scale * kb.fit.pseudo_counts[expert.grade]
    keys = value_ids(kb.findings[fid])
    p, values = _posterior(expert, keys, seen, m)  # type: ignore[arg-type]
    start = ("the population default" if is_default else f"the {expert.grade.value} number")
    remark = (_original(expert, provenance).provenance.remark
              + f" | fitted: {start} ({m:g} pseudo-cases) updated with {n} published "
              + ("case" if n == 1 else "cases"))
    return Likelihood(
        p=p, values=values,
        provenance=Provenance(grade=Grade.FITTED, citations=provenance.citations,
                              remark=remark),
        expert=expert,
        fit=FitRecord(cases=n, counts={k: seen[k] for k in sorted(seen)},  # type: ignore[index]
                      pseudo_count=m),
    )


def fit_kb(kb: KnowledgeBase, counts: Mapping[tuple[str, str], Counter[str]], *,
           scale: float | None = None, weight: float | None = None) -> KnowledgeBase:
    """A new knowledge base whose likelihoods are fitted on ``counts`` (see :func:`count`).

    ``scale`` multiplies every pseudo-count and ``weight`` is the log-likelihood weight
    (default: the values of ``fit.yaml``). Fitting is always from the expert numbers, so fitting
    a fitted knowledge base again on the same counts gives the same numbers.
    """
    scale = kb.fit.pseudo_count_scale if scale is None else scale
    weight = kb.fit.likelihood_weight if weight is None else weight
    findings = fitted_findings(kb)
    likelihoods = {}
    for outcome, lf in kb.likelihoods.items():
        entries = dict(lf.findings)
        for fid in findings:
            fitted = fit_likelihood(kb, outcome, fid, counts.get((outcome, fid)), scale)
            if fitted is None:
                entries.pop(fid, None)
            else:
                entries[fid] = fitted
        likelihoods[outcome] = lf.model_copy(update={"findings": entries})
    fit = kb.fit.model_copy(update={"pseudo_count_scale": scale, "likelihood_weight": weight})
    return dataclasses.replace(kb, likelihoods=MappingProxyType(likelihoods), fit=fit)


def with_weight(kb: KnowledgeBase, weight: float) -> KnowledgeBase:
    """The same knowledge base with another log-likelihood weight (no refit needed)."""
    fit = kb.fit.model_copy(update={"likelihood_weight": weight})
    return dataclasses.replace(kb, fit=fit)


def expert_kb(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge base with every fitted number back at its expert value, weight 1."""
    return fit_kb(kb, {}, weight=1.0)


PRIOR_PSEUDO_COUNT = 20.0  # weight of the expert priors in the prior-mix experiment


def with_case_mix_priors(kb: KnowledgeBase, cases: Iterable[CaseRecord],
                         strength: float = PRIOR_PSEUDO_COUNT) -> KnowledgeBase:
    """An EXPERIMENT, never written to the knowledge base: every setting's priors updated with
    the corpus's own mix of diagnoses (a Dirichlet with ``strength`` pseudo-cases).

    It measures how much of a miss comes from the priors: published patients are selected for
    being unusual, so their mix is not any clinic's, and a tool using it would over-call rare
    conditions in practice (see docs/validation.md)."""
    seen = Counter(gold_outcome(kb, c.gold) for c in cases if c.gold)
    n = sum(seen.values())
    settings = []
    for setting in kb.priors.settings:
        priors = {o: prior.model_copy(update={
                      "p": (strength * prior.p + seen[o]) / (strength + n)})
                  for o, prior in setting.priors.items()}
        settings.append(setting.model_copy(update={"priors": priors}))
    return dataclasses.replace(kb, priors=kb.priors.model_copy(update={"settings": settings}))
