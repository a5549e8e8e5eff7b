"""mail and contact: the outgoing mail queue, and whom to reach about an order

`outgoing_mail` rows are written in the transaction of the change they report
(mail/models.py). An order keeps the contact the shopper gave at checkout: it stays
in the cart and never crosses the wire.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = store.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=False),
        sa.Column("lease_until", UTC(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("text_body", sa.Text(), nullable=True),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("sent_at", UTC(), nullable=True),
    )
    op.create_index("ix_outgoing_mail_due", "outgoing_mail", ["status", "next_attempt_at"])
    op.create_index("ix_outgoing_mail_order_id", "outgoing_mail", ["order_id"])
    op.create_index("ix_outgoing_mail_account_id", "outgoing_mail", ["account_id"])
    op.add_column("orders", sa.Column("contact_name", sa.Text(), nullable=True))
    op.add_column("orders", sa.Column("contact_email", sa.String(320), nullable=True))
    op.add_column("orders", sa.Column("contact_phone", sa.String(40), nullable=True))
    op.create_index("ix_orders_contact_email", "orders", ["contact_email"])


def downgrade() -> None:
    op.drop_index("ix_orders_contact_email", "orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("contact_phone")
        batch.drop_column("contact_email")
        batch.drop_column("contact_name")
    op.drop_table("outgoing_mail")
