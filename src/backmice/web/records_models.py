"""Request models of the patient-record API (/api/v1/patients and friends).

They check shape and ranges and document the API in OpenAPI; the storage layer checks the same
rules again (it is the last line: the CLI and imports write through it too).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backmice.findings import HISTOPATHOLOGY, LATERALITIES, LOCATIONS
from backmice.followup.vocab import (
    COMPLICATIONS,
    LESION_STATUSES,
    PATIENT_SEXES,
    PROCEDURE_KINDS,
    ROLES,
)

Pain = Field(default=None, ge=0, le=10)
MAX_ROW_ID = 2**31 - 1  # row ids and versions are 32-bit whole numbers


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientFields(Strict):
    display_name: str | None = Field(default=None, max_length=200)
    local_id: str | None = Field(default=None, max_length=64,
                                 description="the clinic's own identifier (e.g. a record number)")
    birth_date: dt.date | None = None
    sex: Literal[PATIENT_SEXES] | None = None  # type: ignore[valid-type]
    notes: str | None = Field(default=None, max_length=5000)


class PatientIn(PatientFields):
    """A new patient: a display name or a local identifier is required; the rest optional."""


class PatientPatch(PatientFields):
    version: int = Field(ge=1, le=MAX_ROW_ID,
                         description="the version you read; a newer one means 409")


class LesionFields(Strict):
    label: str | None = Field(default=None, min_length=1, max_length=60)
    region: Literal[LOCATIONS] | None = None  # type: ignore[valid-type]
    side: Literal[LATERALITIES] | None = None  # type: ignore[valid-type]
    x: float | None = Field(default=None, ge=0, le=1, description="body-map position, 0..1")
    y: float | None = Field(default=None, ge=0, le=1)
    status: Literal[LESION_STATUSES] | None = None  # type: ignore[valid-type]
    nodule_count: int | None = Field(default=None, ge=1, le=10000,
                                     description="more than 1 for a cluster entered at once")


class LesionIn(LesionFields):
    label: str = Field(min_length=1, max_length=60)
    size_cm: float | None = Field(default=None, ge=0, le=100)


class LesionPatch(LesionFields):
    version: int = Field(ge=1, le=MAX_ROW_ID)


class LumpIn(Strict):
    lesion_id: int = Field(ge=1, le=MAX_ROW_ID)
    findings: dict[str, Any] = Field(default_factory=dict, max_length=200)
    later_tests: dict[str, Any] | None = Field(
        default=None, description="null: taken from the lesion's recorded procedures")


class EncounterIn(Strict):
    occurred_on: dt.date
    note: str | None = Field(default=None, max_length=10000)
    setting: str | None = Field(default=None, max_length=50)
    patient: dict[str, Any] = Field(default_factory=dict, max_length=200,
                                    description="patient-level findings (age, fever, ...)")
    lumps: list[LumpIn] = Field(min_length=1, max_length=2000)


class ComplicationIn(Strict):
    kind: Literal[COMPLICATIONS]  # type: ignore[valid-type]
    noted_on: dt.date
    notes: str | None = Field(default=None, max_length=2000)


class ProcedureIn(Strict):
    lesion_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    kind: Literal[PROCEDURE_KINDS]  # type: ignore[valid-type]
    performed_on: dt.date
    pain_before: float | None = Pain
    pain_after: float | None = Pain
    minutes_after: int | None = Field(default=None, ge=0, le=1440)
    with_steroid: bool | None = None
    histopathology: Literal[HISTOPATHOLOGY] | None = None  # type: ignore[valid-type]
    notes: str | None = Field(default=None, max_length=5000)
    complications: list[ComplicationIn] = Field(default_factory=list, max_length=20)


class ProcedurePatch(Strict):
    version: int = Field(ge=1, le=MAX_ROW_ID)
    histopathology: Literal[HISTOPATHOLOGY] | None = None  # type: ignore[valid-type]
    notes: str | None = Field(default=None, max_length=5000)


class OutcomeIn(Strict):
    lesion_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    measured_on: dt.date
    pain: float | None = Pain
    odi: float | None = Field(default=None, ge=0, le=100)
    satisfaction: float | None = Field(default=None, ge=0, le=10)
    notes: str | None = Field(default=None, max_length=5000)


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=64)
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
