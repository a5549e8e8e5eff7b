"""Abandoned anonymous carts are forgotten; recent ones and account carts are kept."""

from __future__ import annotations

from datetime import timedelta

from cart.basket.carts import CartOwner
from cart.basket.lines import add_line
from cart.basket.purge import purge_anonymous_lines
from cart.basket.reading import cart_item_count
from store import Database
from tests.support.factories import NOW, offer, product

MONTH = timedelta(days=30)


async def test_only_anonymous_carts_untouched_for_the_whole_period_are_purged(db: Database) -> None:
    abandoned, returning = CartOwner.anonymous("abandoned"), CartOwner.anonymous("returning")
    account = CartOwner.account(7)
    old = NOW - MONTH - timedelta(days=1)
    async with db.transaction() as session:
        loaf = await offer(session, product(42), at=old)
        rye = await offer(session, product(43, name="Rye"), at=old)
        await add_line(session, abandoned, loaf, 2, now=old)
        await add_line(session, abandoned, rye, 1, now=old)
        await add_line(session, returning, loaf, 1, now=old)
        await add_line(session, returning, rye, 1, now=NOW - timedelta(days=2))
        await add_line(session, account, loaf, 1, now=old)
    async with db.transaction() as session:
        purged = await session.run_sync(purge_anonymous_lines, MONTH, now=NOW)
    async with db.transaction() as session:
        counts = [await cart_item_count(session, o) for o in (abandoned, returning, account)]
        again = await session.run_sync(purge_anonymous_lines, MONTH, now=NOW)
    assert purged == 2 and counts == [0, 2, 1] and again == 0
