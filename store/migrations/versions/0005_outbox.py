"""outbox: activities, audience, deliveries, hosts, followers, follows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import store.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = store.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "outbox_activities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ap_id", sa.String(2048), nullable=False),
        sa.Column("activity_type", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", UTC(), nullable=False),
        sa.UniqueConstraint("ap_id", name="uq_outbox_activities_ap_id"),
    )
    op.create_table(
        "outbox_audience",
        sa.Column(
            "activity_id",
            sa.Integer(),
            sa.ForeignKey(
                "outbox_activities.id",
                ondelete="CASCADE",
                name="fk_outbox_audience_activity_id_outbox_activities",
            ),
            nullable=False,
        ),
        sa.Column("iri", sa.String(2048), nullable=False),
        sa.PrimaryKeyConstraint("activity_id", "iri", name="pk_outbox_audience"),
    )
    op.create_index("ix_outbox_audience_iri", "outbox_audience", ["iri"])
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "activity_id",
            sa.Integer(),
            sa.ForeignKey(
                "outbox_activities.id",
                ondelete="CASCADE",
                name="fk_outbox_deliveries_activity_id_outbox_activities",
            ),
            nullable=False,
        ),
        sa.Column("inbox", sa.String(2048), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("recipient", sa.String(2048), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("retry_from", UTC(), nullable=False),
        sa.Column("next_attempt_at", UTC(), nullable=False),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_until", UTC(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", UTC(), nullable=True),
        sa.UniqueConstraint("activity_id", "inbox", name="uq_outbox_deliveries_activity_id"),
    )
    op.create_index("ix_outbox_deliveries_due", "outbox_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_deliveries_activity_id", "outbox_deliveries", ["activity_id"])
    op.create_index("ix_outbox_deliveries_host", "outbox_deliveries", ["host"])
    op.create_table(
        "outbox_hosts",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", UTC(), nullable=True),
        sa.Column("open_until", UTC(), nullable=True),
        sa.Column("unavailable_since", UTC(), nullable=True),
        sa.Column("last_success_at", UTC(), nullable=True),
    )
    op.create_table(
        "followers",
        sa.Column("ap_actor_id", sa.String(2048), primary_key=True),
        sa.Column("follow_ap_id", sa.String(2048), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("inbox", sa.String(2048), nullable=True),
        sa.Column("shared_inbox", sa.String(2048), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
    )
    op.create_index("ix_followers_state", "followers", ["state"])
    op.create_table(
        "follows",
        sa.Column("ap_object_id", sa.String(2048), primary_key=True),
        sa.Column("follow_ap_id", sa.String(2048), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.UniqueConstraint("follow_ap_id", name="uq_follows_follow_ap_id"),
    )
    op.create_index("ix_follows_state", "follows", ["state"])


def downgrade() -> None:
    op.drop_table("follows")
    op.drop_table("followers")
    op.drop_table("outbox_hosts")
    op.drop_table("outbox_deliveries")
    op.drop_table("outbox_audience")
    op.drop_table("outbox_activities")
