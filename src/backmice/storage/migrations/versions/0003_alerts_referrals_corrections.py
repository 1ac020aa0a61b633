"""Alert reviews, referrals for urgent lesions, corrections of visits, procedures and outcomes
(the old value and the reason), versions on encounters and outcomes (optimistic checks for
corrections), and the must-change-password flag of an admin's password reset.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Document = sa.JSON().with_variant(JSONB(), "postgresql")
TZ = sa.DateTime(timezone=True)


def _cascade(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    op.add_column("app_user", sa.Column("must_change_password", sa.Boolean, nullable=False,
                                        server_default=sa.false()))
    op.add_column("encounter", sa.Column("version", sa.Integer, nullable=False,
                                         server_default=sa.text("1")))
    op.add_column("outcome", sa.Column("version", sa.Integer, nullable=False,
                                       server_default=sa.text("1")))
    op.create_table(
        "alert_review",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, _cascade("patient"), nullable=False),
        sa.Column("alert_key", sa.String(60), nullable=False),
        sa.Column("reviewed_at", TZ, nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.UniqueConstraint("patient_id", "alert_key", name="uq_alert_review_key"),
        sqlite_autoincrement=True,  # ids named by the audit log are never reused
    )
    op.create_table(
        "referral",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, _cascade("patient"), nullable=False),
        sa.Column("lesion_id", sa.Integer, _cascade("lesion"), nullable=False, index=True),
        sa.Column("encounter_id", sa.Integer, _cascade("encounter"), nullable=False,
                  index=True),
        sa.Column("triage", sa.String(20), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("done_how", sa.String(20), nullable=True),
        sa.Column("done_on", sa.Date, nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("done_at", TZ, nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_referral_patient_status", "referral", ["patient_id", "status"])
    op.create_table(
        "record_correction",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, _cascade("patient"), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("old_doc", Document, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_record_correction_patient", "record_correction", ["patient_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_record_correction_patient", "record_correction")
    op.drop_table("record_correction")
    op.drop_index("ix_referral_patient_status", "referral")
    op.drop_table("referral")
    op.drop_table("alert_review")
    op.drop_column("outcome", "version")
    op.drop_column("encounter", "version")
    op.drop_column("app_user", "must_change_password")
