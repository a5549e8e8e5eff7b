"""What operators see of the mail queue: plain values, never the ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mail.models import OutgoingMail

PAGE = 100


@dataclass(frozen=True)
class MailView:
    id: int
    kind: str
    to_address: str
    subject: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    text_body: str | None


def _view(row: OutgoingMail) -> MailView:
    return MailView(
        row.id,
        row.kind,
        row.to_address,
        row.subject,
        row.status,
        row.attempts,
        row.last_error,
        row.created_at,
        row.sent_at,
        row.text_body,
    )


def recent_mail(session: Session, limit: int = PAGE) -> list[MailView]:
    query = select(OutgoingMail).order_by(OutgoingMail.id.desc()).limit(limit)
    return [_view(row) for row in (session.execute(query)).scalars()]


def one_mail(session: Session, mail_id: int) -> MailView | None:
    row = session.get(OutgoingMail, mail_id)
    return _view(row) if row is not None else None
