"""cart: the catalogue mirror (pages, items) and cart lines

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = store.base.UTCDateTime
IRI = 2048
# Exact decimals are stored as text ("3.50"): cart.catalog.models.DecimalText.
DECIMAL_TEXT = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "catalog_pages",
        sa.Column("ap_id", sa.String(IRI), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("url", sa.String(IRI), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("ap_id", name="pk_catalog_pages"),
        sa.UniqueConstraint("key", name="uq_catalog_pages_key"),
    )
    op.create_table(
        "catalog_items",
        sa.Column("ap_id", sa.String(IRI), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ap_actor_id", sa.String(IRI), nullable=False),
        sa.Column(
            "page_ap_id",
            sa.String(IRI),
            sa.ForeignKey("catalog_pages.ap_id", name="fk_catalog_items_page_ap_id_catalog_pages"),
            nullable=True,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("url", sa.String(IRI), nullable=True),
        sa.Column("price_amount", DECIMAL_TEXT, nullable=False),
        sa.Column("price_currency", sa.String(3), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("start_time", UTC(), nullable=True),
        sa.Column("end_time", UTC(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("entry_state", sa.String(16), nullable=True),
        sa.Column("updated_at", UTC(), nullable=True),
        sa.Column("received_at", UTC(), nullable=False),
        sa.Column("withdrawn_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("ap_id", name="pk_catalog_items"),
        sa.UniqueConstraint("key", name="uq_catalog_items_key"),
    )
    op.create_index("ix_catalog_items_ap_actor_id", "catalog_items", ["ap_actor_id"])
    op.create_index("ix_catalog_items_page_ap_id", "catalog_items", ["page_ap_id"])
    op.create_table(
        "cart_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cart_id", sa.String(64), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column(
            "item_ap_id",
            sa.String(IRI),
            sa.ForeignKey("catalog_items.ap_id", name="fk_cart_lines_item_ap_id_catalog_items"),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_amount", DECIMAL_TEXT, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("added_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cart_lines"),
        sa.CheckConstraint(
            "(cart_id IS NULL) <> (account_id IS NULL)", name="ck_cart_lines_one_owner"
        ),
        sa.CheckConstraint("quantity >= 1", name="ck_cart_lines_positive_quantity"),
        sa.UniqueConstraint("cart_id", "item_ap_id", name="uq_cart_lines_cart_id"),
        sa.UniqueConstraint("account_id", "item_ap_id", name="uq_cart_lines_account_id"),
    )
    op.create_index("ix_cart_lines_item_ap_id", "cart_lines", ["item_ap_id"])
    op.create_index("ix_cart_lines_updated_at", "cart_lines", ["updated_at"])


def downgrade() -> None:
    op.drop_table("cart_lines")
    op.drop_table("catalog_items")
    op.drop_table("catalog_pages")
