"""time zones: the venue's zone on calendar entries, and the class time on order items

An order item keeps the entry's start time and zone as a snapshot, like its name and
price, so the order page and its mails show when the class is, even after the
calendar withdraws the entry.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ZONE = sa.String(64)


def upgrade() -> None:
    op.add_column("catalog_items", sa.Column("time_zone", ZONE, nullable=True))
    op.add_column("order_items", sa.Column("start_time", store.base.UTCDateTime(), nullable=True))
    op.add_column("order_items", sa.Column("time_zone", ZONE, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_items") as batch:
        batch.drop_column("time_zone")
        batch.drop_column("start_time")
    with op.batch_alter_table("catalog_items") as batch:
        batch.drop_column("time_zone")
