"""catalog_backfills: durable jobs that fill the catalogue mirror from a peer

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_backfills",
        sa.Column("ap_actor_id", sa.String(2048), primary_key=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("requested_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("due_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("lease_until", store.base.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(none_as_null=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("catalog_backfills")
