"""an entry's seats in all, so the shop says "2 of 8 seats left" as the venue does

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("catalog_items", sa.Column("capacity", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalog_items") as batch:
        batch.drop_column("capacity")
