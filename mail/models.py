"""The outgoing mail table: one row per mail, from queued to sent (or kept, or given up).

`status`: queued (waiting or backing off), sent (accepted by the SMTP server), kept
(written to DATA_DIR/mail/ because no SMTP server is configured) or dead (given up
after MAX_ATTEMPTS). A mail of SECRET_KINDS keeps its words only until it is handed
over. Rows and their files are purged after the retention period
(`ROSE_CART_MAIL_RETENTION_DAYS`), whatever their status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store import Base, utcnow
from store.base import UTCDateTime
from store.lease import Leased

QUEUED, SENT, KEPT, DEAD = "queued", "sent", "kept", "dead"
MAX_ADDRESS = 320  # RFC 3696 errata: 64 + 1 + 255

# Mails whose link is a one-time secret (finish a registration, reset a password, prove
# an address): whoever reads the link can use it. Once such a mail is handed over (sent,
# or written to its kept file), its stored words are replaced by SCRUBBED in the same
# transaction (GIVEN_UP once it is dead), so /admin/mail and a backup never hold a live link.
SECRET_KINDS = frozenset({"account.register", "account.password_reset", "account.verify_email"})
SCRUBBED = "This mail held a one-time link; its text was removed once it was sent."
GIVEN_UP = "This mail held a one-time link; its text was removed when it was given up."

# The wake-up channel a commit fires when it queued mail (store/wakeups.py).
MAIL_CHANNEL = "mail"


class OutgoingMail(Leased, Base):
    __tablename__ = "outgoing_mail"
    __table_args__ = (Index("ix_outgoing_mail_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "order.placed", "order.paid"
    to_address: Mapped[str] = mapped_column(String(MAX_ADDRESS))
    # What it is about; the renderer reads it when the mail is first sent.
    order_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Filled once, at the first attempt, so every retry sends the same message.
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    html_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
