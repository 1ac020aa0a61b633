"""Which question to ask next: red-flag questions first, then expected information gain.

The expected information gain of a finding is the expected drop in the entropy (bits) of the
differential over all modelled outcomes once its answer is known (``information.gain``). A
red-flag question is an unanswered finding that could, on its own, make a red flag fire; those
come first, most urgent first.

Exact gains are costly (a logarithm per answer and outcome), so :func:`rank` first estimates
the gains (``information.estimate``, within ``TOLERANCE`` of the exact value) and computes
exact gains only where the estimates cannot decide what is shown; it skips even the estimates
of questions that come after ``limit`` more urgent red-flag questions. The result is the same
as computing every gain exactly (a test checks this).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from operator import itemgetter

from backmice.engine.information import TOLERANCE, answers, entropy, estimate, gain
from backmice.engine.model import CompiledModel
from backmice.engine.red_flags import Screening, completing_findings, screen
from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import RedFlag
from backmice.results import Question

MIN_GAIN = 0.01  # bits: below this a question is not worth asking


@functools.cache
def options(kb: KnowledgeBase, fid: str) -> tuple[tuple[str, str], ...]:
    spec, entry = FINDINGS[fid], kb.findings[fid]
    if spec.kind is Kind.BOOLEAN:
        return (("true", "yes"), ("false", "no"))
    if spec.kind is Kind.CATEGORY:
        return tuple((v, entry.value_label(v)) for v in spec.values)
    return tuple((b.id, b.label) for b in entry.bins)


@functools.cache
def _askable(kb: KnowledgeBase) -> tuple[str, ...]:
    """Findings that can be asked, in knowledge-base order (later tests are work-up)."""
    return tuple(f for f in kb.findings if not FINDINGS[f].later_test)


def candidates(kb: KnowledgeBase, findings: Mapping[str, Value],
               skip: Collection[str] = ()) -> list[str]:
    """Unanswered questions (later tests are work-up, not questions)."""
    if not skip:
        return [f for f in _askable(kb) if f not in findings]
    return [f for f in _askable(kb) if f not in findings and f not in skip]


# A candidate placed by its estimated or exact gain: (kind, minus the gain, position among the
# candidates, fid, flag), where kind is (0, urgency rank) for a red-flag question, else (1, 0).
# Sorting these tuples orders questions as shown (positions differ, so fid and flag are never
# compared).
_Placed = tuple[tuple[int, int], float, int, str, RedFlag | None]
_PLAIN = (1, 0)
_POSITION = itemgetter(2)


def rank(kb: KnowledgeBase, model: CompiledModel, findings: Mapping[str, Value],
         post: Sequence[float], *, skip: Collection[str] = (), limit: int | None = 5,
         red: Mapping[str, RedFlag] | None = None) -> tuple[Question, ...]:
    """The most useful unanswered questions, red-flag questions first.

    ``red`` is :func:`red_flag_questions` when the caller already has it. Questions are ordered
    by (red flag first, most urgent flag first, larger gain first, candidate order); a question
    that is not a red-flag question needs a gain of MIN_GAIN.
    """
    todo = candidates(kb, findings, skip)
    if red is None:
        red = completing_findings(kb, findings, todo)
    h = entropy(post)
    kinds = [(0, red[fid].urgency.rank) if fid in red else _PLAIN for fid in todo]
    shown = _shown_kinds(kinds, limit)
    estimated: list[_Placed] = []
    for position, (fid, kind) in enumerate(zip(todo, kinds, strict=True)):
        if kind not in shown:
            continue
        guess = estimate(post, answers(model, fid, findings))
        flag = red.get(fid)
        if flag is not None:
            estimated.append((kind, -guess, position, fid, flag))
        elif guess >= MIN_GAIN - TOLERANCE:  # else surely below MIN_GAIN
            estimated.append((kind, -guess, position, fid, None))
    estimated.sort()

    exact: dict[tuple[tuple[float, ...], ...], float] = {}

    def exact_gain(fid: str) -> float:
        # findings with the same table (several red-flag findings keep the population default
        # for every outcome) have the same gain: it is computed once
        rows = answers(model, fid, findings).rows
        if rows not in exact:
            exact[rows] = gain(post, rows, h)
        return exact[rows]

    # Walk down the estimates in runs: a run is a single candidate, or candidates of one kind
    # whose estimates are too close to be ordered by them. Runs are in their final order. A
    # run of candidates with one and the same table has one gain, so it keeps the candidates'
    # order; any other run of several candidates, or one near MIN_GAIN, is ordered by exact
    # gains.
    chosen: list[tuple[str, float, RedFlag | None, bool]] = []  # fid, gain, flag, is it exact
    start = 0
    while start < len(estimated) and (limit is None or len(chosen) < limit):
        end = _run_end(estimated, start)
        run = estimated[start:end]
        if _decided(model, findings, run):
            run.sort(key=_POSITION)
            chosen.extend((fid, -minus, flag, False) for _, minus, _, fid, flag in run)
        else:
            settled: list[_Placed] = []
            for kind, _, position, fid, flag in run:
                g = max(0.0, exact_gain(fid))
                if flag is not None or g >= MIN_GAIN:
                    settled.append((kind, -g, position, fid, flag))
            settled.sort()
            chosen.extend((fid, -minus, flag, True) for _, minus, _, fid, flag in settled)
        start = end
    out = []
    for fid, g, flag, is_exact in chosen[:limit]:
        # an estimate is shown only when every value within TOLERANCE rounds the same
        if not is_exact and round(max(0.0, g - TOLERANCE), 4) != round(g + TOLERANCE, 4):
            g = exact_gain(fid)
        clinician, patient, choices = _asked(kb, fid)
        out.append(Question(
            finding=fid, clinician=clinician, patient=patient,
            reason=f"red flag: {flag.title}" if flag else "information gain",
            expected_information_gain=round(max(0.0, g), 4), red_flag=flag is not None,
            options=choices,
        ))
    return tuple(out)


@functools.cache
def _asked(kb: KnowledgeBase, fid: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """A question's wording for the clinician and the patient, and its options."""
    q = kb.findings[fid].question
    return q.clinician, q.patient, options(kb, fid)


def _shown_kinds(kinds: list[tuple[int, int]], limit: int | None) -> set[tuple[int, int]]:
    """The kinds of question that can be among the first ``limit``: red flags come first, by
    urgency, whatever their gain, so a kind after ``limit`` red-flag questions is never shown
    and its gains need no estimate."""
    if limit is None:
        return set(kinds)
    shown = set()
    count = 0
    for kind in sorted(set(kinds)):
        if count >= limit:
            break
        shown.add(kind)
        count += kinds.count(kind)
    return shown


def _decided(model: CompiledModel, findings: Mapping[str, Value], run: list[_Placed]) -> bool:
    """Whether the estimates decide a run: no candidate in it is near MIN_GAIN, and it is one
    candidate, or candidates with the same answers (hence the same gain)."""
    for _, minus, _, _, flag in run:
        if flag is None and -minus < MIN_GAIN + TOLERANCE:
            return False
    if len(run) == 1:
        return True
    first = answers(model, run[0][3], findings).rows
    return all(answers(model, fid, findings).rows == first for _, _, _, fid, _ in run[1:])


def _run_end(estimated: list[_Placed], start: int) -> int:
    """The end of the run that starts at ``start``: the next candidates of the same kind whose
    estimates are within 2 * TOLERANCE of the previous one (their exact order is unknown)."""
    kind = estimated[start][0]
    end = start + 1
    while (end < len(estimated) and estimated[end][0] == kind
           and estimated[end][1] - estimated[end - 1][1] <= 2 * TOLERANCE):
        end += 1
    return end


def red_flag_questions(kb: KnowledgeBase, findings: Mapping[str, Value],
                       skip: Collection[str] = (), *,
                       screening: Screening | None = None) -> dict[str, RedFlag]:
    """Unanswered findings that could fire a red flag → the most urgent flag each could fire.

    ``screening`` is ``red_flags.screen`` of the same findings when the caller already has it.
    The same as ``completing_findings(kb, findings, candidates(kb, findings, skip))``, without
    listing every candidate: only the few findings that could fire a flag are ordered.
    """
    could = (screening or screen(kb, findings)).could_fire
    if not could:
        return {}
    position = _askable_position(kb)
    chosen = [f for f in could if f in position and f not in findings and f not in skip]
    chosen.sort(key=position.__getitem__)
    return {f: could[f] for f in chosen}


@functools.cache
def _askable_position(kb: KnowledgeBase) -> dict[str, int]:
    return {f: i for i, f in enumerate(_askable(kb))}
