"""What an account holder changes about their own account: a verified address, a password.

Units of work (sync functions taking the caller's Session): the web reads what it needs
in one, runs argon2 between units with no session open, and writes in another. A
password change is written only if the hash is still the one that was checked (another
tab, a reset link, may have changed it meanwhile), so two changes never both win, and in
the same unit every session of the account ends (the caller starts a new one for the
person who changed it, if it should stay logged in). An address is verified only while
it is the address the link was made for.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from cart.identity.accounts import Account, email_key
from cart.identity.sessions import end_sessions


@dataclass(frozen=True)
class AccountStatus:
    """An account as its owner's page shows it; never the hash."""

    id: int
    email: str
    verified_at: datetime | None


def account_status(session: Session, account_id: int) -> AccountStatus | None:
    account = session.get(Account, account_id)
    if account is None:
        return None
    return AccountStatus(account.id, account.email, account.email_verified_at)


def tag_of(value: str) -> str:
    """The digest a signed link carries instead of a hash or an address."""
    return hashlib.sha256(value.encode()).hexdigest()[:20]


def mark_verified(
    session: Session, account_id: int, email_tag: str, now: datetime
) -> AccountStatus | None:
    """Verify the account's address if the link was made for it (`email_tag`); None when
    it was made for an address the account no longer has, or for no account."""
    account = session.get(Account, account_id)
    if account is None or not hmac.compare_digest(tag_of(email_key(account.email)), email_tag):
        return None
    if account.email_verified_at is None:
        account.email_verified_at = now
    return AccountStatus(account.id, account.email, account.email_verified_at)


def replace_password(session: Session, account_id: int, checked_hash: str, new_hash: str) -> bool:
    """Store `new_hash` if the account still has the hash the old password was checked
    against, and end all the account's sessions; False (nothing written) otherwise."""
    result = session.execute(
        update(Account)
        .where(Account.id == account_id, Account.password_hash == checked_hash)
        .values(password_hash=new_hash)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    end_sessions(session, account_id)
    return True
