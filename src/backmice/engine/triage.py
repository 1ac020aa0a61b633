"""Triage: how urgently the patient should be seen, and why.

Red flags set the level; no probability can lower it. Without a red flag, a differential that
gives malignancy at least MALIGNANCY_ESCALATION raises the level to urgent_2_weeks (it never raises
above it, so adding a red flag can only keep or raise the urgency). Otherwise a painful lump is
``routine`` and a painless one ``self_care``.

Unknown safety answers never change the level here: a red-flag rule fires only on known findings,
in the clinician view as in the interview. They make the triage provisional instead, and it names
them: ``unanswered_red_flag_questions`` (not asked yet), ``unknown_red_flag_questions`` (answered
"don't know") and ``red_flags_not_ruled_out`` (what those "don't know" answers leave open). The
patient view turns these into advice (``backmice.render.patient.patient_advice``: "soon, within a
few days" when a same-day or emergency sign is left open).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping

from backmice.engine.red_flags import OpenFlag, most_urgent
from backmice.findings import Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import Urgency
from backmice.results import RedFlagHit, Triage

# A 10% probability of sarcoma or metastasis is far above the base rate (well under 1%), and the
# suspected-cancer pathway exists for exactly that uncertainty (NICE NG12, EVIDENCE.md 5.6).
MALIGNANCY_ESCALATION = 0.10


@functools.cache
def _finding_order(kb: KnowledgeBase) -> dict[str, int]:
    return {f: i for i, f in enumerate(kb.findings)}


def decide(kb: KnowledgeBase, hits: tuple[RedFlagHit, ...], p_malignant: float,
           findings: Mapping[str, Value], unanswered: tuple[str, ...], *,
           left_open: tuple[OpenFlag, ...] = (),
           not_asked: Collection[str] = ()) -> Triage:
    """The triage. ``unanswered`` are the red-flag questions not asked yet; ``left_open`` the
    red flags that answers to the "don't know" questions (and, after the interview was stopped
    early, to the questions never asked) could still fire. ``not_asked`` are those questions
    never asked: they stay in ``unanswered_red_flag_questions`` and the reason says they were
    not asked, never that they were answered "don't know"."""
    level = most_urgent(hits)
    if level is not None:
        titles = [h.title for h in hits if h.urgency == level.value]
        reason = "Red flag: " + "; ".join(titles)
        others = len(hits) - len(titles)
        if others:
            reason += f" (and {others} less urgent red flag{'s' if others > 1 else ''})"
    elif p_malignant >= MALIGNANCY_ESCALATION:
        level = Urgency.URGENT_2_WEEKS
        reason = (f"No single red flag, but the findings give a {p_malignant:.0%} probability of "
                  "a sarcoma or metastasis")
    elif findings.get("pain") is False and findings.get("tender") is not True:
        level = Urgency.SELF_CARE
        reason = "A painless lump with no red flag"
    else:
        level = Urgency.ROUTINE
        reason = "No red flag; pain or tenderness deserves a clinical assessment"
    text = kb.texts.triage[level]
    unknown: tuple[str, ...] = ()
    not_ruled_out: tuple[str, ...] = ()
    if left_open:
        deciding = {f for o in left_open for f in o.findings} - set(not_asked)
        unknown = tuple(sorted(deciding, key=_finding_order(kb).__getitem__))
        not_ruled_out = tuple(o.flag.id for o in left_open)  # most urgent first already
    stopped = tuple(f for f in unanswered if f in not_asked)
    if stopped:
        reason += (f"; {len(stopped)} red-flag question{'s' if len(stopped) > 1 else ''} "
                   "not asked (the interview was stopped early): not ruled out")
    elif unanswered:
        reason += "; provisional until the red-flag questions are answered"
    if unknown:
        reason += (f"; {len(unknown)} red-flag question{'s' if len(unknown) > 1 else ''} "
                   "answered \"don't know\": not ruled out")
    return Triage(
        level=level.value, label=text.label, reason=reason, advice_clinician=text.clinician,
        advice_patient=text.patient, provisional=bool(unanswered or unknown),
        unanswered_red_flag_questions=unanswered, unknown_red_flag_questions=unknown,
        red_flags_not_ruled_out=not_ruled_out,
    )
