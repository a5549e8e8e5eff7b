"""No connection is held across network I/O or heavy CPU: the guard says so at once.

Inside `db.transaction()`, `db.sessions()` and any unit of work, every costly boundary
(an outgoing request, a provider call, argon2, JSON-LD, SMTP) raises HeldAcrossWork
instead of running; between units it runs. Both engines.
"""

from __future__ import annotations

import asyncio

import pytest
from anyio import to_thread
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from cart.identity.accounts import Passwords
from store import Database, HeldAcrossWork, outside_units

FAST = Passwords(PasswordHasher(memory_cost=8, time_cost=1, parallelism=1))


def costly(_session: Session) -> None:
    outside_units("a call to the payment provider")


async def test_costly_work_refuses_to_start_inside_a_transaction(db: Database) -> None:
    async with db.transaction():
        with pytest.raises(HeldAcrossWork, match="payment provider.*database session"):
            outside_units("a call to the payment provider")
    async with db.sessions():
        with pytest.raises(HeldAcrossWork):
            outside_units("GET https://peer.example/actor")
    outside_units("a call to the payment provider")  # between units: fine


async def test_costly_work_refuses_to_start_inside_a_unit(db: Database) -> None:
    with pytest.raises(HeldAcrossWork, match="unit of work"):
        await db.write(costly)
    with pytest.raises(HeldAcrossWork, match="unit of work"):
        await db.read(costly)


async def test_argon2_sent_to_a_thread_from_a_transaction_is_caught(db: Database) -> None:
    digest = await to_thread.run_sync(FAST.hash, "a long enough password")
    async with db.transaction():
        with pytest.raises(HeldAcrossWork, match="argon2"):
            await to_thread.run_sync(FAST.verify, digest, "a long enough password")
        with pytest.raises(HeldAcrossWork, match="argon2"):
            await asyncio.to_thread(FAST.verify, digest, "a long enough password")
    assert await to_thread.run_sync(FAST.verify, digest, "a long enough password")


async def test_the_mark_ends_with_the_transaction_even_when_it_fails(db: Database) -> None:
    with pytest.raises(ZeroDivisionError):
        async with db.transaction():
            _ = 1 / 0
    outside_units("a delivery")  # nothing held any more
