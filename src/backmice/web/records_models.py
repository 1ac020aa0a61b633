"""Request models of the patient-record API (/api/v1/patients and friends).

They check shape and ranges and document the API in OpenAPI; the storage layer checks the same
rules again (it is the last line: the CLI and imports write through it too).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from backmice.findings import HISTOPATHOLOGY, LATERALITIES, LOCATIONS
from backmice.followup.vocab import (
    COMPLICATIONS,
    LESION_STATUSES,
    PATIENT_SEXES,
    PROCEDURE_KINDS,
    REFERRAL_OUTCOMES,
    ROLES,
)
from backmice.interop.cases import MAX_LUMPS

Pain = Field(default=None, ge=0, le=10)
# Text that is not blank, as storage.validate.is_blank reads it: a character that is not white
# space, or a separator \x1c-\x1f / \x85 (white space to Python, text to storage).
HAS_TEXT = r"\S|[\x1c-\x1f\x85]"


def whole_float(model: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """``204.0`` for a whole-number field is 204 (JSON Schema calls it an integer); strict mode
    refuses every other value of another type."""
    if isinstance(value, float) and value.is_integer() and info.field_name:
        annotation = model.model_fields[info.field_name].annotation
        if annotation is int or int in get_args(annotation):
            return int(value)
    return value


def _iso_text(value: Any) -> Any:
    """A date is ISO text YYYY-MM-DD, never a number (pydantic alone would read 0 as
    1970-01-01) nor a time; its range (1900 to today) is checked by storage."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a date as text YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("expected a date as text YYYY-MM-DD") from None


Day = Annotated[dt.date, BeforeValidator(_iso_text)]
MAX_ROW_ID = 2**31 - 1  # row ids and versions are 32-bit whole numbers


class Strict(BaseModel):
    # strict: a JSON value of another type is refused (``0`` is not ``false``, ``"5"`` not 5),
    # as the schema says; a whole number is still a number.
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _whole_float(cls, value: Any, info: ValidationInfo) -> Any:
        return whole_float(cls, value, info)


class PatientFields(Strict):
    display_name: str | None = Field(default=None, max_length=200)
    local_id: str | None = Field(default=None, max_length=64,
                                 description="the clinic's own identifier (e.g. a record number)")
    birth_date: Day | None = None
    sex: Literal[PATIENT_SEXES] | None = None  # type: ignore[valid-type]
    notes: str | None = Field(default=None, max_length=5000)


class PatientIn(PatientFields):
    """A new patient: a display name or a local identifier is required; the rest optional."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"required": ["display_name"],
         "properties": {"display_name": {"type": "string", "pattern": HAS_TEXT}}},
        {"required": ["local_id"],
         "properties": {"local_id": {"type": "string", "pattern": HAS_TEXT}}},
    ]})


BLANK = {"anyOf": [{"type": "null"},
                   {"type": "string", "pattern": r"^[^\S\x1c-\x1f\x85]*$"}]}


class PatientPatch(PatientFields):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"not": {
        "required": ["display_name", "local_id"],
        "properties": {"display_name": BLANK, "local_id": BLANK}}})

    version: int = Field(ge=1, le=MAX_ROW_ID,
                         description="the version you read; a newer one means 409")


class LesionFields(Strict):
    # A field that may be left out but not sent as null: no ``| None`` (the default is not
    # validated, so leaving it out still works).
    label: str = Field(default=None, min_length=1, max_length=60, pattern=HAS_TEXT)
    region: Literal[LOCATIONS] | None = None  # type: ignore[valid-type]
    side: Literal[LATERALITIES] | None = None  # type: ignore[valid-type]
    x: float | None = Field(default=None, ge=0, le=1, description="body-map position, 0..1")
    y: float | None = Field(default=None, ge=0, le=1)
    status: Literal[LESION_STATUSES] = None  # type: ignore[valid-type, assignment]
    nodule_count: int = Field(default=None, ge=1, le=10000,
                                     description="more than 1 for a cluster entered at once")


class LesionIn(LesionFields):
    label: str = Field(min_length=1, max_length=60, pattern=HAS_TEXT)
    size_cm: float | None = Field(default=None, ge=0, le=100)


class LesionPatch(LesionFields):
    version: int = Field(ge=1, le=MAX_ROW_ID)


class LumpIn(Strict):
    lesion_id: int = Field(ge=1, le=MAX_ROW_ID)
    findings: dict[str, Any] = Field(default_factory=dict, max_length=200)
    later_tests: dict[str, Any] | None = Field(
        default=None, description="null: taken from the lesion's recorded procedures")


class EncounterIn(Strict):
    occurred_on: Day
    note: str | None = Field(default=None, max_length=10000)
    setting: str | None = Field(default=None, max_length=50)
    patient: dict[str, Any] = Field(default_factory=dict, max_length=200,
                                    description="patient-level findings (age, fever, ...)")
    lumps: list[LumpIn] = Field(min_length=1, max_length=MAX_LUMPS, description=(
        "the lesions examined; a cluster of many nodules is one lesion with its nodule_count"))


class ComplicationIn(Strict):
    kind: Literal[COMPLICATIONS]  # type: ignore[valid-type]
    noted_on: Day
    notes: str | None = Field(default=None, max_length=2000)


def _kind_is(kinds: tuple[str, ...]) -> dict[str, Any]:
    return {"required": ["kind"], "properties": {"kind": {"enum": list(kinds)}}}


LESION_PROCEDURES = ("diagnostic_injection", "therapeutic_injection", "excision", "liposuction")
OTHER_KINDS = tuple(k for k in PROCEDURE_KINDS if k != "excision")


class ProcedureIn(Strict):
    """The rules of ``storage.visits.procedure_values``, in the schema too: a histopathology
    result only for an excision, pain before and after for a diagnostic injection, a lesion for
    procedures done on one."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"allOf": [
        {"if": _kind_is(OTHER_KINDS), "then": {"properties": {"histopathology": {
            "type": "null"}}}},
        {"if": _kind_is(("diagnostic_injection",)), "then": {
            "required": ["pain_before", "pain_after"],
            "properties": {"pain_before": {"type": "number"}, "pain_after": {"type": "number"}}}},
        {"if": _kind_is(LESION_PROCEDURES), "then": {
            "required": ["lesion_id"], "properties": {"lesion_id": {"type": "integer"}}}},
    ]})

    lesion_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    kind: Literal[PROCEDURE_KINDS]  # type: ignore[valid-type]
    performed_on: Day
    pain_before: float | None = Pain
    pain_after: float | None = Pain
    minutes_after: int | None = Field(default=None, ge=0, le=1440)
    with_steroid: bool | None = None
    histopathology: Literal[HISTOPATHOLOGY] | None = None  # type: ignore[valid-type]
    notes: str | None = Field(default=None, max_length=5000)
    complications: list[ComplicationIn] = Field(default_factory=list, max_length=20)


Reason = Field(min_length=1, max_length=2000, pattern=HAS_TEXT,
               description="why the entry is corrected or deleted (kept in the audit)")


CORRECTED_WITH_REASON = ("lesion_id", "kind", "performed_on", "pain_before", "pain_after",
                         "minutes_after", "with_steroid")


class ProcedurePatch(Strict):
    """Later facts (histopathology, notes) need no reason; correcting any other field does
    (the old values and the reason are kept). Fields left out keep their value."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"allOf": [
        {"if": {"anyOf": [{"required": [f]} for f in CORRECTED_WITH_REASON]},
         "then": {"required": ["reason"], "properties": {"reason": {"type": "string"}}}},
        # a correction (with a reason) changes at least one field
        {"if": {"required": ["reason"]},
         "then": {"anyOf": [{"required": [f]}
                            for f in (*CORRECTED_WITH_REASON, "histopathology", "notes")]}}]})

    version: int = Field(ge=1, le=MAX_ROW_ID)
    histopathology: Literal[HISTOPATHOLOGY] | None = None  # type: ignore[valid-type]
    notes: str | None = Field(default=None, max_length=5000)
    reason: str = Field(default=None, min_length=1, max_length=2000, pattern=HAS_TEXT,
                        description="required to correct a field other than histopathology "
                                    "or notes")
    lesion_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    kind: Literal[PROCEDURE_KINDS] = None  # type: ignore[valid-type, assignment]
    performed_on: Day = None  # type: ignore[assignment]
    pain_before: float | None = Pain
    pain_after: float | None = Pain
    minutes_after: int | None = Field(default=None, ge=0, le=1440)
    with_steroid: bool | None = None


class EncounterPatch(Strict):
    """A visit's date or note (its assessment is a snapshot, never changed): at least one."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"required": [f]} for f in ("occurred_on", "note")]})

    version: int = Field(ge=1, le=MAX_ROW_ID)
    reason: str = Reason
    occurred_on: Day = None  # type: ignore[assignment]
    note: str | None = Field(default=None, max_length=10000)


class OutcomePatch(Strict):
    """At least one field to correct, with the version read and the reason."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"required": [f]} for f in ("lesion_id", "measured_on", "pain", "odi", "satisfaction",
                                    "notes")]})
    version: int = Field(ge=1, le=MAX_ROW_ID)
    reason: str = Reason
    lesion_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    measured_on: Day = None  # type: ignore[assignment]
    pain: float | None = Pain
    odi: float | None = Field(default=None, ge=0, le=100)
    satisfaction: float | None = Field(default=None, ge=0, le=10)
    notes: str | None = Field(default=None, max_length=5000)


class Removal(Strict):
    """Deleting a visit, procedure or outcome: the version you read and why."""

    version: int = Field(ge=1, le=MAX_ROW_ID)
    reason: str = Reason


class AlertReviewIn(Strict):
    key: str = Field(min_length=1, max_length=60, pattern=r"^(complication:\d+|triage:\d+:\d+)$",
                     description="the alert's key, as the timeline lists it")
    note: str | None = Field(default=None, max_length=2000)


class ReferralDoneIn(Strict):
    version: int = Field(ge=1, le=MAX_ROW_ID)
    how: Literal[REFERRAL_OUTCOMES]  # type: ignore[valid-type]
    done_on: Day
    notes: str | None = Field(default=None, max_length=2000)


class PasswordChangeIn(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class PasswordResetIn(Strict):
    password: str = Field(min_length=10, max_length=256,
                          description="a temporary password; the user must change it at login")


class OutcomeIn(Strict):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"required": [m], "properties": {m: {"type": "number"}}}
        for m in ("pain", "odi", "satisfaction")]})

    lesion_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    measured_on: Day
    pain: float | None = Pain
    odi: float | None = Field(default=None, ge=0, le=100)
    satisfaction: float | None = Field(default=None, ge=0, le=10)
    notes: str | None = Field(default=None, max_length=5000)


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")
    password: str = Field(min_length=10, max_length=256)
    roles: list[Literal[ROLES]] = Field(min_length=1, max_length=3)  # type: ignore[valid-type]
    display_name: str | None = Field(default=None, max_length=200)
    clinic: str | None = Field(default=None, max_length=200)


class UserPatch(Strict):
    roles: list[Literal[ROLES]] | None = Field(default=None, min_length=1,  # type: ignore
                                               max_length=3)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=256)


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=200, description="what the token is for")


def changes(model: BaseModel, *, without: tuple[str, ...] = ("version",)) -> dict[str, Any]:
    """The fields the caller actually sent (so a PATCH changes only those)."""
    return {k: v for k, v in model.model_dump(exclude_unset=True).items() if k not in without}
