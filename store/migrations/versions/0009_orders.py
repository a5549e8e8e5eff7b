"""orders: orders, order items (frozen snapshot), status history, checkout tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = store.base.UTCDateTime
IRI = 2048
DECIMAL_TEXT = sa.String(40)  # cart.catalog.models.DecimalText


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("ap_id", sa.String(IRI), nullable=False),
        sa.Column("cart_id", sa.String(64), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("page_key", sa.String(40), nullable=False),
        sa.Column("page_ap_id", sa.String(IRI), nullable=True),
        sa.Column("page_name", sa.Text(), nullable=False),
        sa.Column("page_url", sa.String(IRI), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_amount", DECIMAL_TEXT, nullable=False),
        sa.Column("checkout_token", sa.String(64), nullable=False),
        sa.Column("checkout_id", sa.String(128), nullable=True),
        sa.Column("checkout_url", sa.String(IRI), nullable=True),
        sa.Column("valid_until", UTC(), nullable=False),
        sa.Column("provider_status", sa.String(16), nullable=True),
        sa.Column("transaction_id", sa.String(128), nullable=True),
        sa.Column("flag", sa.Text(), nullable=True),
        sa.Column("shopper_note", sa.Text(), nullable=True),
        sa.Column("refund_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", UTC(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.Column("paid_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("public_id", name="uq_orders_public_id"),
        sa.UniqueConstraint("ap_id", name="uq_orders_ap_id"),
        sa.UniqueConstraint("checkout_token", name="uq_orders_checkout_token"),
        sa.UniqueConstraint("checkout_id", name="uq_orders_checkout_id"),
        # Order numbers come from this id: never reuse one, even after a delete.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_orders_cart_id", "orders", ["cart_id"])
    op.create_index("ix_orders_account_id", "orders", ["account_id"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_order_items_order_id_orders"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_ap_id", sa.String(IRI), nullable=False),
        sa.Column("ap_actor_id", sa.String(IRI), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit_amount", DECIMAL_TEXT, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("claim_state", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_order_items"),
    )
    op.create_index("ix_order_items_order_id", "order_items", ["order_id"])
    op.create_index("ix_order_items_ap_actor_id", "order_items", ["ap_actor_id"])
    op.create_table(
        "order_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_order_status_history_order_id_orders"),
            nullable=False,
        ),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_order_status_history"),
    )
    op.create_index("ix_order_status_history_order_id", "order_status_history", ["order_id"])
    op.create_table(
        "checkout_tokens",
        sa.Column("owner_key", sa.String(80), nullable=False),
        sa.Column("page_key", sa.String(40), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_checkout_tokens_order_id_orders"),
            nullable=True,
        ),
        sa.Column("created_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("owner_key", "page_key", name="pk_checkout_tokens"),
        sa.UniqueConstraint("token", name="uq_checkout_tokens_token"),
    )


def downgrade() -> None:
    op.drop_table("checkout_tokens")
    op.drop_index("ix_order_status_history_order_id", table_name="order_status_history")
    op.drop_table("order_status_history")
    op.drop_index("ix_order_items_ap_actor_id", table_name="order_items")
    op.drop_index("ix_order_items_order_id", table_name="order_items")
    op.drop_table("order_items")
    op.drop_index("ix_orders_status", table_name="orders")
    op.drop_index("ix_orders_account_id", table_name="orders")
    op.drop_index("ix_orders_cart_id", table_name="orders")
    op.drop_table("orders")
