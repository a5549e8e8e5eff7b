"""order items by item: checkout counts unanswered claims on a product (cart.orders.stock)

Checkout asks "how many of this product do our orders hold that its market has not
answered?" for every product line with a stock figure; without this index that is a
scan of every order line ever placed.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_order_items_item_ap_id_claim_state", "order_items", ["item_ap_id", "claim_state"]
    )


def downgrade() -> None:
    op.drop_index("ix_order_items_item_ap_id_claim_state", table_name="order_items")
