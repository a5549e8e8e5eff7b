"""pending registrations: the mailed link that finishes creating an account (e-mail first)

Only the SHA-256 of each link's token is stored; rows expire after a day and the clean-up
loop deletes them (cart/identity/registrations.py).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_registrations",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_pending_registrations"),
    )
    op.create_index("ix_pending_registrations_email_key", "pending_registrations", ["email_key"])
    op.create_index("ix_pending_registrations_expires_at", "pending_registrations", ["expires_at"])


def downgrade() -> None:
    op.drop_table("pending_registrations")
