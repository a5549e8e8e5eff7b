"""fulfilment: what a page offers (pickup, delivery) and what each order chose

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ORDER_COLUMNS = (  # (name, type)
    ("fulfilment_kind", sa.String(16)),
    ("fulfilment_key", sa.String(32)),
    ("fulfilment_id", sa.String(2048)),
    ("fulfilment_name", sa.Text()),
    ("fulfilment_place", sa.Text()),
    ("fulfilment_start", store.base.UTCDateTime()),
    ("fulfilment_end", store.base.UTCDateTime()),
    ("fulfilment_fee", sa.String(40)),
    ("delivery_address", sa.Text()),
)


def upgrade() -> None:
    op.add_column("catalog_pages", sa.Column("fulfilment", sa.Text(), nullable=True))
    for name, kind in ORDER_COLUMNS:
        op.add_column("orders", sa.Column(name, kind, nullable=True))
    op.create_index("ix_orders_packing", "orders", ["page_key", "fulfilment_key"])


def downgrade() -> None:
    op.drop_index("ix_orders_packing", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        for name, _ in ORDER_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("catalog_pages") as batch:
        batch.drop_column("fulfilment")
