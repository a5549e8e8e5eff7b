"""catalogue pictures: what the peer names, our copies, and the jobs that fetch them

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_items") as batch:
        batch.add_column(sa.Column("image_url", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("image_alt", sa.Text(), nullable=True))
        batch.add_column(sa.Column("image_digest", sa.String(64), nullable=True))
    op.create_table(
        "catalog_images",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("unused_since", store.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("digest", name="pk_catalog_images"),
    )
    op.create_table(
        "catalog_image_fetches",
        sa.Column(
            "item_ap_id",
            sa.String(2048),
            sa.ForeignKey(
                "catalog_items.ap_id", name="fk_catalog_image_fetches_item_ap_id_catalog_items"
            ),
            nullable=False,
        ),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("due_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_until", store.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("item_ap_id", name="pk_catalog_image_fetches"),
    )
    op.create_index("ix_catalog_image_fetches_due_at", "catalog_image_fetches", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_catalog_image_fetches_due_at", table_name="catalog_image_fetches")
    op.drop_table("catalog_image_fetches")
    op.drop_table("catalog_images")
    with op.batch_alter_table("catalog_items") as batch:
        batch.drop_column("image_digest")
        batch.drop_column("image_alt")
        batch.drop_column("image_url")
