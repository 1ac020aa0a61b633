"""Patients and their lesions, scoped to the clinic of whoever is acting.

Every call takes the Actor first. A patient of another clinic is "not found" (its existence is
not revealed). Changes to an existing patient or lesion carry the version the caller read; if
someone saved in between, ConflictError says so and nothing is written. Each change and its
audit event commit in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from backmice.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
    StateConflictError,
)
from backmice.followup.records import Actor, Lesion, Patient
from backmice.followup.vocab import LESION_REGIONS, LESION_SIDES, LESION_STATUSES, PATIENT_SEXES
from backmice.storage import audit, convert, validate
from backmice.storage.db import Database
from backmice.storage.tables import LesionRow, PatientRow

MAX_PAGE = 200
PATIENT_FIELDS = ("display_name", "local_id", "birth_date", "sex", "notes")
LESION_FIELDS = ("label", "region", "side", "x", "y", "status", "nodule_count")


def require_clinician(actor: Actor) -> None:
    if not actor.has("clinician"):
        raise PermissionDenied("clinician")


def owned_patient(session: Session, actor: Actor, patient_id: Any) -> PatientRow:
    """The patient row if it belongs to the actor's clinic; NotFoundError otherwise."""
    require_clinician(actor)
    row = session.get(PatientRow, patient_id) if validate.is_record_id(patient_id) else None
    if row is None or row.clinic_id != actor.clinic_id:
        raise NotFoundError("patient", str(patient_id)[:40])
    return row


def owned_lesion(session: Session, actor: Actor, lesion_id: Any,
                 patient_id: int | None = None) -> LesionRow:
    row = session.get(LesionRow, lesion_id) if validate.is_record_id(lesion_id) else None
    if row is None or (patient_id is not None and row.patient_id != patient_id):
        raise NotFoundError("lesion", str(lesion_id)[:40])
    owned_patient(session, actor, row.patient_id)
    return row


def patient_values(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Checked patient fields; a display name or a local identifier is required."""
    unknown = sorted(set(data) - set(PATIENT_FIELDS))
    if unknown:
        raise InputError(unknown[0], "unknown field", ", ".join(PATIENT_FIELDS))
    values: dict[str, Any] = {}
    if "display_name" in data or not partial:
        values["display_name"] = validate.text("display_name", data.get("display_name"), 200)
    if "local_id" in data or not partial:
        values["local_id"] = validate.text("local_id", data.get("local_id"), 64)
    if "birth_date" in data or not partial:
        values["birth_date"] = validate.day("birth_date", data.get("birth_date"), required=False)
    if "sex" in data or not partial:
        values["sex"] = validate.choice("sex", data.get("sex"), PATIENT_SEXES, required=False)
    if "notes" in data or not partial:
        values["notes"] = validate.text("notes", data.get("notes"), 5000)
    if "display_name" in values:
        values["search_name"] = values["display_name"].casefold() if values["display_name"] \
            else None
    return values


def _named(display_name: str | None, local_id: str | None, *, stored: bool = False) -> None:
    """A patient needs a display name or a local identifier. ``stored``: one of the two comes
    from the stored record (a change clearing the other), a conflict with the record (409)
    rather than a malformed request."""
    if not display_name and not local_id:
        error = StateConflictError if stored else InputError
        raise error("display_name", "a patient needs a display name or a local identifier"
                    + (" (the record has no other)" if stored else ""),
                    "a name (or a local identifier) of 1 to 200 characters")


def lesion_values(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    allowed = (*LESION_FIELDS, "size_cm")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InputError(unknown[0], "unknown field", ", ".join(allowed))
    values: dict[str, Any] = {}
    if "label" in data or not partial:
        values["label"] = validate.text("label", data.get("label"), 60, required=True)
    for name, vocabulary in (("region", LESION_REGIONS), ("side", LESION_SIDES)):
        if name in data or not partial:
            values[name] = validate.choice(name, data.get(name), vocabulary, required=False)
    for axis in ("x", "y"):
        if axis in data or not partial:
            values[axis] = validate.number(axis, data.get(axis), 0, 1)
    if "status" in data or not partial:
        values["status"] = validate.choice("status", data.get("status", "active"),
                                           LESION_STATUSES)
    if "nodule_count" in data or not partial:
        values["nodule_count"] = validate.number("nodule_count", data.get("nodule_count", 1),
                                                 1, 10000, whole=True, required=True)
    if not partial:
        values["first_size_cm"] = validate.number("size_cm", data.get("size_cm"), 0, 100)
    elif "size_cm" in data:
        raise InputError("size_cm", "the first size cannot be changed; record the size at a "
                         "visit instead", "fields " + ", ".join(LESION_FIELDS))
    return values


class Patients:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- patients -------------------------------------------------------------------------
    def create(self, actor: Actor, data: dict[str, Any]) -> Patient:
        require_clinician(actor)
        values = patient_values(data)
        moment = validate.now()

        def work(session: Session) -> Patient:
            _named(values["display_name"], values["local_id"])
            row = PatientRow(clinic_id=actor.clinic_id, created_at=moment, updated_at=moment,
                             version=1, **values)
            session.add(row)
            session.flush()
            audit.record(session, actor, "create", patient_id=row.id, target=f"patient:{row.id}")
            return convert.patient(row)

        return self.db.write(work)

    def get(self, actor: Actor, patient_id: int, *, audited: bool = True) -> Patient:
        def work(session: Session) -> Patient:
            row = owned_patient(session, actor, patient_id)
            if audited:
                audit.record(session, actor, "read", patient_id=row.id,
                             target=f"patient:{row.id}")
            return convert.patient(row)

        return self.db.write(work) if audited else self.db.read(work)

    def update(self, actor: Actor, patient_id: int, *, version: int,
               data: dict[str, Any]) -> Patient:
        values = patient_values(data, partial=True)
        version = validate.number("version", version, 1, 2**31, whole=True, required=True)

        def work(session: Session) -> Patient:
            row = owned_patient(session, actor, patient_id)
            _named(values.get("display_name", row.display_name),
                   values.get("local_id", row.local_id),
                   stored=not ("display_name" in values and "local_id" in values))
            result = session.execute(
                update(PatientRow)
                .where(PatientRow.id == row.id, PatientRow.version == version)
                .values(**values, version=version + 1, updated_at=validate.now())
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                raise ConflictError("patient", str(patient_id), version)
            session.refresh(row)
            audit.record(session, actor, "update", patient_id=row.id, target=f"patient:{row.id}")
            return convert.patient(row)

        return self.db.write(work)

    def delete(self, actor: Actor, patient_id: int, *, version: int) -> None:
        """Delete the patient and everything recorded for them (lesions, visits, procedures,
        outcomes); the audit log keeps the fact, not the data."""
        version = validate.number("version", version, 1, 2**31, whole=True, required=True)

        def work(session: Session) -> None:
            row = owned_patient(session, actor, patient_id)
            result = session.execute(delete(PatientRow).where(
                PatientRow.id == row.id, PatientRow.version == version)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                raise ConflictError("patient", str(patient_id), version)
            audit.record(session, actor, "delete", patient_id=patient_id,
                         target=f"patient:{patient_id}")

        self.db.write(work)

    def search(self, actor: Actor, *, text: str | None = None, birth_date: Any = None,
               limit: int = 50, offset: int = 0,
               audited: bool = True) -> tuple[list[Patient], int]:
        """Patients of the actor's clinic whose name contains ``text`` or whose local
        identifier equals it, born on ``birth_date`` if given; most recently updated first.
        Answers one page and the total count. The search is audited, its words are not
        (``audited=False``: a HEAD request, which sends no data)."""
        require_clinician(actor)
        words = validate.text("q", text, 200)
        born = validate.day("birth_date", birth_date, required=False)
        limit = max(1, min(int(limit), MAX_PAGE))
        offset = max(0, int(offset))
        where = [PatientRow.clinic_id == actor.clinic_id]
        if words:
            folded = words.strip().casefold()
            escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(or_(PatientRow.search_name.like(f"%{escaped}%", escape="\\"),
                             PatientRow.local_id == words.strip()))
        if born:
            where.append(PatientRow.birth_date == born)
        page = (select(PatientRow).where(*where)
                .order_by(PatientRow.updated_at.desc(), PatientRow.id.desc())
                .limit(limit).offset(offset))
        count = select(func.count()).select_from(PatientRow).where(*where)

        def work(session: Session) -> tuple[list[Patient], int]:
            if audited:
                audit.record(session, actor, "search" if (words or born) else "read",
                             target="patient list")
            return [convert.patient(r) for r in session.scalars(page)], session.scalar(count)

        return self.db.write(work) if audited else self.db.read(work)

    # --- lesions --------------------------------------------------------------------------
    def add_lesion(self, actor: Actor, patient_id: int, data: dict[str, Any]) -> Lesion:
        values = lesion_values(data)
        moment = validate.now()

        def work(session: Session) -> Lesion:
            patient = owned_patient(session, actor, patient_id)
            row = LesionRow(patient_id=patient.id, created_at=moment, updated_at=moment,
                            version=1, **values)
            session.add(row)
            patient.updated_at = moment
            session.flush()
            audit.record(session, actor, "create", patient_id=patient.id,
                         target=f"lesion:{row.id}")
            return convert.lesion(row)

        return self.db.write(work)

    def update_lesion(self, actor: Actor, lesion_id: int, *, version: int,
                      data: dict[str, Any]) -> Lesion:
        values = lesion_values(data, partial=True)
        version = validate.number("version", version, 1, 2**31, whole=True, required=True)

        def work(session: Session) -> Lesion:
            row = owned_lesion(session, actor, lesion_id)
            result = session.execute(
                update(LesionRow).where(LesionRow.id == row.id, LesionRow.version == version)
                .values(**values, version=version + 1, updated_at=validate.now())
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                raise ConflictError("lesion", str(lesion_id), version)
            session.refresh(row)
            audit.record(session, actor, "update", patient_id=row.patient_id,
                         target=f"lesion:{row.id}")
            return convert.lesion(row)

        return self.db.write(work)

    def lesions(self, actor: Actor, patient_id: int) -> list[Lesion]:
        def work(session: Session) -> list[Lesion]:
            owned_patient(session, actor, patient_id)
            rows = session.scalars(select(LesionRow).where(LesionRow.patient_id == patient_id)
                                   .order_by(LesionRow.id))
            return [convert.lesion(r) for r in rows]

        return self.db.read(work)
