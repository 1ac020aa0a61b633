"""Out-of-sample figures on a corpus of real cases: cross-validation grouped by source.

Every case is scored by a knowledge base fitted WITHOUT any case of its source:

* the sources are dealt into ``folds`` folds (sorted by a hash of their name, so the split is
  fixed and does not follow the file's order);
* for each fold, the likelihoods are fitted on the other folds (:mod:`.fitting`), and the two
  global settings, the pseudo-count scale and the log-likelihood weight, are chosen on those
  other folds alone by an inner cross-validation (nested: the held-out fold never takes part in
  any choice) on the log loss of the gold differential entry, with the one-standard-error rule;
* the held-out cases are then scored with that knowledge base.

The pooled held-out results give the metrics; :mod:`.intervals` gives their intervals.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from backmice.evaluation import CaseResult, score_case
from backmice.evaluation.fitting import count, fit_kb, with_case_mix_priors, with_weight
from backmice.interop.cases import CaseRecord
from backmice.kb.base import KnowledgeBase

FOLDS = 10
INNER_FOLDS = 5
SCALES = (0.1, 0.25, 1.0, 4.0)
WEIGHTS = (0.25, 0.4, 0.55, 0.7, 0.85, 1.0)
FLOOR = 1e-6  # log loss of a probability of 0 is taken at this probability


@dataclass(frozen=True)
class Choice:
    scale: float
    weight: float
    log_loss: float


@dataclass
class CrossValidation:
    results: list[CaseResult] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)  # one per outer fold
    folds: int = 0
    sources: int = 0


def _source(case: CaseRecord) -> str:
    return case.source or case.id


def split(cases: Sequence[CaseRecord], folds: int) -> list[list[CaseRecord]]:
    """The cases dealt into at most ``folds`` folds, every source whole inside one fold."""
    sources = sorted({_source(c) for c in cases},
                     key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    k = max(1, min(folds, len(sources)))
    fold_of = {s: i % k for i, s in enumerate(sources)}
    out: list[list[CaseRecord]] = [[] for _ in range(k)]
    for c in cases:
        out[fold_of[_source(c)]].append(c)
    return out


def _losses(results: Sequence[CaseResult]) -> list[float]:
    """Each case's negative log probability of its gold differential entry."""
    return [-math.log(max(r.probabilities[r.gold_entry], FLOOR)) for r in results]


def log_loss(results: Sequence[CaseResult]) -> float:
    """Mean negative log probability given to the gold differential entry."""
    return sum(_losses(results)) / max(1, len(results))


def _score_all(kb: KnowledgeBase, cases: Sequence[CaseRecord], *, later: bool,
               setting: str | None, interview: bool) -> list[CaseResult]:
    return [score_case(kb, c, later=later, setting=setting, interview=interview) for c in cases]


def choose(kb: KnowledgeBase, cases: Sequence[CaseRecord], *, later: bool = False,
           setting: str | None = None, folds: int = INNER_FOLDS,
           scales: Sequence[float] = SCALES, weights: Sequence[float] = WEIGHTS) -> Choice:
    """The pseudo-count scale and log-likelihood weight chosen by cross-validation on
    ``cases`` (grouped by source), with the one-standard-error rule: of the settings whose log
    loss is within one standard error of the lowest, the one that changes the expert model
    least (the weight nearest 1, then the strongest pseudo-counts). On a small corpus the loss
    is flat over a wide range, and this keeps the knowledge base from being damped further
    than the data can show to be useful."""
    parts = split(cases, folds)
    losses: dict[tuple[float, float], list[CaseResult]] = {}
    for i, held_out in enumerate(parts):
        train = [c for j, p in enumerate(parts) if j != i for c in p]
        counts = count(kb, train)
        for scale in scales:
            fitted_at_scale = fit_kb(kb, counts, scale=scale)
            for weight in weights:
                fitted = with_weight(fitted_at_scale, weight)
                losses.setdefault((scale, weight), []).extend(
                    _score_all(fitted, held_out, later=later, setting=setting, interview=False))
    best = min(losses, key=lambda key: log_loss(losses[key]))
    values = _losses(losses[best])
    n = len(values)
    mean = sum(values) / n
    se = (sum((v - mean) ** 2 for v in values) / max(1, n - 1) / n) ** 0.5
    near = [key for key in losses if log_loss(losses[key]) <= mean + se]
    scale, weight = max(near, key=lambda key: (key[1], key[0]))
    return Choice(scale=scale, weight=weight, log_loss=round(log_loss(losses[(scale, weight)]), 4))


def cross_validate(kb: KnowledgeBase, cases: Sequence[CaseRecord], *, later: bool = False,
                   setting: str | None = None, interview: bool = True, folds: int = FOLDS,
                   inner_folds: int = INNER_FOLDS, scales: Sequence[float] = SCALES,
                   weights: Sequence[float] = WEIGHTS,
                   case_mix_priors: bool = False) -> CrossValidation:
    """Nested cross-validation grouped by source (see the module docstring).

    ``case_mix_priors`` is an experiment: the priors are also updated with the training folds'
    mix of diagnoses (:func:`~backmice.evaluation.fitting.with_case_mix_priors`)."""
    labelled = [c for c in cases if c.gold]
    parts = split(labelled, folds)
    cv = CrossValidation(folds=len(parts), sources=len({_source(c) for c in labelled}))
    for i, held_out in enumerate(parts):
        train = [c for j, p in enumerate(parts) if j != i for c in p]
        base = with_case_mix_priors(kb, train) if case_mix_priors else kb
        chosen = choose(base, train, later=later, setting=setting, folds=inner_folds,
                        scales=scales, weights=weights)
        fitted = fit_kb(base, count(base, train), scale=chosen.scale, weight=chosen.weight)
        cv.choices.append(chosen)
        cv.results.extend(_score_all(fitted, held_out, later=later, setting=setting,
                                     interview=interview))
    return cv
