"""lease tokens on catalogue backfills, orders and mail: every leased table claims one way

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLES = ("catalog_backfills", "orders", "outgoing_mail")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("lease_token", sa.String(32), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_token")
