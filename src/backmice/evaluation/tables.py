"""Tables of a validation run: confusion matrices, near-misses inside the back-mouse family, and
the calibration (reliability) table of the differential's probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backmice.evaluation import FAMILY, CaseResult, family_of
from backmice.kb.base import OTHER, KnowledgeBase

CALIBRATION_BINS = 10


def entries(kb: KnowledgeBase) -> list[str]:
    """The differential entries: the seven conditions, then "other"."""
    return [*kb.in_scope(), OTHER]


def confusion(kb: KnowledgeBase, rs: Sequence[CaseResult]) -> dict[str, Any]:
    """Rows are the gold entry, columns the predicted (top-1) entry, as counts."""
    labels = entries(kb)
    matrix = {g: dict.fromkeys(labels, 0) for g in labels}
    for r in rs:
        matrix[r.gold_entry][r.predicted] += 1
    return {"labels": labels, "rows_gold_columns_predicted": matrix}


def family_confusion(kb: KnowledgeBase, rs: Sequence[CaseResult]) -> dict[str, Any]:
    """The same with the three back-mouse conditions merged into one family."""
    labels = [FAMILY, *[e for e in entries(kb) if e not in kb.family()]]
    matrix = {g: dict.fromkeys(labels, 0) for g in labels}
    for r in rs:
        matrix[family_of(kb, r.gold_entry)][family_of(kb, r.predicted)] += 1
    return {"labels": labels, "rows_gold_columns_predicted": matrix}


def family_near_misses(kb: KnowledgeBase, rs: Sequence[CaseResult]) -> dict[str, Any]:
    """Misses where gold and prediction are both back-mouse conditions: wrong name, right
    family (treatment and urgency are much the same)."""
    family = set(kb.family())
    near = [{"id": r.id, "gold": r.gold, "predicted": r.predicted}
            for r in rs if r.predicted != r.gold_entry
            and r.predicted in family and r.gold_entry in family]
    return {"count": len(near), "cases": near}


def calibration(rs: Sequence[CaseResult], bins: int = CALIBRATION_BINS) -> list[dict[str, Any]]:
    """Every (case, differential entry) probability, in ``bins`` equal-width bins: the mean
    predicted probability against the share of them that were the gold entry."""
    totals = [[0, 0.0, 0] for _ in range(bins)]  # count, sum of p, hits
    for r in rs:
        for entry, p in r.probabilities.items():
            b = min(int(p * bins), bins - 1)
            totals[b][0] += 1
            totals[b][1] += p
            totals[b][2] += entry == r.gold_entry
    return [{"bin": f"{i / bins:.1f}-{(i + 1) / bins:.1f}", "count": c,
             "mean_predicted": round(s / c, 4) if c else None,
             "observed": round(h / c, 4) if c else None}
            for i, (c, s, h) in enumerate(totals)]
