"""The frozen records of the follow-up store: users and who is acting, patients, lesions,
encounters (immutable assessment snapshots), procedures, complications, outcomes and audit
events. Storage builds them from rows; nothing above storage ever sees an ORM row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making a request: a logged-in user or the owner of an API token."""

    user_id: int
    username: str
    clinic_id: int
    roles: tuple[str, ...]
    client: str = ""  # the client address, for the audit log

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    clinic_id: int
    clinic_name: str
    active: bool
    created_at: dt.datetime
    locked_until: dt.datetime | None = None
    must_change_password: bool = False  # set by an admin's reset, cleared by a change

    def actor(self, client: str = "") -> Actor:
        return Actor(self.id, self.username, self.clinic_id, self.roles, client)


@dataclass(frozen=True, slots=True)
class LoginSession:
    """A logged-in browser: the user and the CSRF token its forms must carry."""

    user: User
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    prefix: str  # the first characters, to recognise a token without storing it
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    clinic_id: int
    display_name: str | None
    local_id: str | None
    birth_date: dt.date | None
    sex: str | None
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @property
    def label(self) -> str:
        return self.display_name or self.local_id or f"patient {self.id}"


@dataclass(frozen=True, slots=True)
class Lesion:
    id: int
    patient_id: int
    label: str
    region: str | None
    side: str | None
    x: float | None  # position on the body map, 0..1 from the left / top
    y: float | None
    status: str
    nodule_count: int  # 1 for a single lump; more for a cluster entered at once
    first_size_cm: float | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @property
    def is_cluster(self) -> bool:
        return self.nodule_count > 1


@dataclass(frozen=True, slots=True)
class LesionSummary:
    """One lesion's line in one encounter: what the snapshot concluded for it."""

    lesion_id: int
    lump_key: str
    top_condition: str
    top_probability: float
    triage: str
    size_cm: float | None


@dataclass(frozen=True, slots=True)
class Encounter:
    """A visit: the findings that were entered and the assessment as it was shown, never
    recomputed (with the KB and engine versions that produced it)."""

    id: int
    patient_id: int
    occurred_on: dt.date
    created_at: dt.datetime
    created_by: str | None
    note: str | None
    input_doc: dict[str, Any]
    result_doc: dict[str, Any]
    kb_version: str
    engine_version: str
    triage: str
    lesions: tuple[LesionSummary, ...] = ()
    version: int = 1


@dataclass(frozen=True, slots=True)
class Complication:
    id: int
    procedure_id: int
    kind: str
    noted_on: dt.date
    notes: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Procedure:
    id: int
    patient_id: int
    lesion_id: int | None
    kind: str
    performed_on: dt.date
    pain_before: float | None
    pain_after: float | None
    minutes_after: int | None
    with_steroid: bool | None
    histopathology: str | None
    notes: str | None
    created_at: dt.datetime
    created_by: str | None
    version: int
    complications: tuple[Complication, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Outcome:
    id: int
    patient_id: int
    lesion_id: int | None
    measured_on: dt.date
    pain: float | None
    odi: float | None
    satisfaction: float | None
    notes: str | None
    created_at: dt.datetime
    created_by: str | None
    version: int = 1


@dataclass(frozen=True, slots=True)
class AlertReview:
    """A clinician's review of one alert (``alert_key``, see ``followup.alerts``)."""

    id: int
    patient_id: int
    alert_key: str
    reviewed_at: dt.datetime
    reviewed_by: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Referral:
    """A lesion triaged urgent (within two weeks or sooner) needs a referral by ``due_on``;
    a clinician marks it done (sent or seen) with the date."""

    id: int
    patient_id: int
    lesion_id: int
    encounter_id: int
    triage: str
    opened_on: dt.date
    due_on: dt.date
    status: str  # "open" or "done"
    done_how: str | None
    done_on: dt.date | None
    done_by: str | None
    done_at: dt.datetime | None
    notes: str | None
    created_at: dt.datetime
    version: int

    def is_overdue(self, today: dt.date) -> bool:
        """Still open after its due date (``today`` is passed in: no clock here)."""
        return self.status == "open" and today > self.due_on


@dataclass(frozen=True, slots=True)
class Correction:
    """A visit, procedure or outcome corrected (``update``) or deleted (``delete``): who, when,
    why, and the values it had before."""

    id: int
    patient_id: int
    target: str  # "encounter:3", "procedure:5", "outcome:7"
    action: str
    reason: str
    old: dict[str, Any]
    at: dt.datetime
    username: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """Everything recorded for one patient, oldest first within each list."""

    patient: Patient
    lesions: tuple[Lesion, ...]
    encounters: tuple[Encounter, ...]
    procedures: tuple[Procedure, ...]
    outcomes: tuple[Outcome, ...]
    # When ``encounters`` is one page of the visits (newest first pages, each page oldest first):
    # how many visits there are in all, and every visit's per-lesion summary line as
    # (date, encounter id, line), oldest first, for the latest result and size of each lesion.
    encounters_total: int | None = None
    history: tuple[tuple[dt.date, int, LesionSummary], ...] | None = None
    reviews: tuple[AlertReview, ...] = ()
    referrals: tuple[Referral, ...] = ()
    corrections: tuple[Correction, ...] = ()

    def visit_lines(self) -> list[tuple[dt.date, int, LesionSummary]]:
        """Every visit's per-lesion line, oldest first (all visits, even when paged)."""
        if self.history is not None:
            return list(self.history)
        return [(e.occurred_on, e.id, line) for e in self.encounters for line in e.lesions]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: dt.datetime
    user_id: int | None
    username: str
    action: str
    patient_id: int | None
    target: str
    client: str


@dataclass(frozen=True, slots=True)
class ClinicFollowup:
    """The clinic's alerts and open referrals, as the material to list them: the patients
    concerned (by id), procedures with alerting complications, visit lines triaged urgent as
    (patient id, date, encounter id, line), every alert review, the open referrals."""

    patients: dict[int, Patient]
    procedures: tuple[Procedure, ...]
    visit_lines: tuple[tuple[int, dt.date, int, LesionSummary], ...]
    reviews: tuple[AlertReview, ...]
    referrals: tuple[Referral, ...]
