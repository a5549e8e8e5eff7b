"""cart: accounts and the server-side rows of logged-in sessions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = store.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.UniqueConstraint("email_key", name="uq_accounts_email_key"),
        sa.CheckConstraint("role IN ('shopper', 'operator')", name="ck_accounts_role"),
    )
    op.create_table(
        "account_sessions",
        sa.Column("sid_hash", sa.String(64), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_account_sessions_account_id_accounts"
            ),
            nullable=False,
        ),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
    )
    op.create_index("ix_account_sessions_account_id", "account_sessions", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_account_sessions_account_id", table_name="account_sessions")
    op.drop_table("account_sessions")
    op.drop_table("accounts")
