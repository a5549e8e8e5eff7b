"""The inbox log as the operator reads it: what arrived, from whom, and what became of it.

The inbox keeps its table to itself; the admin pages and the CLI read it through these
three questions, each one bounded query, and get plain values back (docs/design.md:
cart may import `inbox.registry` and `inbox.log`, nothing else of the inbox).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inbox.models import InboxActivity, InboxStatus

STATUSES: tuple[str, ...] = tuple(status.value for status in InboxStatus)


@dataclass(frozen=True)
class LoggedActivity:
    """One accepted delivery: its id, sender, kind, and where it stands."""

    ap_id: str
    ap_actor_id: str
    activity_type: str
    object_type: str | None
    status: str
    attempts: int
    received_at: datetime
    last_error: str | None


def recent(session: Session, status: str | None = None, limit: int = 100) -> list[LoggedActivity]:
    """The newest `limit` accepted deliveries, only those in `status` when given."""
    query = select(InboxActivity).order_by(InboxActivity.id.desc()).limit(limit)
    if status:
        query = query.where(InboxActivity.status == status)
    return [
        LoggedActivity(
            ap_id=row.ap_id,
            ap_actor_id=row.ap_actor_id,
            activity_type=row.activity_type,
            object_type=row.object_type,
            status=row.status,
            attempts=row.attempts,
            received_at=row.received_at,
            last_error=row.last_error,
        )
        for row in (session.execute(query)).scalars()
    ]


def counts_by_status(session: Session) -> dict[str, int]:
    """How many deliveries stand in each status; every status present, zero or not."""
    counts = dict.fromkeys(STATUSES, 0)
    rows = session.execute(
        select(InboxActivity.status, func.count()).group_by(InboxActivity.status)
    )
    counts.update({str(status): int(count) for status, count in rows.all()})
    return counts


def last_heard(session: Session, actor_ids: Collection[str]) -> dict[str, datetime]:
    """When each of these actors last delivered something we accepted (absent: never)."""
    if not actor_ids:
        return {}
    rows = session.execute(
        select(InboxActivity.ap_actor_id, func.max(InboxActivity.received_at))
        .where(InboxActivity.ap_actor_id.in_(actor_ids))
        .group_by(InboxActivity.ap_actor_id)
    )
    return {str(actor): heard for actor, heard in rows.all() if heard is not None}
