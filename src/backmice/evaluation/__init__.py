"""The metrics behind ``backmice validate``: how well the engine does on a file of cases.

Scoring follows case-format.md:

* top-1 / top-3 over the differential (the seven conditions and "other"); an ``other:*`` gold is
  right when "other" is ranked there (the named mimic inside it is reported separately);
* the same at the level of the back-mouse family (episacral lipoma, fascial fat herniation and
  iliac crest pain syndrome counted as one);
* urgent recall and precision (urgent = emergency, urgent_same_day or urgent_2_weeks);
* the Brier score: sum over the eight differential entries of (p - truth)^2, averaged over cases
  (0 is perfect, 2 the worst);
* mean questions to top-1: the adaptive interview is replayed with the case's findings as the
  answers ("don't know" where the case has none), counting questions until the gold entry first
  leads;
* ``urgent_open_recall``: urgent patients triaged urgent, or left provisional with a red-flag
  question open and named (reported beside ``urgent_recall``, never instead of it).

The rest of the package: :mod:`.tables` (confusion matrices, calibration), :mod:`.intervals`
(bootstrap intervals over sources), :mod:`.crossval` (cross-validation grouped by source),
:mod:`.fitting` and :mod:`.kb_writer` (``backmice kb fit``), :mod:`.plots` (``--plot``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from backmice.engine import assess
from backmice.engine.interview import MAX_QUESTIONS, InterviewState, step
from backmice.errors import InputError
from backmice.findings import FindingSet
from backmice.interop.cases import CaseRecord, read_case
from backmice.interop.notes import TextMode
from backmice.kb.base import OTHER, KnowledgeBase
from backmice.results import Assessment

URGENT = ("emergency", "urgent_same_day", "urgent_2_weeks")


@dataclass(frozen=True)
class BadLine:
    line: int
    error: str


@dataclass(frozen=True)
class CaseResult:
    id: str
    gold: str
    gold_entry: str  # the differential entry the gold maps to (a condition id or "other")
    predicted: str
    ranking: tuple[str, ...]
    probabilities: dict[str, float]
    leading_named: str  # the leading individual outcome (names the mimic inside "other")
    triage: str
    urgent_expected: bool | None
    questions_to_top1: int | None
    source: str = ""
    # red-flag questions left open (unanswered) and named to the user, while provisional
    open_red_flag_questions: tuple[str, ...] = ()


@dataclass
class Report:
    results: list[CaseResult] = field(default_factory=list)
    bad_lines: list[BadLine] = field(default_factory=list)
    skipped_without_gold: int = 0
    interviewed: bool = True


def read_cases(lines: Iterable[str], kb: KnowledgeBase | None = None,
               text_mode: TextMode = TextMode.NOTE) -> Iterator[tuple[int, CaseRecord | BadLine]]:
    """Each non-blank line → a CaseRecord, or a BadLine with its 1-based number and the reason."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, BadLine(number, f"not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        except (ValueError, RecursionError) as exc:
            yield number, BadLine(number, f"JSON that cannot be read safely ({exc})"[:160])
            continue
        try:
            yield number, read_case(obj, strict=False, kb=kb, text_mode=text_mode)
        except InputError as exc:
            yield number, BadLine(number, str(exc))


def gold_entry(gold: str) -> str:
    return OTHER if gold.startswith("other:") else gold


def questions_to_top1(kb: KnowledgeBase, findings: FindingSet, target: str,
                      setting: str | None) -> int | None:
    """Replay the interview answering from ``findings``; None if the gold never leads."""
    state = InterviewState(setting=setting)
    for asked in range(MAX_QUESTIONS + 1):
        question, result = step(kb, state)
        if result.differential[0].id == target:
            return asked
        if question is None:
            return None
        state = state.answer(question.finding, findings.get(question.finding))
    return None


def score_case(kb: KnowledgeBase, case: CaseRecord, *, later: bool, setting: str | None,
               interview: bool) -> CaseResult:
    findings = case.with_later_tests if later else case.first_visit
    a: Assessment = assess(kb, findings, setting=setting, with_questions=False,
                           lump_id=case.id)
    target = gold_entry(case.gold or "")
    ranking = tuple(d.id for d in a.differential)
    return CaseResult(
        id=case.id, gold=case.gold or "", gold_entry=target, predicted=ranking[0],
        ranking=ranking, probabilities={d.id: d.probability for d in a.differential},
        leading_named=a.outcomes[0][0], triage=a.triage.level,
        urgent_expected=case.urgent_expected,
        questions_to_top1=(questions_to_top1(kb, findings, target, setting)
                           if interview else None),
        source=case.source or case.id,
        open_red_flag_questions=(a.triage.unanswered_red_flag_questions
                                 if a.triage.provisional else ()),
    )


def evaluate(kb: KnowledgeBase, lines: Iterable[str], *, later: bool = False,
             setting: str | None = None, interview: bool = True,
             text_mode: TextMode = TextMode.NOTE) -> Report:
    report = Report(interviewed=interview)
    for _, item in read_cases(lines, kb, text_mode):
        if isinstance(item, BadLine):
            report.bad_lines.append(item)
        elif not item.gold:
            report.skipped_without_gold += 1
        else:
            try:
                report.results.append(score_case(kb, item, later=later, setting=setting,
                                                 interview=interview))
            except InputError as exc:  # e.g. an unknown gold label never reaches here
                report.bad_lines.append(BadLine(0, f"{item.id}: {exc}"))
    return report


FAMILY = "back_mouse_family"  # the three back-mouse conditions counted as one


def family_of(kb: KnowledgeBase, entry: str) -> str:
    return FAMILY if entry in kb.family() else entry


def is_urgent(r: CaseResult) -> bool:
    return r.triage in URGENT


def core_metrics(kb: KnowledgeBase, rs: list[CaseResult]) -> dict[str, float | int | None]:
    """The headline numbers of a list of case results (also recomputed on bootstrap samples)."""
    n = len(rs)
    top1 = sum(r.predicted == r.gold_entry for r in rs)
    top3 = sum(r.gold_entry in r.ranking[:3] for r in rs)
    fam = sum(family_of(kb, r.predicted) == family_of(kb, r.gold_entry) for r in rs)
    labelled = [r for r in rs if r.urgent_expected is not None]
    predicted_urgent = [r for r in labelled if is_urgent(r)]
    true_pos = sum(r.urgent_expected for r in predicted_urgent)
    expected = sum(r.urgent_expected for r in labelled)
    open_hits = sum(1 for r in labelled if r.urgent_expected
                    and (is_urgent(r) or r.open_red_flag_questions))
    brier = sum(sum((p - (e == r.gold_entry)) ** 2 for e, p in r.probabilities.items())
                for r in rs) / n
    asked = [r.questions_to_top1 for r in rs if r.questions_to_top1 is not None]
    return {
        "n": n,
        "top1": round(top1 / n, 4),
        "top3": round(top3 / n, 4),
        "family_top1": round(fam / n, 4),
        "urgent_recall": round(true_pos / expected, 4) if expected else None,
        "urgent_open_recall": round(open_hits / expected, 4) if expected else None,
        "urgent_precision": (round(true_pos / len(predicted_urgent), 4)
                             if predicted_urgent else None),
        "brier": round(brier, 4),
        "mean_questions_to_top1": round(sum(asked) / len(asked), 2) if asked else None,
    }


def metrics(kb: KnowledgeBase, report: Report) -> dict[str, Any]:
    rs = report.results
    n = len(rs)
    if n == 0:
        return {"n": 0, "bad_lines": [b.__dict__ for b in report.bad_lines]}
    others = [r for r in rs if r.gold.startswith("other:")]
    misses = [{"id": r.id, "gold": r.gold, "predicted": r.predicted,
               "leading_named": r.leading_named, "triage": r.triage,
               "urgent_expected": r.urgent_expected}
              for r in rs if r.predicted != r.gold_entry
              or (r.urgent_expected and r.triage not in URGENT)]
    return {
        **core_metrics(kb, rs),
        "interview_never_top1": (sum(1 for r in rs if r.questions_to_top1 is None)
                                 if report.interviewed else None),
        "other_named_exactly": sum(1 for r in others if r.leading_named == r.gold[6:]),
        "other_cases": len(others),
        "misses": misses,
        "bad_lines": [{"line": b.line, "error": b.error} for b in report.bad_lines],
        "skipped_without_gold": report.skipped_without_gold,
    }
