"""Accounts: registration rules, case-insensitive emails, argon2 hashes, one failure message."""

from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncConnection

from cart.identity.accounts import (
    Account,
    EmailTaken,
    InvalidCredentials,
    InvalidRegistration,
    Passwords,
    Role,
    authenticate,
    register,
)
from cart.identity.registrations import PendingRegistration
from cart.identity.sessions import AccountSession
from store import Database
from tests.cart.web_support import CHEAP_PASSWORDS, login
from tests.cart.web_support import submit_registration as register_form

PASSWORDS = Passwords(CHEAP_PASSWORDS)
OUR_TABLES = {"accounts", "account_sessions", "pending_registrations"}


def _touches_ours(difference: object) -> bool:
    # compare_metadata yields tuples, or lists of tuples for column modifications.
    flat = difference[0] if isinstance(difference, list) else difference
    assert isinstance(flat, tuple)
    for part in flat:
        table = getattr(part, "table", None)
        if getattr(table, "name", None) in OUR_TABLES or getattr(part, "name", None) in OUR_TABLES:
            return True
        if part in OUR_TABLES:
            return True
    return False


async def test_an_account_is_stored_with_an_argon2id_hash_and_the_shopper_role(
    db: Database,
) -> None:
    view = await register(db, PASSWORDS, " Ada@Example.org ", "correct horse battery")
    assert view.email == "Ada@Example.org" and view.role == Role.SHOPPER
    async with db.transaction() as session:
        row = await session.scalar(select(Account))
    assert row is not None and row.password_hash.startswith("$argon2id$")
    assert "correct horse" not in row.password_hash


async def test_emails_are_unique_whatever_their_case(db: Database) -> None:
    await register(db, PASSWORDS, "ada@example.org", "correct horse battery")
    with pytest.raises(EmailTaken):
        await register(db, PASSWORDS, "ADA@EXAMPLE.ORG", "another long password")
    view = await authenticate(db, PASSWORDS, "ADA@example.ORG", "correct horse battery")
    assert view.email == "ada@example.org"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("not-an-email", "long enough password"),
        ("a@b", "long enough password"),
        ("ada@example.org", "short"),
    ],
)
async def test_bad_registrations_are_refused_with_a_message(
    db: Database, email: str, password: str
) -> None:
    with pytest.raises(InvalidRegistration) as caught:
        await register(db, PASSWORDS, email, password)
    assert caught.value.message.startswith("Please")


async def test_wrong_password_and_unknown_email_fail_the_same_way(db: Database) -> None:
    await register(db, PASSWORDS, "ada@example.org", "correct horse battery")
    messages = []
    for email, password in (
        ("ada@example.org", "wrong password!"),
        ("nobody@example.org", "correct horse battery"),
    ):
        with pytest.raises(InvalidCredentials) as caught:
            await authenticate(db, PASSWORDS, email, password)
        messages.append(caught.value.message)
    assert messages[0] == messages[1]


def test_an_unknown_account_still_costs_one_hash_verification() -> None:
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(str(hash))
            return super().verify(hash, password)

    passwords = Passwords(Counting(time_cost=1, memory_cost=8, parallelism=1))
    assert passwords.verify(None, "anything") is False
    assert len(calls) == 1 and calls[0].startswith("$argon2")


async def test_a_weaker_old_hash_is_upgraded_at_login(db: Database) -> None:
    weak = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    await register(db, weak, "ada@example.org", "correct horse battery")
    await authenticate(db, stronger, "ada@example.org", "correct horse battery")
    async with db.transaction() as session:
        row = await session.scalar(select(Account))
    assert row is not None and "t=2" in row.password_hash


async def test_the_register_and_login_pages_show_errors_and_keep_the_email(
    web_client: httpx.AsyncClient,
) -> None:
    page = await web_client.get("/register")
    assert '<label for="email">' in page.text and 'type="password"' not in page.text
    bad = await register_form(web_client, "ada@example")
    assert bad.status_code == 400 and "valid email address" in bad.text
    assert 'value="ada@example"' in bad.text and 'aria-invalid="true"' in bad.text
    quoted = await register_form(web_client, 'ada"@example.org')  # no mail could go there
    assert quoted.status_code == 400 and "valid email address" in quoted.text
    sent = await register_form(web_client, "ada@example.org")
    assert sent.status_code == 303 and sent.headers["location"] == "/register/sent"
    async with httpx.AsyncClient(
        transport=web_client._transport, base_url="https://cart.test"
    ) as other:
        wrong = await login(other, "ada@example.org", "wrong password!")
        assert wrong.status_code == 400 and "do not match an account" in wrong.text
        assert "<script" not in (await login(other, "<script>@x.org", "p")).text


async def test_the_account_tables_match_their_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    ours = MetaData()
    for table in (Account.__table__, AccountSession.__table__, PendingRegistration.__table__):
        table.to_metadata(ours)  # type: ignore[attr-defined]

    def diff(connection: AsyncConnection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, ours) if _touches_ours(d)]

    async with db.engine.connect() as connection:
        assert await connection.run_sync(diff) == []
