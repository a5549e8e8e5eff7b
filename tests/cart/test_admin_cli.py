"""`rose-cart operators add|list`, run as an operator runs them, on both engines."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from cart.identity.accounts import Account, Passwords, authenticate
from store import Database


def _accounts(database_url: str) -> dict[str, str]:
    async def go() -> dict[str, str]:
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                rows = (await session.execute(select(Account))).scalars()
                return {a.email: a.role for a in rows}
        finally:
            await db.dispose()

    return asyncio.run(go())


def _can_log_in(database_url: str, email: str, password: str) -> bool:
    async def go() -> bool:
        db = Database(database_url)
        try:
            await authenticate(db, Passwords(), email, password)
            return True
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_operators_add_creates_an_operator_from_stdin(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    out = cli("operators", "add", "Op@Coop.example", "--password-stdin", input="a long password\n")
    assert "created operator Op@Coop.example" in out
    assert _accounts(database_url) == {"Op@Coop.example": "operator"}
    assert _can_log_in(database_url, "op@coop.example", "a long password")
    listed = json.loads(cli("operators", "list", "--json"))
    assert [row["email"] for row in listed] == ["Op@Coop.example"]


def test_operators_add_prompts_twice(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    out = cli(
        "operators",
        "add",
        "op@coop.example",
        input="first password 1\nsecond password\nsame password 1\nsame password 1\n",
    )
    assert "Repeat password" in out and "created operator" in out
    assert _can_log_in(database_url, "op@coop.example", "same password 1")


def test_operators_add_promotes_a_shopper_and_refuses_short_passwords(  # type: ignore[no-untyped-def]
    cli, database_url: str
) -> None:
    out = cli("operators", "add", "short@coop.example", "--password-stdin", input="short\n", code=1)
    assert "at least 10 characters" in out
    assert "no operators yet" in cli("operators", "list")

    async def shopper() -> None:
        from cart.identity.accounts import register

        db = Database(database_url)
        try:
            await register(db, Passwords(), "ada@example.org", "shopper password")
        finally:
            await db.dispose()

    asyncio.run(shopper())
    assert "promoted ada@example.org" in cli("operators", "add", "ADA@example.org")
    assert _accounts(database_url) == {"ada@example.org": "operator"}
    assert "already is an operator" in cli("operators", "add", "ada@example.org")
    assert cli("operators", "list").strip() == "ada@example.org"
