"""Rows of the follow-up tables → the frozen records of backmice.followup.records."""

from __future__ import annotations

from collections.abc import Iterable

from backmice.followup.records import (
    AlertReview,
    Complication,
    Correction,
    Encounter,
    Lesion,
    LesionSummary,
    Outcome,
    Patient,
    Procedure,
    Referral,
)
from backmice.storage.tables import (
    AlertReviewRow,
    ComplicationRow,
    EncounterLesionRow,
    EncounterRow,
    LesionRow,
    OutcomeRow,
    PatientRow,
    ProcedureRow,
    RecordCorrectionRow,
    ReferralRow,
)
from backmice.storage.validate import aware


def patient(row: PatientRow) -> Patient:
    return Patient(id=row.id, clinic_id=row.clinic_id, display_name=row.display_name,
                   local_id=row.local_id, birth_date=row.birth_date, sex=row.sex, notes=row.notes,
                   created_at=aware(row.created_at), updated_at=aware(row.updated_at),
                   version=row.version)


def lesion(row: LesionRow) -> Lesion:
    return Lesion(id=row.id, patient_id=row.patient_id, label=row.label, region=row.region,
                  side=row.side, x=row.x, y=row.y, status=row.status,
                  nodule_count=row.nodule_count, first_size_cm=row.first_size_cm,
                  created_at=aware(row.created_at), updated_at=aware(row.updated_at),
                  version=row.version)


def summary(row: EncounterLesionRow) -> LesionSummary:
    return LesionSummary(lesion_id=row.lesion_id, lump_key=row.lump_key,
                         top_condition=row.top_condition, top_probability=row.top_probability,
                         triage=row.triage, size_cm=row.size_cm)


def encounter(row: EncounterRow, lesions: Iterable[EncounterLesionRow] = (), *,
              documents: bool = True) -> Encounter:
    """``documents=False``: without the input and assessment documents (left unread, ``{}``)."""
    return Encounter(id=row.id, patient_id=row.patient_id, occurred_on=row.occurred_on,
                     created_at=aware(row.created_at), created_by=row.created_by, note=row.note,
                     input_doc=row.input_doc if documents else {},
                     result_doc=row.result_doc if documents else {},
                     kb_version=row.kb_version, engine_version=row.engine_version,
                     triage=row.triage, lesions=tuple(summary(r) for r in lesions),
                     version=row.version)


def complication(row: ComplicationRow) -> Complication:
    return Complication(id=row.id, procedure_id=row.procedure_id, kind=row.kind,
                        noted_on=row.noted_on, notes=row.notes, created_at=aware(row.created_at))


def procedure(row: ProcedureRow, complications: Iterable[ComplicationRow] = ()) -> Procedure:
    return Procedure(id=row.id, patient_id=row.patient_id, lesion_id=row.lesion_id,
                     kind=row.kind, performed_on=row.performed_on, pain_before=row.pain_before,
                     pain_after=row.pain_after, minutes_after=row.minutes_after,
                     with_steroid=row.with_steroid, histopathology=row.histopathology,
                     notes=row.notes, created_at=aware(row.created_at),
                     created_by=row.created_by, version=row.version,
                     complications=tuple(complication(c) for c in complications))


def outcome(row: OutcomeRow) -> Outcome:
    return Outcome(id=row.id, patient_id=row.patient_id, lesion_id=row.lesion_id,
                   measured_on=row.measured_on, pain=row.pain, odi=row.odi,
                   satisfaction=row.satisfaction, notes=row.notes,
                   created_at=aware(row.created_at), created_by=row.created_by,
                   version=row.version)


def review(row: AlertReviewRow) -> AlertReview:
    return AlertReview(id=row.id, patient_id=row.patient_id, alert_key=row.alert_key,
                       reviewed_at=aware(row.reviewed_at), reviewed_by=row.reviewed_by,
                       note=row.note)


def referral(row: ReferralRow) -> Referral:
    return Referral(id=row.id, patient_id=row.patient_id, lesion_id=row.lesion_id,
                    encounter_id=row.encounter_id, triage=row.triage, opened_on=row.opened_on,
                    due_on=row.due_on, status=row.status, done_how=row.done_how,
                    done_on=row.done_on, done_by=row.done_by, done_at=aware(row.done_at),
                    notes=row.notes, created_at=aware(row.created_at), version=row.version)


def correction(row: RecordCorrectionRow) -> Correction:
    return Correction(id=row.id, patient_id=row.patient_id, target=row.target,
                      action=row.action, reason=row.reason, old=row.old_doc,
                      at=aware(row.at), username=row.username)
