"""What happens to a patient over time: encounters (with their immutable assessment snapshot),
procedures on lesions with their complications, outcome scores; the whole timeline, the export,
and the clinic-wide data for before / after figures.

Scoped and audited like ``patients``: the actor's clinic only, one transaction per change with
its audit event. Recording an excision marks its lesion excised in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from backmice.errors import ConflictError, InputError, NotFoundError, StateConflictError
from backmice.followup.records import (
    Actor,
    Complication,
    Encounter,
    LesionSummary,
    Outcome,
    Procedure,
    Timeline,
)
from backmice.followup.vocab import (
    COMPLICATIONS,
    HISTOPATHOLOGY_RESULTS,
    OUTCOME_MEASURES,
    PROCEDURE_KINDS,
)
from backmice.storage import audit, convert, validate, worklist
from backmice.storage.db import Database
from backmice.storage.patients import owned_patient, require_clinician
from backmice.storage.tables import (
    ComplicationRow,
    EncounterLesionRow,
    EncounterRow,
    LesionRow,
    OutcomeRow,
    PatientRow,
    ProcedureRow,
    RecordCorrectionRow,
)

PROCEDURE_FIELDS = ("lesion_id", "kind", "performed_on", "pain_before", "pain_after",
                    "minutes_after", "with_steroid", "histopathology", "notes", "complications")
OUTCOME_FIELDS = ("lesion_id", "measured_on", "pain", "odi", "satisfaction", "notes")


@dataclass(frozen=True, slots=True)
class EncounterDraft:
    """A visit ready to store: the input and the result as shown, and one line per lesion."""

    occurred_on: Any
    note: str | None
    input_doc: dict[str, Any]
    result_doc: dict[str, Any]
    kb_version: str
    engine_version: str
    triage: str
    lesions: tuple[tuple[int, str, str, float, str, float | None], ...]
    # (lesion_id, lump_key, top_condition, top_probability, triage, size_cm)


def _unknown(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InputError(unknown[0], "unknown field", ", ".join(allowed))


def _complication_values(raw: Any, path: str = "") -> dict[str, Any]:
    """A complication's checked fields; ``path`` is where it is in the request ("": the
    body itself, as in POST /procedures/{id}/complications)."""
    if not isinstance(raw, dict):
        raise InputError(path or "(body)", "expected an object", "{kind, noted_on, notes}")
    _unknown(raw, ("kind", "noted_on", "notes"))
    at = f"{path}." if path else ""
    return {"kind": validate.choice(f"{at}kind", raw.get("kind"), COMPLICATIONS),
            "noted_on": validate.day(f"{at}noted_on", raw.get("noted_on")),
            "notes": validate.text(f"{at}notes", raw.get("notes"), 2000)}


def procedure_values(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    _unknown(data, PROCEDURE_FIELDS)
    kind = validate.choice("kind", data.get("kind"), PROCEDURE_KINDS)
    values = {
        "lesion_id": validate.record_id("lesion_id", data["lesion_id"])
        if data.get("lesion_id") is not None else None,
        "kind": kind,
        "performed_on": validate.day("performed_on", data.get("performed_on")),
        "pain_before": validate.number("pain_before", data.get("pain_before"), 0, 10),
        "pain_after": validate.number("pain_after", data.get("pain_after"), 0, 10),
        "minutes_after": validate.number("minutes_after", data.get("minutes_after"), 0, 1440,
                                         whole=True),
        "with_steroid": validate.flag("with_steroid", data.get("with_steroid")),
        "histopathology": validate.choice("histopathology", data.get("histopathology"),
                                          HISTOPATHOLOGY_RESULTS, required=False),
        "notes": validate.text("notes", data.get("notes"), 5000),
    }
    if values["histopathology"] and kind != "excision":
        raise InputError("histopathology", "a histopathology result belongs to an excision",
                         "null unless kind is excision")
    if kind == "diagnostic_injection" and (values["pain_before"] is None
                                           or values["pain_after"] is None):
        raise InputError("pain_after" if values["pain_before"] is not None else "pain_before",
                         "a diagnostic injection needs the pain score before and after",
                         "a number from 0 to 10")
    if kind in ("diagnostic_injection", "therapeutic_injection", "excision", "liposuction") \
            and values["lesion_id"] is None:
        raise InputError("lesion_id", f"a {kind.replace('_', ' ')} is done on a lesion",
                         "the id of one of the patient's lesions")
    raw = data.get("complications") or []
    if not isinstance(raw, list) or len(raw) > 20:
        raise InputError("complications", "expected a list of at most 20", "a list of objects")
    complications = [_complication_values(c, f"complications[{i}]") for i, c in enumerate(raw)]
    return values, complications


def outcome_values(data: dict[str, Any]) -> dict[str, Any]:
    _unknown(data, OUTCOME_FIELDS)
    values = {
        "lesion_id": validate.record_id("lesion_id", data["lesion_id"])
        if data.get("lesion_id") is not None else None,
        "measured_on": validate.day("measured_on", data.get("measured_on")),
        "notes": validate.text("notes", data.get("notes"), 5000),
    }
    for measure, (low, high, _) in OUTCOME_MEASURES.items():
        values[measure] = validate.number(measure, data.get(measure), low, high)
    if all(values[m] is None for m in OUTCOME_MEASURES):
        raise InputError("pain", "an outcome needs at least one score",
                         "pain (0-10), odi (0-100) or satisfaction (0-10)")
    return values


def _procedures(session: Session, where: Any) -> list[Procedure]:
    rows = list(session.scalars(select(ProcedureRow).where(where)
                                .order_by(ProcedureRow.performed_on, ProcedureRow.id)))
    found: dict[int, list[ComplicationRow]] = defaultdict(list)
    if rows:
        for c in session.scalars(select(ComplicationRow)
                                 .where(ComplicationRow.procedure_id.in_([r.id for r in rows]))
                                 .order_by(ComplicationRow.noted_on, ComplicationRow.id)):
            found[c.procedure_id].append(c)
    return [convert.procedure(r, found.get(r.id, ())) for r in rows]


def _encounters(session: Session, patient_id: int, *, documents: bool = True,
                limit: int | None = None, offset: int = 0) -> list[Encounter]:
    """The patient's encounters, oldest first: all of them, or the page of ``limit`` counted
    from the newest (``offset`` newest ones skipped). Without ``documents`` the two JSON
    documents are not even read."""
    query = select(EncounterRow).where(EncounterRow.patient_id == patient_id)
    if not documents:
        query = query.options(defer(EncounterRow.input_doc), defer(EncounterRow.result_doc))
    if limit is not None:
        query = query.order_by(EncounterRow.occurred_on.desc(), EncounterRow.id.desc()) \
            .limit(limit).offset(offset)
    rows = sorted(session.scalars(query), key=lambda r: (r.occurred_on, r.id))
    lines: dict[int, list[EncounterLesionRow]] = defaultdict(list)
    if rows:
        for line in session.scalars(select(EncounterLesionRow).where(
                EncounterLesionRow.encounter_id.in_([r.id for r in rows]))):
            lines[line.encounter_id].append(line)
    return [convert.encounter(r, sorted(lines.get(r.id, ()), key=lambda x: x.lesion_id),
                              documents=documents)
            for r in rows]


def _history(session: Session, patient_id: int) -> tuple[tuple[Any, int, Any], ...]:
    """Every visit's per-lesion summary line with its date, oldest first: small rows, never
    the documents."""
    line = EncounterLesionRow
    found = session.execute(
        select(EncounterRow.occurred_on, EncounterRow.id, line.lesion_id, line.lump_key,
               line.top_condition, line.top_probability, line.triage, line.size_cm)
        .join(line, line.encounter_id == EncounterRow.id)
        .where(EncounterRow.patient_id == patient_id)
        .order_by(EncounterRow.occurred_on, EncounterRow.id, line.lesion_id))
    return tuple((day, eid, LesionSummary(lesion_id, key, top, p, level, size))
                 for day, eid, lesion_id, key, top, p, level, size in found)


def _corrections(session: Session, patient_id: int) -> tuple[Any, ...]:
    rows = session.scalars(select(RecordCorrectionRow)
                           .where(RecordCorrectionRow.patient_id == patient_id)
                           .order_by(RecordCorrectionRow.at, RecordCorrectionRow.id))
    return tuple(convert.correction(r) for r in rows)


def patients_lesion(session: Session, patient_id: int, lesion_id: int,
                    field: str = "lesion_id") -> LesionRow:
    """The lesion a request body names, if it is one of this patient's; otherwise a conflict
    with the record (409) naming ``field`` and the patient's lesions, not a 404: the URL's
    patient was found, the body names a lesion that is not theirs."""
    row = session.get(LesionRow, lesion_id)
    if row is None or row.patient_id != patient_id:
        ids = session.scalars(select(LesionRow.id).where(LesionRow.patient_id == patient_id)
                              .order_by(LesionRow.id).limit(50)).all()
        raise StateConflictError(field, f"lesion {lesion_id} is not one of this patient's "
                                 "lesions", "the id of one of this patient's lesions: "
                                 + (", ".join(map(str, ids)) if ids else "none yet (add one)"))
    return row


def _get(session: Session, table: Any, key: Any, kind: str) -> Any:
    """The row of ``table`` with id ``key``; NotFoundError otherwise."""
    row = session.get(table, key) if validate.is_record_id(key) else None
    if row is None:
        raise NotFoundError(kind, str(key)[:40])
    return row


class Visits:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record_encounter(self, actor: Actor, patient_id: int, draft: EncounterDraft) -> Encounter:
        occurred = validate.day("occurred_on", draft.occurred_on)
        note = validate.text("note", draft.note, 10000)
        moment = validate.now()

        def work(session: Session) -> Encounter:
            patient = owned_patient(session, actor, patient_id)
            for i, (lesion_id, *_) in enumerate(draft.lesions):
                patients_lesion(session, patient.id, lesion_id, f"lumps.{i}.lesion_id")
            row = EncounterRow(patient_id=patient.id, occurred_on=occurred, created_at=moment,
                               created_by=actor.username, note=note, input_doc=draft.input_doc,
                               result_doc=draft.result_doc, kb_version=draft.kb_version,
                               engine_version=draft.engine_version, triage=draft.triage)
            session.add(row)
            session.flush()
            lines = [EncounterLesionRow(encounter_id=row.id, lesion_id=lesion_id, lump_key=key,
                                        top_condition=top, top_probability=p, triage=level,
                                        size_cm=size)
                     for lesion_id, key, top, p, level, size in draft.lesions]
            session.add_all(lines)
            worklist.open_referrals(session, row, lines)
            patient.updated_at = moment
            session.flush()
            audit.record(session, actor, "create", patient_id=patient.id,
                         target=f"encounter:{row.id}")
            return convert.encounter(row, lines)

        return self.db.write(work)

    def get_encounter(self, actor: Actor, encounter_id: int, *,
                      audited: bool = True) -> Encounter:
        def work(session: Session) -> Encounter:
            row = _get(session, EncounterRow, encounter_id, "encounter")
            owned_patient(session, actor, row.patient_id)
            if audited:
                audit.record(session, actor, "read", patient_id=row.patient_id,
                             target=f"encounter:{row.id}")
            lines = session.scalars(select(EncounterLesionRow)
                                    .where(EncounterLesionRow.encounter_id == row.id))
            return convert.encounter(row, sorted(lines, key=lambda x: x.lesion_id))

        return self.db.write(work)

    def add_procedure(self, actor: Actor, patient_id: int, data: dict[str, Any]) -> Procedure:
        values, complications = procedure_values(data)
        moment = validate.now()

        def work(session: Session) -> Procedure:
            patient = owned_patient(session, actor, patient_id)
            lesion = None
            if values["lesion_id"] is not None:
                lesion = patients_lesion(session, patient.id, values["lesion_id"])
            row = ProcedureRow(patient_id=patient.id, created_at=moment,
                               created_by=actor.username, version=1, **values)
            session.add(row)
            session.flush()
            extra = [ComplicationRow(procedure_id=row.id, created_at=moment, **c)
                     for c in complications]
            session.add_all(extra)
            if lesion is not None and row.kind == "excision" and lesion.status != "excised":
                lesion.status, lesion.updated_at = "excised", moment
                lesion.version += 1
            patient.updated_at = moment
            session.flush()
            audit.record(session, actor, "create", patient_id=patient.id,
                         target=f"procedure:{row.id}")
            return convert.procedure(row, extra)

        return self.db.write(work)

    def update_procedure(self, actor: Actor, procedure_id: int, *, version: int,
                         data: dict[str, Any]) -> Procedure:
        """Later facts about a procedure: the histopathology result, notes."""
        _unknown(data, ("histopathology", "notes"))
        version = validate.number("version", version, 1, 2**31, whole=True, required=True)
        changes: dict[str, Any] = {}
        if "histopathology" in data:
            changes["histopathology"] = validate.choice(
                "histopathology", data["histopathology"], HISTOPATHOLOGY_RESULTS, required=False)
        if "notes" in data:
            changes["notes"] = validate.text("notes", data["notes"], 5000)

        def work(session: Session) -> Procedure:
            row = _get(session, ProcedureRow, procedure_id, "procedure")
            owned_patient(session, actor, row.patient_id)
            if row.version != version:
                raise ConflictError("procedure", str(procedure_id), version)
            if changes.get("histopathology") and row.kind != "excision":
                raise StateConflictError(
                    "histopathology", f"a histopathology result belongs to an excision, and "
                    f"this procedure is a {row.kind.replace('_', ' ')}",
                    "null unless the procedure is an excision")
            for name, value in changes.items():
                setattr(row, name, value)
            row.version = version + 1
            session.flush()
            audit.record(session, actor, "update", patient_id=row.patient_id,
                         target=f"procedure:{row.id}")
            return _procedures(session, ProcedureRow.id == row.id)[0]

        return self.db.write(work)

    def add_complication(self, actor: Actor, procedure_id: int,
                         data: dict[str, Any]) -> Complication:
        values = _complication_values(data)

        def work(session: Session) -> Complication:
            row = _get(session, ProcedureRow, procedure_id, "procedure")
            owned_patient(session, actor, row.patient_id)
            if values["noted_on"] < row.performed_on:
                raise StateConflictError(
                    "noted_on", f"is before the procedure ({row.performed_on.isoformat()})",
                    f"a date from {row.performed_on.isoformat()} (the day of the procedure) "
                    "to today")
            made = ComplicationRow(procedure_id=row.id, created_at=validate.now(), **values)
            session.add(made)
            session.flush()
            audit.record(session, actor, "create", patient_id=row.patient_id,
                         target=f"complication:{made.id}")
            return convert.complication(made)

        return self.db.write(work)

    def add_outcome(self, actor: Actor, patient_id: int, data: dict[str, Any]) -> Outcome:
        values = outcome_values(data)

        def work(session: Session) -> Outcome:
            patient = owned_patient(session, actor, patient_id)
            if values["lesion_id"] is not None:
                patients_lesion(session, patient.id, values["lesion_id"])
            row = OutcomeRow(patient_id=patient.id, created_at=validate.now(),
                             created_by=actor.username, **values)
            session.add(row)
            patient.updated_at = row.created_at
            session.flush()
            audit.record(session, actor, "create", patient_id=patient.id,
                         target=f"outcome:{row.id}")
            return convert.outcome(row)

        return self.db.write(work)

    def timeline(self, actor: Actor, patient_id: int, *, action: str | None = "read",
                 encounters: int | None = None, encounter_offset: int = 0,
                 documents: bool = False) -> Timeline:
        """Everything recorded for the patient; audited as a read (or an export), not at all
        with ``action=None`` (a HEAD request, which sends no data).

        ``encounters``: show that many visits, counted from the newest (after skipping
        ``encounter_offset``), with every visit's per-lesion summary line in ``history`` and
        the number of visits in ``encounters_total``; None: every visit. ``documents``: with
        each visit's input and assessment documents (the export), which are otherwise not
        read, so the cost of a page does not grow with the size of the record's documents."""

        def work(session: Session) -> Timeline:
            patient = owned_patient(session, actor, patient_id)
            if action is not None:
                audit.record(session, actor, action, patient_id=patient.id,
                             target=f"patient:{patient.id}")
            lesions = session.scalars(select(LesionRow).where(LesionRow.patient_id == patient.id)
                                      .order_by(LesionRow.id))
            outcomes = session.scalars(select(OutcomeRow)
                                       .where(OutcomeRow.patient_id == patient.id)
                                       .order_by(OutcomeRow.measured_on, OutcomeRow.id))
            paged = encounters is not None
            total = session.scalar(select(func.count()).select_from(EncounterRow)
                                   .where(EncounterRow.patient_id == patient.id)) \
                if paged else None
            return Timeline(patient=convert.patient(patient),
                            lesions=tuple(convert.lesion(r) for r in lesions),
                            encounters=tuple(_encounters(session, patient.id,
                                                         documents=documents,
                                                         limit=encounters,
                                                         offset=encounter_offset)),
                            procedures=tuple(_procedures(session,
                                                         ProcedureRow.patient_id == patient.id)),
                            outcomes=tuple(convert.outcome(r) for r in outcomes),
                            encounters_total=total,
                            history=_history(session, patient.id) if paged else None,
                            reviews=worklist.patient_reviews(session, patient.id),
                            referrals=worklist.patient_referrals(session, patient.id),
                            corrections=_corrections(session, patient.id))

        return self.db.write(work)

    def visit_context(self, actor: Actor, patient_id: int,
                      lesion_ids: Iterable[Any] | None = None) -> Timeline:
        """What recording a visit needs, and nothing that grows with the visits: the patient,
        the lesions and the procedures (with complications) of ``lesion_ids`` (every lesion:
        None). No encounter is read; not audited (the visit's write is)."""
        wanted = None if lesion_ids is None else [i for i in lesion_ids
                                                   if validate.is_record_id(i)]

        def work(session: Session) -> Timeline:
            patient = owned_patient(session, actor, patient_id)
            lesions = session.scalars(select(LesionRow).where(LesionRow.patient_id == patient.id)
                                      .order_by(LesionRow.id))
            where = ProcedureRow.patient_id == patient.id
            if wanted is not None:
                where = where & ProcedureRow.lesion_id.in_(wanted)
            return Timeline(patient=convert.patient(patient),
                            lesions=tuple(convert.lesion(r) for r in lesions), encounters=(),
                            procedures=tuple(_procedures(session, where)), outcomes=())

        return self.db.read(work)

    def clinic_data(self, actor: Actor, *,
                    audited: bool = True) -> tuple[list[Procedure], list[Outcome]]:
        """Every procedure and outcome of the actor's clinic (for the before / after view)."""
        require_clinician(actor)

        def work(session: Session) -> tuple[list[Procedure], list[Outcome]]:
            if audited:
                audit.record(session, actor, "read", target="clinic outcomes")
            mine = select(PatientRow.id).where(PatientRow.clinic_id == actor.clinic_id)
            procedures = [convert.procedure(r) for r in session.scalars(
                select(ProcedureRow).where(ProcedureRow.patient_id.in_(mine)))]
            outcomes = [convert.outcome(r) for r in session.scalars(
                select(OutcomeRow).where(OutcomeRow.patient_id.in_(mine),
                                         OutcomeRow.pain.is_not(None)))]
            return procedures, outcomes

        return self.db.write(work)
