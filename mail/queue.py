"""Queue a mail in the caller's transaction: the row commits with the change it reports.

`queue_mail` works with an `AsyncSession` and a sync `Session` alike (it only adds a
row), so the code that makes a change can queue its mail wherever it runs;
`insert_mail` is the same row (`mail_row`) as a Core INSERT, for units of work (orders' mails).
Nothing is sent here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from mail.models import MAIL_CHANNEL, MAX_ADDRESS, QUEUED, OutgoingMail
from store import direct, wake

_NEW_MAIL = insert(cast(Table, OutgoingMail.__table__))


def is_address(value: str) -> bool:
    """A plausible mailbox (local@domain, no spaces or header breaks); not a proof."""
    local, at, domain = value.rpartition("@")
    return (
        bool(at and local and "." in domain.strip("."))
        and len(value) <= MAX_ADDRESS
        and not any(c.isspace() or c in "<>,;\"'" for c in value)
    )


def mail_row(
    *, kind: str, to: str, order_id: int | None = None, account_id: int | None = None, now: datetime
) -> dict[str, Any] | None:
    """The columns of one queued mail; None (nothing to queue) for no address."""
    if not is_address(to):
        return None
    return {
        "kind": kind,
        "to_address": to,
        "order_id": order_id,
        "account_id": account_id,
        "status": QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


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
    row = mail_row(kind=kind, to=to, order_id=order_id, account_id=account_id, now=now)
    if row is None:
        return False
    session.add(OutgoingMail(**row))
    wake(session, MAIL_CHANNEL)
    return True


def insert_mail(session: Session, row: dict[str, Any] | None) -> bool:
    """`queue_mail` in a unit of work: a `mail_row` as one Core INSERT (no ORM flush)."""
    if row is None:
        return False
    direct.execute(session, _NEW_MAIL, row)
    wake(session, MAIL_CHANNEL)
    return True
