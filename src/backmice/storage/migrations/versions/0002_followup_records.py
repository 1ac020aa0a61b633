"""Accounts (clinics, users, login sessions, API tokens), the follow-up record (patients,
lesions, encounters, procedures, complications, outcomes) and the append-only audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# Tables whose ids the audit log names use AUTOINCREMENT on SQLite, so an id is never reused.

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Document = sa.JSON().with_variant(JSONB(), "postgresql")
TZ = sa.DateTime(timezone=True)

APPEND_ONLY_MESSAGE = "the audit log is append-only"


def _cascade(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "clinic",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("clinic_id", sa.Integer, sa.ForeignKey("clinic.id"), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, _cascade("app_user"), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Integer, _cascade("app_user"), nullable=False, index=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("clinic_id", sa.Integer, sa.ForeignKey("clinic.id"), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("search_name", sa.String(200), nullable=True),
        sa.Column("local_id", sa.String(64), nullable=True),
        sa.Column("birth_date", sa.Date, nullable=True),
        sa.Column("sex", sa.String(10), nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint("display_name IS NOT NULL OR local_id IS NOT NULL",
                           name="ck_patient_named"),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_index("ix_patient_clinic_name", "patient", ["clinic_id", "search_name"])
    op.create_index("ix_patient_clinic_local_id", "patient", ["clinic_id", "local_id"])
    op.create_index("ix_patient_clinic_birth_date", "patient", ["clinic_id", "birth_date"])
    op.create_index("ix_patient_clinic_updated", "patient", ["clinic_id", "updated_at"])
    op.create_table(
        "lesion",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, _cascade("patient"), nullable=False, index=True),
        sa.Column("label", sa.String(60), nullable=False),
        sa.Column("region", sa.String(40), nullable=True),
        sa.Column("side", sa.String(20), nullable=True),
        sa.Column("x", sa.Float, nullable=True),
        sa.Column("y", sa.Float, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("nodule_count", sa.Integer, nullable=False),
        sa.Column("first_size_cm", sa.Float, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_table(
        "encounter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, _cascade("patient"), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("input_doc", Document, nullable=False),
        sa.Column("result_doc", Document, nullable=False),
        sa.Column("kb_version", sa.String(40), nullable=False),
        sa.Column("engine_version", sa.String(40), nullable=False),
        sa.Column("triage", sa.String(20), nullable=False),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_index("ix_encounter_patient_date", "encounter", ["patient_id", "occurred_on"])
    op.create_table(
        "encounter_lesion",
        sa.Column("encounter_id", sa.Integer, _cascade("encounter"), primary_key=True),
        sa.Column("lesion_id", sa.Integer, _cascade("lesion"), primary_key=True, index=True),
        sa.Column("lump_key", sa.String(60), nullable=False),
        sa.Column("top_condition", sa.String(60), nullable=False),
        sa.Column("top_probability", sa.Float, nullable=False),
        sa.Column("triage", sa.String(20), nullable=False),
        sa.Column("size_cm", sa.Float, nullable=True),
    )
    op.create_table(
        "procedure",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, _cascade("patient"), nullable=False),
        sa.Column("lesion_id", sa.Integer, _cascade("lesion"), nullable=True, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("performed_on", sa.Date, nullable=False),
        sa.Column("pain_before", sa.Float, nullable=True),
        sa.Column("pain_after", sa.Float, nullable=True),
        sa.Column("minutes_after", sa.Integer, nullable=True),
        sa.Column("with_steroid", sa.Boolean, nullable=True),
        sa.Column("histopathology", sa.String(60), nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_index("ix_procedure_patient_date", "procedure", ["patient_id", "performed_on"])
    op.create_table(
        "complication",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("procedure_id", sa.Integer, _cascade("procedure"), nullable=False, index=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("noted_on", sa.Date, nullable=False),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, _cascade("patient"), nullable=False),
        sa.Column("lesion_id", sa.Integer, _cascade("lesion"), nullable=True, index=True),
        sa.Column("measured_on", sa.Date, nullable=False),
        sa.Column("pain", sa.Float, nullable=True),
        sa.Column("odi", sa.Float, nullable=True),
        sa.Column("satisfaction", sa.Float, nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_index("ix_outcome_patient_date", "outcome", ["patient_id", "measured_on"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("patient_id", sa.Integer, nullable=True),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_patient", "audit_event", ["patient_id", "at"])
    _append_only("audit_event")


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` in the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END;
            $$ LANGUAGE plpgsql""")
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""")
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER {table}_no_{what.lower()} BEFORE {what} ON {table}
                BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    for table in ("audit_event", "outcome", "complication", "procedure", "encounter_lesion",
                  "encounter", "lesion", "patient", "api_token", "login_session", "app_user",
                  "clinic"):
        op.drop_table(table)
