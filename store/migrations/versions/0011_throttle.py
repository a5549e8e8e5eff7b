"""throttle: counted events of login, register and checkout, shared by every process

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bucket", sa.String(64), nullable=False),
        sa.Column("at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_throttle_hits"),
    )
    op.create_index("ix_throttle_hits_bucket_at", "throttle_hits", ["bucket", "at"])
    op.create_index("ix_throttle_hits_at", "throttle_hits", ["at"])


def downgrade() -> None:
    op.drop_table("throttle_hits")
