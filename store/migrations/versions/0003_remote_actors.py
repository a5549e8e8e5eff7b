"""remote_actors: cached remote actors and their public keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_actors",
        sa.Column("ap_id", sa.String(2048), primary_key=True),
        sa.Column("inbox", sa.Text(), nullable=True),
        sa.Column("shared_inbox", sa.Text(), nullable=True),
        sa.Column("public_key_id", sa.String(2048), nullable=True),
        sa.Column("public_key_pem", sa.Text(), nullable=True),
        sa.Column("multikeys", sa.JSON(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("fetched_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("gone_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("last_refresh_attempt", store.base.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("remote_actors")
