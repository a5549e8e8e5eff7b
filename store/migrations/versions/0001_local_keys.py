"""local_keys: our key pairs, private halves sealed under SECRET_KEY

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("retired_at", store.base.UTCDateTime(), nullable=True),
    )
    # One active key of each kind, so two processes starting at once cannot both create one.
    op.create_index(
        "uq_local_keys_active_kind",
        "local_keys",
        ["kind"],
        unique=True,
        sqlite_where=sa.text("retired_at IS NULL"),
        postgresql_where=sa.text("retired_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_local_keys_active_kind", table_name="local_keys")
    op.drop_table("local_keys")
