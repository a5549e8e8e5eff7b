"""How long the inbox keeps what it did not act on: the clean-up loop's rule.

An ignored delivery (a Like, a Note mentioning us) is kept only as a one-line record
(inbox/unhandled.py), for the operator's log. Anyone can send them, so the records are
bounded twice: by age (ROSE_CART_INBOX_IGNORED_DAYS) and by count
(ROSE_CART_INBOX_IGNORED_MAX, the newest kept). Their number is on /metrics as
`rose_cart_inbox_activities{status="ignored"}`. Processed (`done`) rows are the
dedupe memory of activities that changed something, and stay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inbox.models import InboxActivity, InboxStatus


def purge_ignored(session: Session, older_than: timedelta, keep: int, *, now: datetime) -> int:
    """Delete ignored records older than `older_than` at `now` (the clean-up loop's
    round), then all but the newest `keep`."""
    ignored = InboxActivity.status == InboxStatus.IGNORED
    cutoff = now - older_than
    aged = session.execute(
        delete(InboxActivity)
        .where(ignored, InboxActivity.received_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    # The id of the oldest record still kept; everything ignored below it goes.
    boundary = session.scalar(
        select(InboxActivity.id)
        .where(ignored)
        .order_by(InboxActivity.id.desc())
        .offset(keep - 1)
        .limit(1)
    )
    surplus = 0
    if boundary is not None:
        result = session.execute(
            delete(InboxActivity)
            .where(ignored, InboxActivity.id < boundary)
            .execution_options(synchronize_session=False)
        )
        surplus = int(result.rowcount)  # type: ignore[attr-defined]
    return int(aged.rowcount) + surplus  # type: ignore[attr-defined]
