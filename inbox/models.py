"""The inbox's one table: every delivery we acknowledged, and what became of it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store import Base, utcnow
from store.base import UTCDateTime
from store.lease import Leased

# The wake-up channel a commit fires when it stored activities (store/wakeups.py).
INBOX_CHANNEL = "inbox"


class InboxStatus(enum.StrEnum):
    PENDING = "pending"  # acknowledged (202), waiting for the worker
    DONE = "done"  # its handler ran and committed
    IGNORED = "ignored"  # no handler for this kind of activity; kept for the log
    FAILED = "failed"  # the handler kept failing; an operator can look and retry


class InboxActivity(Leased, Base):
    __tablename__ = "inbox_activities"
    __table_args__ = (Index("ix_inbox_activities_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    ap_actor_id: Mapped[str] = mapped_column(String(2048), index=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
