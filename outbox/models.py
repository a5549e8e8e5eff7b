"""The outbox's tables: activities, their audience, deliveries, hosts, followers, follows.

An activity's `body` is the exact JSON text we POST and serve at its id, written once,
so every delivery and every dereference carries the same bytes. `outbox_audience`
keeps who it was addressed to, for deciding who may dereference it. One delivery row
exists per (activity, inbox); a row whose actor's inbox was not cached at publish time
has `inbox` NULL and `recipient` set, and the worker resolves it before sending.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from outbox.states import DeliveryState, FollowerState, FollowState
from store import Base, utcnow
from store.base import UTCDateTime
from store.lease import Leased

# The wake-up channel a commit fires when it queued deliveries (store/wakeups.py).
DELIVERIES_CHANNEL = "deliveries"


class OutboxActivity(Base):
    __tablename__ = "outbox_activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxAudience(Base):
    """One row per IRI in an activity's to/cc/audience (actors and collections)."""

    __tablename__ = "outbox_audience"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_activities.id", ondelete="CASCADE"), primary_key=True
    )
    iri: Mapped[str] = mapped_column(String(2048), primary_key=True, index=True)


class OutboxDelivery(Leased, Base):
    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox"),
        Index("ix_outbox_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_activities.id", ondelete="CASCADE"), index=True
    )
    inbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # origin_of(inbox): the unit of per-host concurrency, breaker and availability.
    host: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    recipient: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # to resolve
    status: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Start of the current 72 h retry window: publish, an operator retry, a release.
    retry_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # HTTP status
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DeliveryHost(Base):
    """Per-host breaker and availability, shared by every worker process."""

    __tablename__ = "outbox_hosts"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unavailable_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Follower(Base):
    """A remote actor following us (or asking to)."""

    __tablename__ = "followers"

    ap_actor_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    follow_ap_id: Mapped[str] = mapped_column(String(2048))
    # The ids of the follower's earlier Follows (newest last, at most EARLIER_FOLLOW_IDS):
    # a server may Undo any Follow it sent, not only the last (outbox.followers).
    earlier_follow_ids: Mapped[list[str] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    state: Mapped[str] = mapped_column(String(16), default=FollowerState.PENDING, index=True)
    # Copied from the actor cache when the follow arrives, so publish() needs no fetch.
    inbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(Base):
    """Our follow of a peer actor."""

    __tablename__ = "follows"

    ap_object_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    follow_ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=FollowState.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
