"""Logging in adopts the anonymous cart: merged, bounded, and said so."""

from __future__ import annotations

from datetime import timedelta

from cart.basket.carts import CartOwner, adopt_cart, new_cart_id
from cart.basket.lines import add_line
from cart.basket.reading import cart_item_count, view_cart
from cart.catalog.mirror import upsert_object
from cart.money import Money
from store import Database
from tests.support.factories import MARKET, NOW, entry, offer, product

ACCOUNT = 7
LATER = NOW + timedelta(hours=1)


async def test_login_merges_products_keeps_entries_once_and_moves_the_rest(db: Database) -> None:
    visit = new_cart_id()
    anonymous, account = CartOwner.anonymous(visit), CartOwner.account(ACCOUNT)
    async with db.transaction() as session:
        loaf = await offer(session, product(42, name="Sourdough loaf"))
        rye = await offer(session, product(43, name="Rye"))
        class_ = await offer(session, entry(9, name="Bread class"))
        await add_line(session, account, loaf, 2, now=NOW)
        await add_line(session, account, class_, now=NOW)
        await add_line(session, anonymous, loaf, 1, now=NOW)
        await add_line(session, anonymous, class_, now=NOW)
        await add_line(session, anonymous, rye, 4, now=NOW)
        changes = await session.run_sync(adopt_cart, visit, ACCOUNT, now=LATER)
        cart = await view_cart(session, account, now=LATER)
        left_behind = await cart_item_count(session, anonymous)
    assert changes == [
        "Sourdough loaf: quantities merged (2 + 1 = 3)",
        "Bread class: quantities merged (1 + 1 = 2)",
    ]
    quantities = {line.item.name: line.quantity for page in cart.pages for line in page.lines}
    assert quantities == {"Sourdough loaf": 3, "Rye": 4, "Bread class": 2}
    assert left_behind == 0


async def test_adoption_is_idempotent(db: Database) -> None:
    visit = new_cart_id()
    async with db.transaction() as session:
        loaf = await offer(session, product())
        await add_line(session, CartOwner.account(ACCOUNT), loaf, 2, now=NOW)
        await add_line(session, CartOwner.anonymous(visit), loaf, 1, now=NOW)
        first = await session.run_sync(adopt_cart, visit, ACCOUNT, now=LATER)
    async with db.transaction() as session:
        second = await session.run_sync(adopt_cart, visit, ACCOUNT, now=LATER)
        count = await cart_item_count(session, CartOwner.account(ACCOUNT))
    assert len(first) == 1 and second == [] and count == 3


async def test_merged_quantities_stay_within_stock_and_the_shopper_is_told(db: Database) -> None:
    visit = new_cart_id()
    async with db.transaction() as session:
        loaf = await offer(session, product(stock=4))
        await add_line(session, CartOwner.account(ACCOUNT), loaf, 3, now=NOW)
        await add_line(session, CartOwner.anonymous(visit), loaf, 3, now=NOW)
        changes = await session.run_sync(adopt_cart, visit, ACCOUNT, now=LATER)
        count = await cart_item_count(session, CartOwner.account(ACCOUNT))
    assert changes == [
        "Sourdough loaf: quantities merged (3 + 3 = 6); only 4 left, so your cart has 4"
    ]
    assert count == 4


async def test_a_merged_line_takes_the_price_the_shopper_saw_last(db: Database) -> None:
    visit = new_cart_id()
    async with db.transaction() as session:
        loaf = await offer(session, product(price="3.50"))
        await add_line(session, CartOwner.account(ACCOUNT), loaf, 1, now=NOW)
        await upsert_object(session, product(price="3.80"), sender=MARKET, version=LATER, now=LATER)
        await add_line(session, CartOwner.anonymous(visit), loaf, 1, now=LATER)
        await session.run_sync(adopt_cart, visit, ACCOUNT, now=LATER)
        cart = await view_cart(session, CartOwner.account(ACCOUNT), now=LATER)
    (page,) = cart.pages
    assert page.lines[0].is_ok and page.subtotals == (Money.of("7.60", "GBP"),)


async def test_another_visitors_cart_is_not_adopted(db: Database) -> None:
    mine, theirs = new_cart_id(), new_cart_id()
    async with db.transaction() as session:
        loaf = await offer(session, product())
        await add_line(session, CartOwner.anonymous(theirs), loaf, 1, now=NOW)
        assert await session.run_sync(adopt_cart, mine, ACCOUNT, now=LATER) == []
        assert await cart_item_count(session, CartOwner.account(ACCOUNT)) == 0
        assert await cart_item_count(session, CartOwner.anonymous(theirs)) == 1
