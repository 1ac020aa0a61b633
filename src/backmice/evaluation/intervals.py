"""95% bootstrap intervals of the validation metrics, resampling whole sources.

Cases of one publication are not independent (same authors, same reporting habits), so the
bootstrap draws sources with replacement and keeps each drawn source's cases together (a cluster
bootstrap). A file whose cases all share one source (a synthetic set) is resampled case by case,
and the report says so. The seed is fixed: the same results give the same intervals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backmice.evaluation import CaseResult, core_metrics
from backmice.kb.base import KnowledgeBase

SAMPLES = 1000
SEED = 20261207
LEVEL = 0.95


def resampled_unit(rs: Sequence[CaseResult]) -> str:
    """What :func:`bootstrap` draws for these results: sources, or cases for one source."""
    return "sources" if len({r.source for r in rs}) > 1 else "cases"


def bootstrap(kb: KnowledgeBase, rs: Sequence[CaseResult], *, samples: int = SAMPLES,
              seed: int = SEED) -> dict[str, list[float] | None]:
    """Metric name -> [low, high] (percentile interval), or None where a sample had no value."""
    by_source: dict[str, list[CaseResult]] = {}
    for r in rs:
        by_source.setdefault(r.source, []).append(r)
    groups = list(by_source.values())
    if len(groups) == 1:
        groups = [[r] for r in groups[0]]
    if not groups:
        return {}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(samples):
        picked = rng.integers(0, len(groups), size=len(groups))
        sample = [r for i in picked for r in groups[i]]
        for name, value in core_metrics(kb, sample).items():
            if name != "n" and value is not None:
                draws.setdefault(name, []).append(float(value))
    tail = (1.0 - LEVEL) / 2 * 100
    out: dict[str, list[float] | None] = {}
    for name, values in draws.items():
        low, high = np.percentile(values, [tail, 100 - tail])
        out[name] = [round(float(low), 4), round(float(high), 4)]
    return out
