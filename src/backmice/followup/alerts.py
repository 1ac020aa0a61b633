"""Alerts on a patient's timeline, each open until a clinician marks it reviewed:

- a complication after a procedure that needs the treating clinician (fever, increasing pain,
  bleeding, discharge, infection; scarring and bruising are recorded and listed but raise no
  alert), keyed ``complication:<id>``;
- a lesion triaged urgent at a visit (within two weeks, or more urgent: the levels of
  ``vocab.REFERRAL_DAYS``), keyed ``triage:<encounter id>:<lesion id>``.

A reviewed alert is not dropped: it moves to the reviewed list with who reviewed it and when.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from backmice.followup.records import AlertReview, LesionSummary, Procedure
from backmice.followup.vocab import ALERTING_COMPLICATIONS, PROCEDURE_LABELS, REFERRAL_DAYS

ALERT_KINDS = ("complication", "urgent_lesion")
ALERT_KEY = re.compile(r"complication:(\d{1,10})|triage:(\d{1,10}):(\d{1,10})")
URGENCY_WORDS = {"emergency": "an emergency", "urgent_same_day": "urgent (the same day)",
                 "urgent_2_weeks": "urgent (within two weeks)"}


@dataclass(frozen=True, slots=True)
class Alert:
    noted_on: dt.date
    procedure_id: int | None  # None for an urgent lesion
    lesion_id: int | None
    complication: str | None  # None for an urgent lesion
    message: str
    key: str = ""
    kind: str = "complication"
    encounter_id: int | None = None  # the visit that triaged an urgent lesion
    triage: str | None = None
    review: AlertReview | None = None  # None while open


def complication_key(complication_id: int) -> str:
    return f"complication:{complication_id}"


def triage_key(encounter_id: int, lesion_id: int) -> str:
    return f"triage:{encounter_id}:{lesion_id}"


def complication_alerts(procedures: Iterable[Procedure]) -> list[Alert]:
    """One alert per alerting complication, newest first."""
    alerts = []
    for p in procedures:
        for c in p.complications:
            if c.kind in ALERTING_COMPLICATIONS:
                what = c.kind.replace("_", " ")
                alerts.append(Alert(
                    noted_on=c.noted_on, procedure_id=p.id, lesion_id=p.lesion_id,
                    complication=c.kind, key=complication_key(c.id),
                    message=(f"{what.capitalize()} after {PROCEDURE_LABELS[p.kind].lower()} "
                             f"on {p.performed_on.isoformat()}: the treating clinician should "
                             "review the patient.")))
    return sorted(alerts, key=lambda a: (a.noted_on, a.procedure_id or 0), reverse=True)


def urgent_lesion_alerts(
        visit_lines: Iterable[tuple[dt.date, int, LesionSummary]]) -> list[Alert]:
    """One alert per visit line that triaged its lesion urgent within two weeks or sooner."""
    alerts = []
    for day, encounter_id, line in visit_lines:
        if line.triage in REFERRAL_DAYS:
            alerts.append(Alert(
                noted_on=day, procedure_id=None, lesion_id=line.lesion_id, complication=None,
                key=triage_key(encounter_id, line.lesion_id), kind="urgent_lesion",
                encounter_id=encounter_id, triage=line.triage,
                message=(f"Triaged {URGENCY_WORDS[line.triage]} at the visit of "
                         f"{day.isoformat()}: review the patient and the referral.")))
    return alerts


def patient_alerts(procedures: Iterable[Procedure],
                   visit_lines: Iterable[tuple[dt.date, int, LesionSummary]],
                   reviews: Iterable[AlertReview]) -> tuple[list[Alert], list[Alert]]:
    """(open alerts, reviewed alerts), each newest first; a review of an alert that no longer
    exists (its visit or procedure was deleted) is left out."""
    done = {r.alert_key: r for r in reviews}
    every = [*complication_alerts(procedures), *urgent_lesion_alerts(visit_lines)]
    every.sort(key=lambda a: (a.noted_on, a.key), reverse=True)
    open_alerts = [a for a in every if a.key not in done]
    reviewed = [Alert(**{**{f: getattr(a, f) for f in Alert.__dataclass_fields__},
                         "review": done[a.key]})
                for a in every if a.key in done]
    return open_alerts, reviewed
