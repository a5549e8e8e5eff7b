"""Shopper sessions: a signed cookie, with a server-side row for logged-in sessions.

The cookie (itsdangerous, keyed from SECRET_KEY) carries a random session id, and either
the opaque random id of an anonymous shopper's cart or the id of the account logged in.
Anonymous sessions need nothing on the server, so browsing never writes to the
database. A logged-in session is only honoured while its row in `account_sessions`
exists (we store a SHA-256 of the session id, never the id itself): logging out deletes
the row, so a copied cookie dies with it. Logging in always issues a new session id,
so an id planted before login (session fixation) is worth nothing after it. A new
password ends every session of the account (`end_sessions`, in the unit that writes it):
whoever knew the old one is logged out everywhere.

Anything wrong with a cookie (bad signature, too old, unknown shape, revoked) silently
starts a fresh anonymous session: there is nothing useful to tell the shopper.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData
from sqlalchemy import ForeignKey, String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.responses import Response

from cart.identity.signing import SignedValues
from store import Base, utcnow
from store.base import UTCDateTime

COOKIE_NAME = "rose_cart_session"
SESSION_MAX_AGE = timedelta(days=30)
_SALT = "rose-cart.session.v1"
CHECKED_COOKIES = 4096  # decoded cookies kept, per process


class AccountSession(Base):
    __tablename__ = "account_sessions"

    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class ShopperSession:
    """Who is shopping. `changed` means the cookie must be (re)sent with the response."""

    sid: str
    cart_id: str | None
    account_id: int | None
    changed: bool = False

    @property
    def logged_in(self) -> bool:
        return self.account_id is not None


def _random_id() -> str:
    return secrets.token_urlsafe(32)


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def new_anonymous_session() -> ShopperSession:
    return ShopperSession(sid=_random_id(), cart_id=_random_id(), account_id=None, changed=True)


class SessionCookies:
    """Encodes sessions into cookie values and back; built once from the secret."""

    def __init__(self, secret: str, *, secure: bool, max_age: timedelta = SESSION_MAX_AGE) -> None:
        self.serializer = SignedValues(secret, salt=_SALT)
        self.secure = secure
        self.max_age = max_age
        # Cookies already checked, with when they were signed: a returning shopper's next
        # request skips the HMAC, base64 and JSON (~30 µs). Keyed by the whole signed
        # value, so only a value that verified once is ever found here.
        self._checked: dict[str, tuple[ShopperSession, float]] = {}

    def encode(self, shopper: ShopperSession) -> str:
        payload: dict[str, object] = {"s": shopper.sid}
        if shopper.account_id is not None:
            payload["a"] = shopper.account_id
        else:
            payload["c"] = shopper.cart_id
        return str(self.serializer.dumps(payload))

    def decode(self, value: str | None) -> ShopperSession | None:
        """The session a cookie names, if it is ours, fresh and well formed; else None."""
        if not value:
            return None
        max_age = int(self.max_age.total_seconds())
        known = self._checked.get(value)
        if known is not None:
            if time.time() - known[1] <= max_age:
                return known[0]
            del self._checked[value]
            return None
        try:
            payload, signed = self.serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadData:
            return None
        shopper = _shopper_of(payload)
        if shopper is not None:
            if len(self._checked) >= CHECKED_COOKIES:
                del self._checked[next(iter(self._checked))]  # the oldest one checked
            self._checked[value] = (shopper, signed.timestamp())
        return shopper

    def attach(self, response: Response, shopper: ShopperSession) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self.encode(shopper),
            max_age=int(self.max_age.total_seconds()),
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )


def _shopper_of(payload: object) -> ShopperSession | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), str):
        return None
    account, cart = payload.get("a"), payload.get("c")
    if isinstance(account, int) and not isinstance(account, bool):
        return ShopperSession(sid=payload["s"], cart_id=None, account_id=account)
    if isinstance(cart, str) and cart:
        return ShopperSession(sid=payload["s"], cart_id=cart, account_id=None)
    return None


async def resolve(
    session: AsyncSession, cookies: SessionCookies, cookie_value: str | None, now: datetime
) -> ShopperSession:
    """The shopper behind a request's cookie at `now`; a fresh anonymous session when in
    doubt (a logged-in session whose row expired by `now` among them)."""
    shopper = cookies.decode(cookie_value)
    if shopper is None:
        return new_anonymous_session()
    if shopper.account_id is None:
        return shopper
    return await session.run_sync(signed_in_sync, shopper, now)


def signed_in_sync(session: Session, shopper: ShopperSession, now: datetime) -> ShopperSession:
    """A unit: the logged-in `shopper` while its server-side row holds at `now`, else a
    fresh anonymous session (revoked, expired, or another account's row)."""
    row = session.get(AccountSession, _sid_hash(shopper.sid))
    if row is None or row.account_id != shopper.account_id or row.expires_at <= now:
        return new_anonymous_session()
    return shopper


def log_in_sync(
    session: Session, account_id: int, now: datetime, max_age: timedelta = SESSION_MAX_AGE
) -> ShopperSession:
    """In a unit: a brand-new session id for the account, recorded server-side, expiring
    `max_age` after `now`."""
    sid = _random_id()
    session.add(
        AccountSession(
            sid_hash=_sid_hash(sid), account_id=account_id, created_at=now, expires_at=now + max_age
        )
    )
    session.flush()
    return ShopperSession(sid=sid, cart_id=None, account_id=account_id, changed=True)


async def log_in(
    session: AsyncSession, account_id: int, now: datetime, max_age: timedelta = SESSION_MAX_AGE
) -> ShopperSession:
    """`log_in_sync` in an async session's transaction."""
    return await session.run_sync(log_in_sync, account_id, now, max_age)


def log_out_sync(session: Session, shopper: ShopperSession) -> ShopperSession:
    """In a unit: revoke the session; the shopper continues as a new anonymous one with an
    empty cart."""
    session.execute(delete(AccountSession).where(AccountSession.sid_hash == _sid_hash(shopper.sid)))
    return new_anonymous_session()


async def log_out(session: AsyncSession, shopper: ShopperSession) -> ShopperSession:
    """`log_out_sync` in an async session's transaction."""
    return await session.run_sync(log_out_sync, shopper)


def end_sessions(session: Session, account_id: int) -> None:
    """Revoke every logged-in session of the account; its cookies name nobody from now on."""
    session.execute(delete(AccountSession).where(AccountSession.account_id == account_id))


def purge_expired_sessions(session: Session, now: datetime) -> int:
    """Delete the server-side rows expired by `now`; returns how many. For a periodic
    background task."""
    result = session.execute(delete(AccountSession).where(AccountSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
