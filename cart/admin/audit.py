"""The operators' audit log: who did what in /admin, written with what they did.

Every admin POST (refund, follow decisions, delivery retries...) adds one row in the
transaction of the action itself, so the log cannot say something happened that did
not, or miss something that did. A refused attempt (wrong password, no role) is logged
too. The shopper never sees an operator's address: order history notes say "the
shop"; who it was lives here. Rows are kept for AUDIT_DAYS (a year), then purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store import Base, utcnow
from store.base import UTCDateTime

AUDIT_DAYS = 365


class AuditEntry(Base):
    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    operator: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(Text)  # the path acted on, e.g. /admin/orders/RA-1/refund
    outcome: Mapped[str] = mapped_column(String(20))  # done | refused


@dataclass(frozen=True)
class AuditView:
    at: datetime
    operator: str
    action: str
    target: str
    outcome: str


def record_action(
    session: Session, operator: str, action: str, target: str, outcome: str, now: datetime
) -> None:
    session.add(
        AuditEntry(
            at=now,
            operator=operator[:320],
            action=action[:60],
            target=target[:500],
            outcome=outcome,
        )
    )


def recent_actions(session: Session, limit: int = 30) -> list[AuditView]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    return [
        AuditView(row.at, row.operator, row.action, row.target, row.outcome)
        for row in (session.execute(query)).scalars()
    ]


def purge_audit(session: Session, now: datetime) -> int:
    cutoff = now - timedelta(days=AUDIT_DAYS)
    result = session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
