"""The database tables (SQLAlchemy 2 declarative). Changes go through an Alembic migration, and a
test checks that the migrations build exactly these tables.

Public content: saved assessments, feedback. Accounts: clinics, users, login sessions, API
tokens. The follow-up record (every row belongs to one clinic through its patient): patients,
lesions, encounters with their per-lesion summaries, procedures, complications, outcomes, alert
reviews, referrals and corrections (the old value and the reason of a corrected or deleted
entry). And the append-only audit log (no foreign keys: it outlives what it mentions).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# JSONB on PostgreSQL (indexable, compact); plain JSON text on SQLite.
Document = JSON().with_variant(JSONB(), "postgresql")


# Ids that the audit log names are never handed out again on SQLite (AUTOINCREMENT), so a new
# patient cannot inherit a deleted patient's audit trail. PostgreSQL sequences never reuse ids.
NEVER_REUSE = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    pass


class SavedAssessmentRow(Base):
    __tablename__ = "saved_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    share_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    kb_version: Mapped[str] = mapped_column(String(40))
    engine_version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(200))
    input_doc: Mapped[dict[str, Any]] = mapped_column(Document)
    result_doc: Mapped[dict[str, Any]] = mapped_column(Document)


class FeedbackRow(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    page: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    text: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    kb_version: Mapped[str] = mapped_column(String(40))


# --- accounts -----------------------------------------------------------------------------------
class ClinicRow(Base):
    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    __tablename__ = "app_user"
    __table_args__ = (NEVER_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(100))  # space-separated, from followup.vocab.ROLES
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())


class LoginSessionRow(Base):
    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"),
                                         index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApiTokenRow(Base):
    __tablename__ = "api_token"
    __table_args__ = (NEVER_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- the follow-up record -----------------------------------------------------------------------
class PatientRow(Base):
    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint("display_name IS NOT NULL OR local_id IS NOT NULL",
                        name="ck_patient_named"),
        Index("ix_patient_clinic_name", "clinic_id", "search_name"),
        Index("ix_patient_clinic_local_id", "clinic_id", "local_id"),
        Index("ix_patient_clinic_birth_date", "clinic_id", "birth_date"),
        Index("ix_patient_clinic_updated", "clinic_id", "updated_at"),
        NEVER_REUSE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    display_name: Mapped[str | None] = mapped_column(String(200))
    search_name: Mapped[str | None] = mapped_column(String(200))  # casefolded, for search
    local_id: Mapped[str | None] = mapped_column(String(64))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class LesionRow(Base):
    __tablename__ = "lesion"
    __table_args__ = (NEVER_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"),
                                            index=True)
    label: Mapped[str] = mapped_column(String(60))
    region: Mapped[str | None] = mapped_column(String(40))
    side: Mapped[str | None] = mapped_column(String(20))
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    nodule_count: Mapped[int] = mapped_column(Integer, default=1)
    first_size_cm: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class EncounterRow(Base):
    __tablename__ = "encounter"
    __table_args__ = (Index("ix_encounter_patient_date", "patient_id", "occurred_on"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    input_doc: Mapped[dict[str, Any]] = mapped_column(Document)
    result_doc: Mapped[dict[str, Any]] = mapped_column(Document)
    kb_version: Mapped[str] = mapped_column(String(40))
    engine_version: Mapped[str] = mapped_column(String(40))
    triage: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class EncounterLesionRow(Base):
    __tablename__ = "encounter_lesion"

    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounter.id", ondelete="CASCADE"), primary_key=True)
    lesion_id: Mapped[int] = mapped_column(
        ForeignKey("lesion.id", ondelete="CASCADE"), primary_key=True, index=True)
    lump_key: Mapped[str] = mapped_column(String(60))
    top_condition: Mapped[str] = mapped_column(String(60))
    top_probability: Mapped[float] = mapped_column(Float)
    triage: Mapped[str] = mapped_column(String(20))
    size_cm: Mapped[float | None] = mapped_column(Float)


class ProcedureRow(Base):
    __tablename__ = "procedure"
    __table_args__ = (Index("ix_procedure_patient_date", "patient_id", "performed_on"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    lesion_id: Mapped[int | None] = mapped_column(ForeignKey("lesion.id", ondelete="CASCADE"),
                                                  index=True)
    kind: Mapped[str] = mapped_column(String(40))
    performed_on: Mapped[dt.date] = mapped_column(Date)
    pain_before: Mapped[float | None] = mapped_column(Float)
    pain_after: Mapped[float | None] = mapped_column(Float)
    minutes_after: Mapped[int | None] = mapped_column(Integer)
    with_steroid: Mapped[bool | None] = mapped_column(Boolean)
    histopathology: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ComplicationRow(Base):
    __tablename__ = "complication"
    __table_args__ = (NEVER_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedure.id", ondelete="CASCADE"),
                                              index=True)
    kind: Mapped[str] = mapped_column(String(30))
    noted_on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class OutcomeRow(Base):
    __tablename__ = "outcome"
    __table_args__ = (Index("ix_outcome_patient_date", "patient_id", "measured_on"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    lesion_id: Mapped[int | None] = mapped_column(ForeignKey("lesion.id", ondelete="CASCADE"),
                                                  index=True)
    measured_on: Mapped[dt.date] = mapped_column(Date)
    pain: Mapped[float | None] = mapped_column(Float)
    odi: Mapped[float | None] = mapped_column(Float)
    satisfaction: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


# --- alerts, referrals and corrections (migration 0003) ------------------------------------------
class AlertReviewRow(Base):
    __tablename__ = "alert_review"
    __table_args__ = (UniqueConstraint("patient_id", "alert_key", name="uq_alert_review_key"),
                      NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    alert_key: Mapped[str] = mapped_column(String(60))
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)


class ReferralRow(Base):
    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_patient_status", "patient_id", "status"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    lesion_id: Mapped[int] = mapped_column(ForeignKey("lesion.id", ondelete="CASCADE"),
                                           index=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounter.id", ondelete="CASCADE"),
                                              index=True)
    triage: Mapped[str] = mapped_column(String(20))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    done_how: Mapped[str | None] = mapped_column(String(20))
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class RecordCorrectionRow(Base):
    """The value a visit, procedure or outcome had before it was corrected or deleted, and
    why (the audit event names the action; this keeps what it changed)."""

    __tablename__ = "record_correction"
    __table_args__ = (Index("ix_record_correction_patient", "patient_id", "at"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    old_doc: Mapped[dict[str, Any]] = mapped_column(Document)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer)


# --- the audit log (append-only: triggers refuse UPDATE and DELETE) ------------------------------
class AuditEventRow(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_patient", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(80))
    client: Mapped[str] = mapped_column(String(64))


# --- CDS Hooks ----------------------------------------------------------------------------------
class CdsClientRow(Base):
    """An EHR allowed to call the CDS Hooks services: its JWT issuer and JWK Set (the set
    itself, read from a file, or the URL it is fetched from)."""

    __tablename__ = "cds_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500), unique=True)
    jwks: Mapped[Any | None] = mapped_column(Document)
    jwks_url: Mapped[str | None] = mapped_column(String(2000))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CdsSeenTokenRow(Base):
    """Every JWT id accepted, until its expiry: a token is accepted once (no replay)."""

    __tablename__ = "cds_seen_token"

    issuer: Mapped[str] = mapped_column(String(500), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class CdsCardRow(Base):
    """A card sent, by kind (critical, warning, info), so feedback can be counted per kind."""

    __tablename__ = "cds_card"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    service: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CdsFeedbackRow(Base):
    """What the clinician did with a card: accepted (a suggestion taken) or overridden (with
    the reason given)."""

    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_uuid: Mapped[str] = mapped_column(String(36), index=True)
    service: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    override_reason: Mapped[str | None] = mapped_column(String(100))
    outcome_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
