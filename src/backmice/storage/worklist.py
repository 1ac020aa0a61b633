"""What needs a clinician's attention: alerts until reviewed, and referrals for urgent lesions
until done. Scoped and audited like ``patients`` (the actor's clinic only, each change one
transaction with its audit event).

A visit that triages a lesion urgent within two weeks or sooner opens a referral in the same
transaction as the visit (``open_referrals``, called by ``Visits.record_encounter``), unless the
lesion already has an open referral at the same level of urgency or a more urgent one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backmice.errors import ConflictError, InputError, InUseError, NotFoundError, StateConflictError
from backmice.followup.alerts import ALERT_KEY
from backmice.followup.records import (
    Actor,
    AlertReview,
    ClinicFollowup,
    LesionSummary,
    Referral,
)
from backmice.followup.referrals import due_date, needs_referral
from backmice.followup.vocab import ALERTING_COMPLICATIONS, REFERRAL_DAYS, REFERRAL_OUTCOMES
from backmice.results import URGENCY_ORDER
from backmice.storage import audit, convert, validate
from backmice.storage.db import Database
from backmice.storage.patients import owned_patient, require_clinician
from backmice.storage.tables import (
    AlertReviewRow,
    ComplicationRow,
    EncounterLesionRow,
    EncounterRow,
    PatientRow,
    ProcedureRow,
    ReferralRow,
)

REFERRAL_DONE_FIELDS = ("how", "done_on", "notes")


def open_referrals(session: Session, encounter: EncounterRow,
                   lines: Iterable[EncounterLesionRow]) -> list[ReferralRow]:
    """A referral for each line of ``encounter`` triaged urgent, unless its lesion already has
    an open referral at that level or a more urgent one (a more urgent triage opens its own)."""
    made = []
    for line in lines:
        if not needs_referral(line.triage):
            continue
        as_urgent = URGENCY_ORDER[:URGENCY_ORDER.index(line.triage) + 1]
        earlier = session.scalar(select(ReferralRow.id).where(
            ReferralRow.lesion_id == line.lesion_id, ReferralRow.status == "open",
            ReferralRow.triage.in_(as_urgent)).limit(1))
        if earlier is not None:
            continue
        due = due_date(line.triage, encounter.occurred_on)
        row = ReferralRow(patient_id=encounter.patient_id, lesion_id=line.lesion_id,
                          encounter_id=encounter.id, triage=line.triage,
                          opened_on=encounter.occurred_on, due_on=due, status="open",
                          created_at=validate.now(), version=1)
        session.add(row)
        made.append(row)
    return made


def reschedule(session: Session, encounter: EncounterRow) -> None:
    """After a visit's date is corrected: its open referrals count from the new date."""
    for row in session.scalars(select(ReferralRow).where(
            ReferralRow.encounter_id == encounter.id, ReferralRow.status == "open")):
        row.opened_on = encounter.occurred_on
        row.due_on = due_date(row.triage, encounter.occurred_on)
        row.version += 1


def patient_reviews(session: Session, patient_id: int) -> tuple[AlertReview, ...]:
    rows = session.scalars(select(AlertReviewRow).where(AlertReviewRow.patient_id == patient_id)
                           .order_by(AlertReviewRow.id))
    return tuple(convert.review(r) for r in rows)


def patient_referrals(session: Session, patient_id: int) -> tuple[Referral, ...]:
    rows = session.scalars(select(ReferralRow).where(ReferralRow.patient_id == patient_id)
                           .order_by(ReferralRow.due_on, ReferralRow.id))
    return tuple(convert.referral(r) for r in rows)


def _alert_exists(session: Session, patient_id: int, key: str) -> bool:
    """True when ``key`` names an alert of this patient (an alerting complication after one of
    their procedures, or a visit line that triaged one of their lesions urgent)."""
    match = ALERT_KEY.fullmatch(key)
    if match is None:
        return False
    if match.group(1):
        found = session.execute(
            select(ComplicationRow.kind, ProcedureRow.patient_id)
            .join(ProcedureRow, ComplicationRow.procedure_id == ProcedureRow.id)
            .where(ComplicationRow.id == int(match.group(1)))).first()
        return found is not None and found[1] == patient_id and found[0] in ALERTING_COMPLICATIONS
    found = session.execute(
        select(EncounterLesionRow.triage, EncounterRow.patient_id)
        .join(EncounterRow, EncounterLesionRow.encounter_id == EncounterRow.id)
        .where(EncounterLesionRow.encounter_id == int(match.group(2)),
               EncounterLesionRow.lesion_id == int(match.group(3)))).first()
    return found is not None and found[1] == patient_id and found[0] in REFERRAL_DAYS


class Worklist:
    def __init__(self, db: Database) -> None:
        self.db = db

    def review_alert(self, actor: Actor, patient_id: int, key: Any,
                     note: Any = None) -> AlertReview:
        """Mark one alert of the patient reviewed (who and when are recorded and audited);
        InUseError if someone already did."""
        if not isinstance(key, str) or len(key) > 60:
            raise InputError("alert", "expected an alert key", "the key of one of the "
                             "patient's alerts, e.g. complication:5")
        note = validate.text("note", note, 2000)

        def work(session: Session) -> AlertReview:
            patient = owned_patient(session, actor, patient_id)
            if not _alert_exists(session, patient.id, key):
                raise StateConflictError("alert", f"{key[:60]!r} is not an alert of this "
                                         "patient",
                                 "the key of one of the patient's alerts")
            done = session.scalars(select(AlertReviewRow).where(
                AlertReviewRow.patient_id == patient.id,
                AlertReviewRow.alert_key == key)).first()
            if done is not None:
                raise InUseError("alert", f"was already reviewed by {done.reviewed_by} on "
                                 f"{validate.aware(done.reviewed_at).date().isoformat()}",
                                 "an alert not yet reviewed")
            row = AlertReviewRow(patient_id=patient.id, alert_key=key,
                                 reviewed_at=validate.now(), reviewed_by=actor.username,
                                 user_id=actor.user_id, note=note)
            session.add(row)
            session.flush()
            audit.record(session, actor, "review", patient_id=patient.id, target=f"alert:{key}")
            return convert.review(row)

        return self.db.write(work)

    def complete_referral(self, actor: Actor, referral_id: int, *, version: int,
                          data: dict[str, Any], today: dt.date | None = None) -> Referral:
        """Mark a referral done: ``how`` (sent or seen), ``done_on`` (not before the referral
        was opened, not after today), ``notes``. Audited."""
        unknown = sorted(set(data) - set(REFERRAL_DONE_FIELDS))
        if unknown:
            raise InputError(unknown[0], "unknown field", ", ".join(REFERRAL_DONE_FIELDS))
        version = validate.number("version", version, 1, 2**31, whole=True, required=True)
        how = validate.choice("how", data.get("how"), REFERRAL_OUTCOMES)
        done_on = validate.day("done_on", data.get("done_on"), today=today)
        notes = validate.text("notes", data.get("notes"), 2000)

        def work(session: Session) -> Referral:
            row = session.get(ReferralRow, referral_id) \
                if validate.is_record_id(referral_id) else None
            if row is None:
                raise NotFoundError("referral", str(referral_id)[:40])
            owned_patient(session, actor, row.patient_id)
            if row.version != version:
                raise ConflictError("referral", str(referral_id), version)
            if row.status != "open":
                raise InUseError("referral", f"was already marked {row.done_how} by "
                                 f"{row.done_by}", "an open referral")
            if done_on < row.opened_on:
                raise StateConflictError("done_on", "is before the referral was opened",
                                         f"a date from {row.opened_on.isoformat()}")
            row.status, row.done_how, row.done_on, row.notes = "done", how, done_on, notes
            row.done_by, row.done_at = actor.username, validate.now()
            row.version = version + 1
            session.flush()
            audit.record(session, actor, "update", patient_id=row.patient_id,
                         target=f"referral:{row.id}")
            return convert.referral(row)

        return self.db.write(work)

    def clinic(self, actor: Actor, *, audited: bool = True) -> ClinicFollowup:
        """What the clinic's alerts and referrals lists need: the patients concerned, their
        procedures with alerting complications, their visit lines triaged urgent, every
        review, and the open referrals."""
        require_clinician(actor)

        def work(session: Session) -> ClinicFollowup:
            if audited:
                audit.record(session, actor, "read", target="clinic worklist")
            mine = select(PatientRow.id).where(PatientRow.clinic_id == actor.clinic_id)
            complications = list(session.execute(
                select(ComplicationRow, ProcedureRow)
                .join(ProcedureRow, ComplicationRow.procedure_id == ProcedureRow.id)
                .where(ProcedureRow.patient_id.in_(mine),
                       ComplicationRow.kind.in_(ALERTING_COMPLICATIONS))))
            by_procedure: dict[int, list[ComplicationRow]] = defaultdict(list)
            procedure_rows = {}
            for c, p in complications:
                by_procedure[p.id].append(c)
                procedure_rows[p.id] = p
            procedures = tuple(convert.procedure(p, by_procedure[p.id])
                               for p in procedure_rows.values())
            line = EncounterLesionRow
            lines = tuple(
                (patient_id, day, eid, LesionSummary(lesion_id, key, top, prob, level, size))
                for patient_id, day, eid, lesion_id, key, top, prob, level, size in
                session.execute(
                    select(EncounterRow.patient_id, EncounterRow.occurred_on, EncounterRow.id,
                           line.lesion_id, line.lump_key, line.top_condition,
                           line.top_probability, line.triage, line.size_cm)
                    .join(line, line.encounter_id == EncounterRow.id)
                    .where(EncounterRow.patient_id.in_(mine),
                           line.triage.in_(tuple(REFERRAL_DAYS)))))
            reviews = tuple(convert.review(r) for r in session.scalars(
                select(AlertReviewRow).where(AlertReviewRow.patient_id.in_(mine))))
            referrals = tuple(convert.referral(r) for r in session.scalars(
                select(ReferralRow).where(ReferralRow.patient_id.in_(mine),
                                          ReferralRow.status == "open")))
            wanted = {p.patient_id for p in procedures} | {item[0] for item in lines} | {
                r.patient_id for r in referrals}
            patients = {row.id: convert.patient(row) for row in session.scalars(
                select(PatientRow).where(PatientRow.id.in_(wanted)))} if wanted else {}
            return ClinicFollowup(patients=patients, procedures=procedures, visit_lines=lines,
                                  reviews=reviews, referrals=referrals)

        return self.db.write(work) if audited else self.db.read(work)
