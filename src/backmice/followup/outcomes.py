"""Pain over time, per lesion and across the clinic: the data behind the charts.

Per lesion: the pain scores recorded for that lesion (and, as a separate series, those
recorded for the patient as a whole), with the lesion's procedures as markers.

Across the clinic, per procedure kind, the figure published series report (mean pain before
and after a treatment): for each procedure on a lesion,
  - *before* is the latest pain score for that lesion (or the whole patient) on or up to
    BEFORE_WINDOW_DAYS before the procedure date;
  - *after* is the latest pain score after the procedure date, up to AFTER_WINDOW_DAYS, and
    before the next procedure on the same lesion (so one treatment's result is not credited to
    the next).
Procedures without both scores are counted as "without a pair" and left out of the means.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backmice.followup.records import Outcome, Procedure
from backmice.followup.vocab import PROCEDURE_KINDS

BEFORE_WINDOW_DAYS = 180
AFTER_WINDOW_DAYS = 365


@dataclass(frozen=True, slots=True)
class PainPoint:
    on: dt.date
    pain: float


@dataclass(frozen=True, slots=True)
class PainSeries:
    lesion_id: int | None  # None: scores for the patient as a whole
    points: tuple[PainPoint, ...]
    procedures: tuple[Procedure, ...]


def pain_series(lesion_ids: Sequence[int], outcomes: Iterable[Outcome],
                procedures: Iterable[Procedure]) -> list[PainSeries]:
    """One series per lesion (in the given order), then the whole-patient series if any."""
    points: dict[int | None, list[PainPoint]] = defaultdict(list)
    for o in outcomes:
        if o.pain is not None:
            points[o.lesion_id].append(PainPoint(o.measured_on, o.pain))
    marks: dict[int | None, list[Procedure]] = defaultdict(list)
    for p in procedures:
        marks[p.lesion_id].append(p)
    series = []
    for key in [*lesion_ids, None]:
        pts = tuple(sorted(points.get(key, []), key=lambda pt: pt.on))
        procs = tuple(sorted(marks.get(key, []), key=lambda p: (p.performed_on, p.id)))
        if key is None and not pts and not procs:
            continue
        series.append(PainSeries(key, pts, procs))
    return series


@dataclass(frozen=True, slots=True)
class TreatmentEffect:
    """Mean pain before and after one kind of procedure across the clinic."""

    kind: str
    procedures: int  # procedures of this kind recorded
    paired: int  # procedures with both a before and an after score
    patients: int  # distinct patients among the paired procedures
    mean_before: float | None
    mean_after: float | None

    @property
    def mean_change(self) -> float | None:
        if self.mean_before is None or self.mean_after is None:
            return None
        return self.mean_after - self.mean_before


def _pair(procedure: Procedure, scores: list[tuple[dt.date, float]],
          next_on: dt.date | None) -> tuple[float, float] | None:
    start = procedure.performed_on - dt.timedelta(days=BEFORE_WINDOW_DAYS)
    end = procedure.performed_on + dt.timedelta(days=AFTER_WINDOW_DAYS)
    if next_on is not None:
        end = min(end, next_on - dt.timedelta(days=1))
    before = [s for s in scores if start <= s[0] <= procedure.performed_on]
    after = [s for s in scores if procedure.performed_on < s[0] <= end]
    if not before or not after:
        return None
    return before[-1][1], after[-1][1]


def treatment_effects(procedures: Iterable[Procedure],
                      outcomes: Iterable[Outcome]) -> list[TreatmentEffect]:
    """Per procedure kind (in vocabulary order), the before / after pain means."""
    by_patient: dict[int, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.pain is not None:
            by_patient[o.patient_id].append(o)
    on_lesion: dict[tuple[int, int | None], list[Procedure]] = defaultdict(list)
    for p in procedures:
        on_lesion[(p.patient_id, p.lesion_id)].append(p)
    pairs: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for (patient_id, lesion_id), procs in on_lesion.items():
        procs.sort(key=lambda p: (p.performed_on, p.id))
        scores = sorted((o.measured_on, o.pain) for o in by_patient.get(patient_id, [])
                        if o.lesion_id in (lesion_id, None))
        for i, p in enumerate(procs):
            counts[p.kind] += 1
            following = [q.performed_on for q in procs[i + 1:] if q.performed_on > p.performed_on]
            pair = _pair(p, scores, following[0] if following else None)
            if pair is not None:
                pairs[p.kind].append((patient_id, *pair))
    effects = []
    for kind in PROCEDURE_KINDS:
        if not counts.get(kind):
            continue
        got = pairs.get(kind, [])
        effects.append(TreatmentEffect(
            kind=kind, procedures=counts[kind], paired=len(got),
            patients=len({g[0] for g in got}),
            mean_before=statistics.fmean(g[1] for g in got) if got else None,
            mean_after=statistics.fmean(g[2] for g in got) if got else None))
    return effects
