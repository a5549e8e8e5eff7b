"""Queue a mail in the caller's transaction: the row commits with the change it reports.

Works with an `AsyncSession` and a sync `Session` alike (it only adds a row), so the
code that makes a change can queue its mail wherever it runs. Nothing is sent here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from mail.models import MAIL_CHANNEL, MAX_ADDRESS, QUEUED, OutgoingMail
from store import wake


def is_address(value: str) -> bool:
    """A plausible mailbox (local@domain, no spaces or header breaks); not a proof."""
    local, at, domain = value.rpartition("@")
    return (
        bool(at and local and "." in domain.strip("."))
        and len(value) <= MAX_ADDRESS
        and not any(c.isspace() or c in "<>,;\"'" for c in value)
    )


def queue_mail(
    session: Session | AsyncSession,
    *,
    kind: str,
    to: str,
    order_id: int | None = None,
    account_id: int | None = None,
    now: datetime,
) -> bool:
    """Add one mail to the caller's transaction; False (nothing queued) for no address."""
    if not is_address(to):
        return False
    moment = now
    session.add(
        OutgoingMail(
            kind=kind,
            to_address=to,
            order_id=order_id,
            account_id=account_id,
            status=QUEUED,
            attempts=0,
            next_attempt_at=moment,
            created_at=moment,
        )
    )
    wake(session, MAIL_CHANNEL)
    return True
