"""One validation run as one JSON-ready report: ``backmice validate``.

Without ``folds`` the knowledge base is scored as it stands; a file that is the corpus the
knowledge base was fitted on is then flagged ``in_sample`` (those figures are not a measure of
anything). With ``folds`` every case is scored out of sample (:mod:`.crossval`). Either way the
report carries the metrics of case-format.md, 95% intervals over sources, the confusion matrices,
the near-misses inside the back-mouse family and the calibration table.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

from backmice.evaluation import Report, metrics, read_cases, score_case
from backmice.evaluation.crossval import cross_validate
from backmice.evaluation.intervals import SAMPLES, bootstrap, resampled_unit
from backmice.evaluation.tables import (
    calibration,
    confusion,
    family_confusion,
    family_near_misses,
)
from backmice.interop.cases import CaseRecord
from backmice.interop.notes import TextMode
from backmice.kb.base import KnowledgeBase

# the headline metrics, in the order the terminal table prints them
HEADLINE = ("n", "sources", "top1", "top3", "family_top1", "urgent_recall", "urgent_open_recall",
            "urgent_precision", "brier", "mean_questions_to_top1", "interview_never_top1",
            "other_named_exactly")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load(kb: KnowledgeBase, text: str, text_mode: TextMode = TextMode.NOTE
         ) -> tuple[list[CaseRecord], Report]:
    """The cases of a JSON Lines text (findings as ``text_mode`` reads them), and a report
    holding its bad lines."""
    report = Report()
    cases = []
    for _, item in read_cases(text.splitlines(), kb, text_mode):
        if isinstance(item, CaseRecord):
            if item.gold:
                cases.append(item)
            else:
                report.skipped_without_gold += 1
        else:
            report.bad_lines.append(item)
    return cases, report


def validation_report(kb: KnowledgeBase, text: str, *, later: bool = False,
                      setting: str | None = None, interview: bool = True, folds: int = 0,
                      samples: int = SAMPLES, case_mix_priors: bool = False,
                      text_mode: TextMode = TextMode.NOTE) -> dict[str, Any]:
    cases, report = load(kb, text, text_mode)
    report.interviewed = interview
    extra: dict[str, Any] = {}
    if folds:
        cv = cross_validate(kb, cases, later=later, setting=setting, interview=interview,
                            folds=folds, case_mix_priors=case_mix_priors)
        report.results = cv.results
        extra["cross_validation"] = {
            "grouped_by": "source", "folds": cv.folds, "sources": cv.sources,
            "nested_choices": [asdict(c) for c in cv.choices],
            "case_mix_priors": case_mix_priors,
        }
    else:
        report.results = [score_case(kb, c, later=later, setting=setting, interview=interview)
                          for c in cases]
    m = metrics(kb, report)
    if not report.results:
        return m
    stamp = kb.fit.corpus
    in_sample = not folds and stamp is not None and stamp.sha256 == digest(text)
    m.update({
        "out_of_sample": bool(folds),
        "text_mode": text_mode.value,
        "in_sample": in_sample,
        "sources": len({r.source for r in report.results}),
        "intervals_95": bootstrap(kb, report.results, samples=samples),
        "intervals_resample": resampled_unit(report.results),
        "confusion": confusion(kb, report.results),
        "family_confusion": family_confusion(kb, report.results),
        "family_near_misses": family_near_misses(kb, report.results),
        "calibration": calibration(report.results),
        **extra,
    })
    if in_sample:
        m["warning"] = ("these cases are the corpus the knowledge base was fitted on: the "
                        "figures are in-sample; run with --folds for out-of-sample figures")
    return m
