"""Correcting or deleting a visit (encounter), a procedure or an outcome, always with a reason.

Each change carries the version the caller read (ConflictError if someone saved in between)
and commits in one transaction with its audit event ("correct" or "delete") and a
``record_correction`` row holding the reason and the values the entry had before, so nothing
recorded is lost without a trace. A visit's assessment is a snapshot and is never recomputed: a
correction changes its date and note only (to change findings, record a new visit and delete
the wrong one).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backmice.errors import ConflictError, InputError
from backmice.followup.records import Actor, Encounter, Outcome, Procedure
from backmice.storage import audit, convert, validate, worklist
from backmice.storage.db import Database
from backmice.storage.patients import owned_lesion, owned_patient
from backmice.storage.tables import (
    ComplicationRow,
    EncounterLesionRow,
    EncounterRow,
    OutcomeRow,
    ProcedureRow,
    RecordCorrectionRow,
)
from backmice.storage.visits import (
    OUTCOME_FIELDS,
    PROCEDURE_FIELDS,
    _get,
    _procedures,
    outcome_values,
    procedure_values,
)

REASON_LIMIT = 2000
ENCOUNTER_FIELDS = ("occurred_on", "note")
PROCEDURE_CORRECTABLE = tuple(f for f in PROCEDURE_FIELDS if f != "complications")


def _reason(reason: Any) -> str:
    checked = validate.text("reason", reason, REASON_LIMIT, required=True)
    assert checked is not None
    return checked


def _version(version: Any) -> int:
    return int(validate.number("version", version, 1, 2**31, whole=True, required=True) or 0)


def _unknown(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InputError(unknown[0], "unknown field", ", ".join(allowed))
    if not data:
        raise InputError(allowed[0], "nothing to correct", "at least one of "
                         + ", ".join(allowed))


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _keep(session: Session, actor: Actor, row: Any, kind: str, action: str, reason: str,
          old: dict[str, Any]) -> None:
    """The correction row and the audit event of one change to ``row``."""
    session.add(RecordCorrectionRow(
        patient_id=row.patient_id, target=f"{kind}:{row.id}", action=action, reason=reason,
        old_doc={k: _plain(v) for k, v in old.items()}, at=validate.now(),
        username=actor.username, user_id=actor.user_id))
    audit.record(session, actor, "correct" if action == "update" else "delete",
                 patient_id=row.patient_id, target=f"{kind}:{row.id}")


def _owned(session: Session, actor: Actor, table: Any, key: Any, kind: str,
           version: int) -> Any:
    row = _get(session, table, key, kind)
    owned_patient(session, actor, row.patient_id)
    if row.version != version:
        raise ConflictError(kind, str(key), version)
    return row


def _procedure_old(row: ProcedureRow) -> dict[str, Any]:
    return {f: getattr(row, f) for f in PROCEDURE_CORRECTABLE}


def _outcome_old(row: OutcomeRow) -> dict[str, Any]:
    return {f: getattr(row, f) for f in OUTCOME_FIELDS}


class Corrections:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- visits -----------------------------------------------------------------------------
    def correct_encounter(self, actor: Actor, encounter_id: int, *, version: int, reason: Any,
                          data: dict[str, Any]) -> Encounter:
        """A visit's date or note; its open referrals count from a corrected date."""
        _unknown(data, ENCOUNTER_FIELDS)
        version, reason = _version(version), _reason(reason)
        changes: dict[str, Any] = {}
        if "occurred_on" in data:
            changes["occurred_on"] = validate.day("occurred_on", data["occurred_on"])
        if "note" in data:
            changes["note"] = validate.text("note", data["note"], 10000)

        def work(session: Session) -> Encounter:
            row = _owned(session, actor, EncounterRow, encounter_id, "encounter", version)
            old = {f: getattr(row, f) for f in ENCOUNTER_FIELDS}
            for name, value in changes.items():
                setattr(row, name, value)
            row.version = version + 1
            if "occurred_on" in changes:
                worklist.reschedule(session, row)
            session.flush()
            _keep(session, actor, row, "encounter", "update", reason, old)
            lines = session.scalars(select(EncounterLesionRow)
                                    .where(EncounterLesionRow.encounter_id == row.id))
            return convert.encounter(row, sorted(lines, key=lambda x: x.lesion_id),
                                     documents=False)

        return self.db.write(work)

    def delete_encounter(self, actor: Actor, encounter_id: int, *, version: int,
                         reason: Any) -> None:
        """Delete a visit (with its per-lesion lines and the referrals it opened); the
        correction keeps its date, note, documents and lines."""
        version, reason = _version(version), _reason(reason)

        def work(session: Session) -> None:
            row = _owned(session, actor, EncounterRow, encounter_id, "encounter", version)
            lines = session.scalars(select(EncounterLesionRow)
                                    .where(EncounterLesionRow.encounter_id == row.id))
            old = {"occurred_on": row.occurred_on, "note": row.note, "triage": row.triage,
                   "kb_version": row.kb_version, "engine_version": row.engine_version,
                   "created_by": row.created_by,
                   "lesions": [{"lesion_id": x.lesion_id, "top_condition": x.top_condition,
                                "top_probability": x.top_probability, "triage": x.triage,
                                "size_cm": x.size_cm} for x in lines],
                   "input": row.input_doc, "assessment": row.result_doc}
            _keep(session, actor, row, "encounter", "delete", reason, old)
            session.execute(delete(EncounterRow).where(EncounterRow.id == row.id)
                            .execution_options(synchronize_session=False))

        self.db.write(work)

    # --- procedures -------------------------------------------------------------------------
    def correct_procedure(self, actor: Actor, procedure_id: int, *, version: int, reason: Any,
                          data: dict[str, Any]) -> Procedure:
        """Any field of a procedure (complications are added on their own); the merged values
        are checked by the rules of a new procedure."""
        _unknown(data, PROCEDURE_CORRECTABLE)
        version, reason = _version(version), _reason(reason)

        def work(session: Session) -> Procedure:
            row = _owned(session, actor, ProcedureRow, procedure_id, "procedure", version)
            old = _procedure_old(row)
            values, _ = procedure_values({**old, **data})
            if values["lesion_id"] is not None:
                lesion = owned_lesion(session, actor, values["lesion_id"], row.patient_id)
                if values["kind"] == "excision" and lesion.status != "excised":
                    lesion.status, lesion.updated_at = "excised", validate.now()
                    lesion.version += 1
            first = session.scalar(select(ComplicationRow.noted_on)
                                   .where(ComplicationRow.procedure_id == row.id)
                                   .order_by(ComplicationRow.noted_on).limit(1))
            if first is not None and values["performed_on"] > first:
                raise InputError("performed_on", "is after a complication noted on "
                                 f"{first.isoformat()}", f"a date up to {first.isoformat()}")
            for name, value in values.items():
                setattr(row, name, value)
            row.version = version + 1
            session.flush()
            _keep(session, actor, row, "procedure", "update", reason, old)
            return _procedures(session, ProcedureRow.id == row.id)[0]

        return self.db.write(work)

    def delete_procedure(self, actor: Actor, procedure_id: int, *, version: int,
                         reason: Any) -> None:
        """Delete a procedure and its complications; the correction keeps them."""
        version, reason = _version(version), _reason(reason)

        def work(session: Session) -> None:
            row = _owned(session, actor, ProcedureRow, procedure_id, "procedure", version)
            old = _procedure_old(row)
            old["complications"] = [
                {"kind": c.kind, "noted_on": c.noted_on.isoformat(), "notes": c.notes}
                for c in session.scalars(select(ComplicationRow)
                                         .where(ComplicationRow.procedure_id == row.id))]
            _keep(session, actor, row, "procedure", "delete", reason, old)
            session.execute(delete(ProcedureRow).where(ProcedureRow.id == row.id)
                            .execution_options(synchronize_session=False))

        self.db.write(work)

    # --- outcomes ---------------------------------------------------------------------------
    def correct_outcome(self, actor: Actor, outcome_id: int, *, version: int, reason: Any,
                        data: dict[str, Any]) -> Outcome:
        _unknown(data, OUTCOME_FIELDS)
        version, reason = _version(version), _reason(reason)

        def work(session: Session) -> Outcome:
            row = _owned(session, actor, OutcomeRow, outcome_id, "outcome", version)
            old = _outcome_old(row)
            values = outcome_values({**old, **data})
            if values["lesion_id"] is not None:
                owned_lesion(session, actor, values["lesion_id"], row.patient_id)
            for name, value in values.items():
                setattr(row, name, value)
            row.version = version + 1
            session.flush()
            _keep(session, actor, row, "outcome", "update", reason, old)
            return convert.outcome(row)

        return self.db.write(work)

    def delete_outcome(self, actor: Actor, outcome_id: int, *, version: int,
                       reason: Any) -> None:
        version, reason = _version(version), _reason(reason)

        def work(session: Session) -> None:
            row = _owned(session, actor, OutcomeRow, outcome_id, "outcome", version)
            _keep(session, actor, row, "outcome", "delete", reason, _outcome_old(row))
            session.execute(delete(OutcomeRow).where(OutcomeRow.id == row.id)
                            .execution_options(synchronize_session=False))

        self.db.write(work)
