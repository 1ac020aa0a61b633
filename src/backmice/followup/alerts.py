"""Alerts on a patient's timeline: complications after a procedure that need the treating
clinician (fever, increasing pain, bleeding, discharge, infection). Scarring and bruising are
recorded and listed but raise no alert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from backmice.followup.records import Procedure
from backmice.followup.vocab import ALERTING_COMPLICATIONS, PROCEDURE_LABELS


@dataclass(frozen=True, slots=True)
class Alert:
    noted_on: dt.date
    procedure_id: int
    lesion_id: int | None
    complication: str
    message: str


def complication_alerts(procedures: Iterable[Procedure]) -> list[Alert]:
    """One alert per alerting complication, newest first."""
    alerts = []
    for p in procedures:
        for c in p.complications:
            if c.kind in ALERTING_COMPLICATIONS:
                what = c.kind.replace("_", " ")
                alerts.append(Alert(
                    noted_on=c.noted_on, procedure_id=p.id, lesion_id=p.lesion_id,
                    complication=c.kind,
                    message=(f"{what.capitalize()} after {PROCEDURE_LABELS[p.kind].lower()} "
                             f"on {p.performed_on.isoformat()}: the treating clinician should "
                             "review the patient.")))
    return sorted(alerts, key=lambda a: (a.noted_on, a.procedure_id), reverse=True)
