"""inbox_activities: every delivery we acknowledged, and what became of it

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_activities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ap_id", sa.String(2048), nullable=False),
        sa.Column("ap_actor_id", sa.String(2048), nullable=False),
        sa.Column("activity_type", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_until", store.base.UTCDateTime(), nullable=True),
        sa.Column("processed_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("ap_id", name="uq_inbox_activities_ap_id"),
    )
    op.create_index("ix_inbox_activities_due", "inbox_activities", ["status", "next_attempt_at"])
    op.create_index("ix_inbox_activities_ap_actor_id", "inbox_activities", ["ap_actor_id"])


def downgrade() -> None:
    op.drop_table("inbox_activities")
