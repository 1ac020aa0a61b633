"""Scoring extracted findings against gold annotations: micro precision, recall and F1 over
(finding, value) pairs, and the precision and recall of negated (false) findings.

A pair is right when the finding and its value match. Sizes, durations and nodule counts match
when they fall in the same bin of the knowledge base (the only way the engine uses them: "a
golf ball" read as 4 cm and annotated as 4.5 cm are both "2 to under 5 cm"); ages match within
one year; everything else exactly. A finding with the wrong value counts once as a false positive
and once as a false negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backmice.kb.base import KnowledgeBase

BINNED = ("size_cm", "duration_weeks", "nodule_count")


def _bin(kb: KnowledgeBase, finding: str, value: Any) -> str | None:
    if value == "many":
        value = 10_000
    for b in kb.findings[finding].bins:
        if value >= b.low and (b.high is None or value < b.high):
            return b.id
    return None


def same_value(kb: KnowledgeBase, finding: str, gold: Any, predicted: Any) -> bool:
    if isinstance(gold, bool) or isinstance(predicted, bool):
        return gold is predicted
    if finding in BINNED:
        return _bin(kb, finding, gold) == _bin(kb, finding, predicted)
    if finding == "age_years":
        return abs(float(gold) - float(predicted)) <= 1
    return bool(gold == predicted)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    neg_tp: int = 0  # predicted false, annotated false
    neg_fp: int = 0  # predicted false, annotated otherwise or not at all
    neg_fn: int = 0  # annotated false, not predicted false
    errors: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    @property
    def precision(self) -> float | None:
        return self._ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return self._ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return round(2 * p * r / (p + r), 4) if p and r else None

    @property
    def negation_precision(self) -> float | None:
        return self._ratio(self.neg_tp, self.neg_tp + self.neg_fp)

    @property
    def negation_recall(self) -> float | None:
        return self._ratio(self.neg_tp, self.neg_tp + self.neg_fn)

    def summary(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1,
                "negation_precision": self.negation_precision,
                "negation_recall": self.negation_recall, "tp": self.tp, "fp": self.fp,
                "fn": self.fn}


def score(kb: KnowledgeBase,
          pairs: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any]]]) -> Score:
    """``pairs``: (note id, gold findings, predicted findings) for each note."""
    s = Score()
    for note_id, gold, predicted in pairs:
        for fid in dict.fromkeys([*gold, *predicted]):
            g, p = gold.get(fid), predicted.get(fid)
            if p is False:
                if g is False:
                    s.neg_tp += 1
                else:
                    s.neg_fp += 1
            elif g is False:
                s.neg_fn += 1
            if g is not None and p is not None and same_value(kb, fid, g, p):
                s.tp += 1
                continue
            if p is not None:
                s.fp += 1
            if g is not None:
                s.fn += 1
            s.errors.append({"id": note_id, "finding": fid, "gold": g, "predicted": p})
    return s
