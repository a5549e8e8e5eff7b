"""The mail worker: take due mails, compose them once, hand them over, record the outcome.

Each step claims a few due rows with a lease (so two workers never send one mail at
once, and a worker that dies mid-send leaves the mail to be retried when the lease
ends), asks the renderer for the words at the first attempt and keeps them on the row,
then sends. A failure backs off with jitter (30 s doubling to an hour) and the mail is
given up (dead) after MAX_ATTEMPTS; operators see it at /admin/mail. A mail holding a
one-time link (SECRET_KINDS) loses its stored words when it is recorded as handed over. A mail that
reached the server just before a crash may be sent twice: its Message-ID stays the
same, so a mail client shows it once. Errors are recorded by their text, which never
holds the SMTP password (it lives only in the transport).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mail.models import (
    DEAD,
    GIVEN_UP,
    KEPT,
    MAIL_CHANNEL,
    QUEUED,
    SCRUBBED,
    SECRET_KINDS,
    SENT,
    OutgoingMail,
)
from mail.transport import KeptMail, Transport
from store import Database, utcnow
from store.lease import claim_statement, new_lease

log = logging.getLogger("rose_cart.mail")
MAX_ATTEMPTS = 12
BATCH = 10
LEASE = timedelta(minutes=2)
FIRST_RETRY = 30.0
LAST_RETRY = 3600.0


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


# (session, kind, order_id, account_id) -> the words, or None when what the mail is
# about is gone (it is then given up, with that reason).
Renderer = Callable[[Session, str, int | None, int | None], Rendered | None]


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    to_address: str
    order_id: int | None
    account_id: int | None
    created_at: datetime
    rendered: Rendered | None


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    base = min(LAST_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (rng or random).uniform(0.8, 1.2))  # noqa: S311


def claim_due(session: Session, now: datetime, limit: int) -> list[Claimed]:
    statement = claim_statement(
        OutgoingMail,
        new_lease(now, LEASE),
        now=now,
        due=[OutgoingMail.status == QUEUED, OutgoingMail.next_attempt_at <= now],
        order_by=[OutgoingMail.id],
        limit=limit,
        returning=[
            OutgoingMail.id,
            OutgoingMail.kind,
            OutgoingMail.to_address,
            OutgoingMail.order_id,
            OutgoingMail.account_id,
            OutgoingMail.created_at,
            OutgoingMail.subject,
            OutgoingMail.text_body,
            OutgoingMail.html_body,
        ],
    )
    claimed = []
    for row in sorted(session.execute(statement).all(), key=lambda r: r.id):
        words = None
        if row.subject is not None and row.text_body is not None:
            words = Rendered(row.subject, row.text_body, row.html_body)
        claimed.append(
            Claimed(
                row.id,
                row.kind,
                row.to_address,
                row.order_id,
                row.account_id,
                row.created_at,
                words,
            )
        )
    return claimed


def keep_words(session: Session, mail_id: int, words: Rendered) -> None:
    row = session.get(OutgoingMail, mail_id)
    if row is not None and row.subject is None:
        row.subject, row.text_body, row.html_body = words.subject, words.text, words.html


def record_outcome(
    session: Session, mail_id: int, status: str, error: str | None, now: datetime
) -> str:
    row = session.get(OutgoingMail, mail_id)
    if row is None:
        return DEAD
    row.attempts += 1
    row.lease_token = row.lease_until = None
    if error is None:
        row.status, row.sent_at, row.last_error = status, now, None
    else:
        row.last_error = error[:500]
        if status == DEAD or row.attempts >= MAX_ATTEMPTS:
            row.status = DEAD
        else:
            row.next_attempt_at = now + backoff(row.attempts)
    if row.kind in SECRET_KINDS and row.status != QUEUED:  # nobody will send it again:
        row.text_body = row.html_body = SCRUBBED if row.status != DEAD else GIVEN_UP
    return row.status


def purge_before(session: Session, cutoff: datetime) -> list[int]:
    """Delete handled mails created before `cutoff`; returns their ids (for their files)."""
    done = (OutgoingMail.status.in_((SENT, KEPT, DEAD)), OutgoingMail.created_at < cutoff)
    ids = list(session.scalars(select(OutgoingMail.id).where(*done)))
    if ids:
        session.execute(delete(OutgoingMail).where(OutgoingMail.id.in_(ids)))
    return ids


def compose(claimed: Claimed, words: Rendered, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = claimed.to_address
    message["Subject"] = words.subject
    message["Date"] = format_datetime(claimed.created_at)
    domain = sender.rpartition("@")[2].strip(">") or "localhost"
    stamp = int(claimed.created_at.timestamp())
    message["Message-ID"] = f"<mail-{claimed.id}.{stamp}@{domain}>"
    message.set_content(words.text)
    if words.html is not None:
        message.add_alternative(words.html, subtype="html")
    return message


class MailSender:
    def __init__(
        self,
        db: Database,
        transport: Transport,
        render: Renderer,
        *,
        sender: str,
        retention: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.transport, self.render = db, transport, render
        self.sender, self.retention, self.clock = sender, retention, clock

    async def step(self) -> int:
        """Send what is due; returns how many mails were handled (sent, kept or failed)."""
        claimed = await self.db.write(claim_due, self.clock(), BATCH)
        for mail in claimed:
            await self._one(mail)
        return len(claimed)

    async def _one(self, mail: Claimed) -> None:
        words = mail.rendered
        if words is None:
            words = await self.db.read(self.render, mail.kind, mail.order_id, mail.account_id)
            if words is None:
                await self.db.write(
                    record_outcome, mail.id, DEAD, "what it is about is gone", self.clock()
                )
                return
            await self.db.write(keep_words, mail.id, words)
        error: str | None = None
        try:
            await self.transport.send(mail.id, compose(mail, words, self.sender))
        except Exception as exc:  # refused, down, timed out, SMTPException: all retried
            error = f"{type(exc).__name__}: {exc}"
        status = await self.db.write(
            record_outcome, mail.id, self.transport.outcome, error, self.clock()
        )
        if error is not None:
            log.warning("mail not sent", extra={"mail": mail.id, "status": status, "error": error})
            if status == QUEUED:  # wake when the earliest possible retry falls due
                self.db.wakeups.fire_later(MAIL_CHANNEL, FIRST_RETRY * 0.8)

    async def purge(self) -> int:
        """The retention rule: handled mails and their kept files go after `retention`."""
        ids = await self.db.write(purge_before, self.clock() - self.retention)
        if isinstance(self.transport, KeptMail):
            for mail_id in ids:
                self.transport.path_of(mail_id).unlink(missing_ok=True)
        return len(ids)
