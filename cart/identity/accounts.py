"""Shopper and operator accounts: register, authenticate, look up.

Emails are unique regardless of case: we keep the address as typed for display and a
case-folded copy (`email_key`) under the unique constraint. Passwords are hashed with
argon2id at OWASP's minimum configuration (``owasp_argon2``: 19 MiB, 2 passes, 1 lane;
OWASP Password Storage Cheat Sheet,
https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html).
argon2-cffi's default (RFC 9106's second recommendation: 64 MiB, 3 passes, 4 lanes) cost
about 7x the CPU per attempt, and each attempt is CPU a stranger makes us spend; hashes
made with it still verify and are re-hashed at the next login.

When no account matches an email we still verify a password against a dummy hash, so "no
such account" and "wrong password" take about the same time and an attacker cannot tell
registered addresses by timing.

Every function that touches the database is a unit of work (a plain ``fn(session, ...)``
run by ``db.read``/``db.write``, store/units.py). argon2 never runs inside one: the web's
login and the end of its registration (cart.identity.registrations: the password is
chosen from a mailed link), ``register``/``authenticate`` (CLI, tests) and the admin's
re-authentication read ``Credentials`` in one unit, hash or verify in a worker thread with
no unit open, and write in another (``confirm_login``, ``create_account``), which checks
that the hash it was given is still the stored one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import CheckConstraint, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from store import Base, Database, utcnow
from store.affinity import off_the_loop_core
from store.base import UTCDateTime
from store.held import outside_units

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work per attempt
MAX_EMAIL_LENGTH = 320


class Role(enum.StrEnum):
    SHOPPER = "shopper"
    OPERATOR = "operator"


class AccountError(Exception):
    """Base of account problems; `message` is safe to show the person at the keyboard."""

    message = "That did not work."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class InvalidRegistration(AccountError):
    pass


class EmailTaken(InvalidRegistration):
    message = "An account with that email address already exists. Log in instead?"


class InvalidCredentials(AccountError):
    # One message for both causes: telling them apart would reveal who has an account.
    message = "That email address and password do not match an account."


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("role IN ('shopper', 'operator')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    email_key: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.SHOPPER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When its owner opened the link mailed to this address (cart.identity.account_changes).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class AccountView:
    """What the web layer needs of an account; never the hash."""

    id: int
    email: str
    role: str


# OWASP Password Storage Cheat Sheet: "Use Argon2id with a minimum configuration of 19 MiB
# of memory, an iteration count of 2, and 1 degree of parallelism."
def owasp_argon2() -> PasswordHasher:
    return PasswordHasher(memory_cost=19 * 1024, time_cost=2, parallelism=1)


class Passwords:
    """argon2id hashing, plus the dummy hash used when the account is unknown."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or owasp_argon2()
        self._dummy: str | None = None  # made on first use, off the event loop (in verify)

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash("no account has this password, it only spends time")
        return self._dummy

    def hash(self, password: str) -> str:
        outside_units("argon2 hashing a password")
        off_the_loop_core()
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        outside_units("argon2 checking a password")
        off_the_loop_core()
        try:
            return (
                self.hasher.verify(password_hash or self._dummy_hash(), password)
                and password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


def email_key(email: str) -> str:
    return email.strip().casefold()


def mailbox_key(email: str) -> str:
    """The mailbox an address lands in, for per-recipient mail quotas only (never an
    account's identity): `email_key` without a `+tag`, so ada+1@x and ada+2@x count as
    ada@x and cannot each get a fresh quota of mails to one mailbox."""
    local, at, domain = email_key(email).rpartition("@")
    if not at:
        return email_key(email)
    return f"{local.split('+', 1)[0] or local}@{domain}"


def check_email(email: str) -> str:
    """The address, stripped, or InvalidRegistration: a cheap check, before anything."""
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(email) > MAX_EMAIL_LENGTH
        or any(c.isspace() for c in email)
    ):
        raise InvalidRegistration("Please enter a valid email address, like name@example.org.")
    return email


def check_password(password: str) -> None:
    """InvalidRegistration for a password too short or too long: before any argon2."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRegistration(
            f"Please choose a password of at least {MIN_PASSWORD_LENGTH} characters."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidRegistration(f"Passwords may be at most {MAX_PASSWORD_LENGTH} characters.")


def _view(account: Account) -> AccountView:
    return AccountView(id=account.id, email=account.email, role=account.role)


@dataclass(frozen=True)
class Credentials:
    """What a password is checked against, read before (and apart from) the check."""

    account_id: int
    password_hash: str


def check_registration(email: str, password: str) -> str:
    """The address to register, or InvalidRegistration: cheap checks, before anything."""
    email = check_email(email)
    check_password(password)
    return email


def find_credentials(session: Session, email: str) -> Credentials | None:
    """A unit: the stored hash for this address, if it has an account."""
    row = session.execute(
        select(Account.id, Account.password_hash).where(Account.email_key == email_key(email))
    ).first()
    return Credentials(row[0], row[1]) if row is not None else None


def credentials_of(session: Session, account_id: int) -> Credentials | None:
    """A unit: the stored hash of this account (the admin's re-authentication)."""
    row = session.execute(
        select(Account.id, Account.password_hash).where(Account.id == account_id)
    ).first()
    return Credentials(row[0], row[1]) if row is not None else None


def create_account(
    session: Session,
    email: str,
    password_hash: str,
    role: Role = Role.SHOPPER,
    verified_at: datetime | None = None,
) -> AccountView | None:
    """A unit: the new account, or None when the address has one already (maybe just now).
    `verified_at`: when its owner proved the address reaches them (a registration link)."""
    key = email_key(email)
    if session.scalar(select(Account.id).where(Account.email_key == key)) is not None:
        return None
    account = Account(
        email=email,
        email_key=key,
        password_hash=password_hash,
        role=role,
        email_verified_at=verified_at,
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:  # a concurrent registration won the race
        return None
    return _view(account)


def confirm_login(
    session: Session, checked: Credentials, new_hash: str | None = None
) -> AccountView | None:
    """A unit: the account whose password was just checked, if it still has that password
    (it may have changed or gone while argon2 ran); stores ``new_hash`` when the old one
    is weak."""
    account = session.get(Account, checked.account_id)
    if account is None or account.password_hash != checked.password_hash:
        return None
    if new_hash is not None:
        account.password_hash = new_hash
    return _view(account)


def get_account(session: Session, account_id: int) -> AccountView | None:
    account = session.get(Account, account_id)
    return _view(account) if account else None


async def register(
    db: Database,
    passwords: Passwords,
    email: str,
    password: str,
    role: Role = Role.SHOPPER,
) -> AccountView:
    """Create an account; raises InvalidRegistration (or EmailTaken) with a message to show.
    For the CLI and tests (the web has its quotas first): a read, argon2 with no unit
    open, then the write."""
    email = check_registration(email, password)
    if await db.read(find_credentials, email) is not None:
        raise EmailTaken()
    # argon2 spends tens of milliseconds of CPU on purpose: off the event loop.
    password_hash = await to_thread.run_sync(passwords.hash, password)
    account = await db.write(create_account, email, password_hash, role)
    if account is None:
        raise EmailTaken()
    return account


async def verify_password(passwords: Passwords, stored: Credentials | None, password: str) -> bool:
    """argon2 in a worker thread, against a dummy hash when nobody has this address (the
    same work either way). Call it between units, never inside one."""
    stored_hash = stored.password_hash if stored is not None else None
    ok = await to_thread.run_sync(passwords.verify, stored_hash, password[:MAX_PASSWORD_LENGTH])
    return ok and stored is not None


async def authenticate(
    db: Database, passwords: Passwords, email: str, password: str
) -> AccountView:
    """The account for these credentials, or InvalidCredentials. Upgrades old hashes.
    For the CLI and tests: read the hash, verify with no unit open, confirm in another."""
    stored = await db.read(find_credentials, email)
    if not await verify_password(passwords, stored, password) or stored is None:
        raise InvalidCredentials()
    new_hash = None
    if passwords.needs_rehash(stored.password_hash):
        new_hash = await to_thread.run_sync(passwords.hash, password[:MAX_PASSWORD_LENGTH])
    account = await db.write(confirm_login, stored, new_hash)
    if account is None:  # the password changed (or the account went) meanwhile
        raise InvalidCredentials()
    return account
