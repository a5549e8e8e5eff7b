"""Registration, e-mail first: a pending registration is a link mailed to the address.

`POST /register` takes only an address. For a new one it stores a pending registration,
keyed by the SHA-256 of a random token (the token itself is only in the mailed link, never
in this table), valid LINK_LIFETIME; the link's form then chooses the password and
creates the account, already verified (whoever opened the link reads that mailbox). A
token works once: the unit that creates the account deletes every pending registration
of the address. No argon2 runs before someone holds a link, so a flood of registrations
costs a row and a mail each, within the quotas of cart/web/quotas.py.

The table is bounded: the shop-wide registration quota (REGISTER_ALL, 30 per 10 minutes)
admits at most 4,320 rows a day, and the clean-up loop deletes expired ones
(`purge_pending`; `rose_cart_pending_registrations` in /metrics counts what is left).

Every function that touches the database is a unit of work (``fn(session, ...)``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cart.identity.accounts import MAX_EMAIL_LENGTH, AccountView, create_account, email_key
from store import Base
from store.base import UTCDateTime

LINK_LIFETIME = timedelta(days=1)
MAX_TOKEN_LENGTH = 100  # ours are 32 characters; much longer is not ours


class PendingRegistration(Base):
    __tablename__ = "pending_registrations"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    email_key: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def new_token() -> str:
    """192 random bits, 32 characters: short enough that the link fits a mail's line."""
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str | None:
    """What the table stores for a token; None for anything that cannot be one of ours."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_registration(session: Session, email: str, token: str, now: datetime) -> None:
    """A step of the request's unit: the pending registration a mailed `token` opens."""
    digest = token_hash(token)
    assert digest is not None  # noqa: S101 - new_token() makes it
    session.add(
        PendingRegistration(
            token_hash=digest,
            email=email,
            email_key=email_key(email),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )


def pending_email(session: Session, token: str, now: datetime) -> str | None:
    """A unit: the address a link's token was mailed to, while it is unused and young."""
    digest = token_hash(token)
    if digest is None:
        return None
    return session.scalar(
        select(PendingRegistration.email).where(
            PendingRegistration.token_hash == digest, PendingRegistration.expires_at > now
        )
    )


@dataclass(frozen=True)
class Finished:
    """What opening a link and choosing a password came to: the new account, or None
    with `taken` when the address got an account meanwhile (another link, the CLI)."""

    account: AccountView | None
    taken: bool = False


def finish_registration(
    session: Session, token: str, password_hash: str, now: datetime
) -> Finished | None:
    """A unit: use the token (None when it is unknown, used or too old) to create the
    account, verified, with `password_hash`; the address's other links die with it."""
    email = pending_email(session, token, now)
    if email is None:
        return None
    # Every link of the address goes, whoever wins: only one account can have it.
    done = session.execute(
        delete(PendingRegistration).where(PendingRegistration.token_hash == token_hash(token))
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        return None  # another request used this very link meanwhile
    session.execute(
        delete(PendingRegistration).where(PendingRegistration.email_key == email_key(email))
    )
    account = create_account(session, email, password_hash, verified_at=now)
    return Finished(account, taken=account is None)


def purge_pending(session: Session, now: datetime) -> int:
    """The retention rule: delete pending registrations whose link has expired."""
    result = session.execute(
        delete(PendingRegistration).where(PendingRegistration.expires_at <= now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def count_pending(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PendingRegistration)) or 0)
