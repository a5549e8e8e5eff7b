"""order refunds: partial refunds by line or amount, with the reason the shopper sees

A whole refund moves the order itself (paid -> refund_requested -> refunded) and is
recorded here as state `whole` (who asked, why); a partial one leaves the order paid
and is a row here in state `requested`, carried out by the reconciler like a whole one.
`lines` is JSON `[[order_item_id, quantity], ...]`. `requested_by` is for the
operator's eyes only: the shopper sees the amount, the lines and the reason.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

DECIMAL_TEXT = sa.String(40)  # cart.catalog.models.DecimalText


def upgrade() -> None:
    op.create_table(
        "order_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_order_refunds_order_id_orders"),
            nullable=False,
        ),
        sa.Column("amount", DECIMAL_TEXT, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", store.base.UTCDateTime(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("done_at", store.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_order_refunds"),
    )
    op.create_index("ix_order_refunds_order_id", "order_refunds", ["order_id"])
    op.create_index("ix_order_refunds_state", "order_refunds", ["state"])


def downgrade() -> None:
    op.drop_index("ix_order_refunds_state", table_name="order_refunds")
    op.drop_index("ix_order_refunds_order_id", table_name="order_refunds")
    op.drop_table("order_refunds")
