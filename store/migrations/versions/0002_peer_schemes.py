"""peer_signature_schemes: which HTTP signature scheme each peer origin accepted

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_signature_schemes",
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.Column("updated_at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("origin", name="pk_peer_signature_schemes"),
    )


def downgrade() -> None:
    op.drop_table("peer_signature_schemes")
