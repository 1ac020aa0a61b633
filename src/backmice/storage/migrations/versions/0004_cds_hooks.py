"""CDS Hooks: the registered EHR clients, the JWT ids already accepted, the cards sent and the
feedback on them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Document = sa.JSON().with_variant(JSONB(), "postgresql")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cds_client",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issuer", sa.String(500), nullable=False, unique=True),
        sa.Column("jwks", Document, nullable=True),
        sa.Column("jwks_url", sa.String(2000), nullable=True),
        sa.Column("added_at", TZ, nullable=False),
    )
    op.create_table(
        "cds_seen_token",
        sa.Column("issuer", sa.String(500), primary_key=True),
        sa.Column("jti", sa.String(200), primary_key=True),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_index("ix_cds_seen_token_expires_at", "cds_seen_token", ["expires_at"])
    op.create_table(
        "cds_card",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
    )
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("card_uuid", sa.String(36), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("override_reason", sa.String(100), nullable=True),
        sa.Column("outcome_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
    )
    op.create_index("ix_cds_feedback_card_uuid", "cds_feedback", ["card_uuid"])


def downgrade() -> None:
    op.drop_index("ix_cds_feedback_card_uuid", table_name="cds_feedback")
    op.drop_table("cds_feedback")
    op.drop_table("cds_card")
    op.drop_index("ix_cds_seen_token_expires_at", table_name="cds_seen_token")
    op.drop_table("cds_seen_token")
    op.drop_table("cds_client")
