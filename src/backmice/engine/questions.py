"""Which question to ask next: red-flag questions first, then expected information gain.

The expected information gain of a finding is the expected drop in the entropy (bits) of the
differential over all modelled outcomes once its answer is known (``information.gain``). A
red-flag question is an unanswered finding that could, on its own, make a red flag fire; those
come first, most urgent first.

Exact gains are costly (a logarithm per answer and outcome), so :func:`rank` first estimates
every candidate's gain (``information.estimate``, within ``TOLERANCE`` of the exact value) and
computes exact gains only where the estimates cannot decide what is shown; the result is the
same as computing every gain exactly (a test checks this).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from operator import itemgetter

from backmice.engine.information import (
    TOLERANCE,
    answers,
    entropy,
    estimate,
    gain,
    table_estimates,
)
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
        return tuple((v, entry.value_labels.get(v, v.replace("_", " "))) for v in spec.values)
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


# A candidate placed by its estimated gain: ((0, urgency rank) for a red-flag question, else
# (1, 0); minus the estimate; position among the candidates), fid, flag.
_Estimated = tuple[tuple[tuple[int, int], float, int], str, RedFlag | None]
_PLACE = itemgetter(0)


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
    guesses = table_estimates(model, post)
    estimated: list[_Estimated] = []
    for position, fid in enumerate(todo):
        guess = guesses.get(fid)
        if guess is None:  # a dependence-group member: its answers depend on the findings
            guess = estimate(post, answers(model, fid, findings))
        flag = red.get(fid)
        if flag is None and guess < MIN_GAIN - TOLERANCE:
            continue  # surely below MIN_GAIN
        kind = (0, flag.urgency.rank) if flag else (1, 0)
        estimated.append(((kind, -guess, position), fid, flag))
    estimated.sort(key=_PLACE)

    def exact_gain(fid: str) -> float:
        return gain(post, answers(model, fid, findings).rows, h)

    # Walk down the estimates in runs: a run is a single candidate, or candidates of one kind
    # whose estimates are too close to be ordered by them. Runs are in their final order; a run
    # of several candidates, or one near MIN_GAIN, is ordered by exact gains.
    chosen: list[tuple[str, float, RedFlag | None, bool]] = []  # fid, gain, flag, is it exact
    start = 0
    while start < len(estimated) and (limit is None or len(chosen) < limit):
        end = _run_end(estimated, start)
        ((kind, minus, _), fid, flag) = estimated[start]
        if end == start + 1 and (flag is not None or -minus >= MIN_GAIN + TOLERANCE):
            chosen.append((fid, -minus, flag, False))
        else:
            exact = []
            for (kind, _, position), fid, flag in estimated[start:end]:
                g = max(0.0, exact_gain(fid))
                if flag is not None or g >= MIN_GAIN:
                    exact.append(((kind, -g, position), fid, g, flag))
            exact.sort(key=_PLACE)
            chosen.extend((fid, g, flag, True) for _, fid, g, flag in exact)
        start = end
    out = []
    for fid, g, flag, is_exact in chosen[:limit]:
        # an estimate is shown only when every value within TOLERANCE rounds the same
        if not is_exact and round(max(0.0, g - TOLERANCE), 4) != round(g + TOLERANCE, 4):
            g = exact_gain(fid)
        q = kb.findings[fid].question
        out.append(Question(
            finding=fid, clinician=q.clinician, patient=q.patient,
            reason=f"red flag: {flag.title}" if flag else "information gain",
            expected_information_gain=round(max(0.0, g), 4), red_flag=flag is not None,
            options=options(kb, fid),
        ))
    return tuple(out)


def _run_end(estimated: list[_Estimated], start: int) -> int:
    """The end of the run that starts at ``start``: the next candidates of the same kind whose
    estimates are within 2 * TOLERANCE of the previous one (their exact order is unknown)."""
    kind = estimated[start][0][0]
    end = start + 1
    while (end < len(estimated) and estimated[end][0][0] == kind
           and estimated[end][0][1] - estimated[end - 1][0][1] <= 2 * TOLERANCE):
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
