"""Cart lines: what a shopper can put in a cart, and what the cart says about it later."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cart.basket.carts import CartLine, CartOwner
from cart.basket.lines import (
    accept_current_price,
    add_line,
    detach_lines,
    remove_line,
    set_quantity,
)
from cart.basket.reading import cart_item_count, view_cart
from cart.basket.totals import NO_PAGE_KEY, LineStatus
from cart.catalog.mirror import upsert_object, withdraw_object
from cart.exceptions import InvalidQuantity, ItemNotAvailable, ItemNotFound, LineNotFound
from cart.money import Money
from store import Database, utcnow
from tests.support.factories import CALENDAR, MARKET, NOW, entry, offer, product

ALICE = CartOwner.anonymous("alice-cart")
BOB = CartOwner.account(7)
LATER = NOW + timedelta(hours=1)


def gbp(amount: str) -> Money:
    return Money.of(amount, "GBP")


async def test_adding_a_product_twice_adds_up_the_quantity(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product())
        first = await add_line(session, ALICE, loaf, 2, now=NOW)
        second = await add_line(session, ALICE, loaf, 1, now=NOW)
        cart = await view_cart(session, ALICE, now=NOW)
    assert first.line_id == second.line_id and second.quantity == 3
    (page,) = cart.pages
    assert [(line.item.name, line.quantity, line.status) for line in page.lines] == [
        ("Sourdough loaf", 3, LineStatus.OK)
    ]
    assert page.subtotals == (gbp("10.50"),)


async def test_tickets_for_an_entry_add_up_to_its_seats_left(db: Database) -> None:
    async with db.transaction() as session:
        class_ = await offer(session, entry(seats=3))
        asked_two = await add_line(session, ALICE, class_, 2, now=NOW)
        again = await add_line(session, ALICE, class_, 2, now=NOW)
        assert asked_two.line_id is not None
        changed = await set_quantity(session, ALICE, asked_two.line_id, 5, now=NOW)
        count = await cart_item_count(session, ALICE)
    assert asked_two.quantity == 2 and asked_two.notice is None
    assert again.line_id == asked_two.line_id and again.quantity == 3
    assert again.notice == "Only 3 seats left for Bread class, so your cart has 3."
    assert changed.quantity == 3 and count == 3


async def test_quantities_are_bounded_by_the_stock_the_market_gives(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product(stock=3))
        added = await add_line(session, ALICE, loaf, 5, now=NOW)
        assert added.line_id is not None
        more = await add_line(session, ALICE, loaf, 1, now=NOW)
        set_ = await set_quantity(session, ALICE, added.line_id, 2, now=NOW)
    assert (added.quantity, added.notice) == (
        3,
        "Only 3 of Sourdough loaf left, so your cart has 3.",
    )
    assert more.quantity == 3
    assert (set_.quantity, set_.notice) == (2, None)


async def test_what_cannot_be_bought_cannot_be_added(db: Database) -> None:
    async with db.transaction() as session:
        sold_out = await offer(session, product(43, name="Baguette", stock=0))
        started = await offer(session, entry(10, start=NOW - timedelta(minutes=1)))
        gone = await offer(session, product(44, name="Rye"))
        await withdraw_object(session, gone, sender=MARKET, at=NOW)
        for item, reason in [
            (sold_out, "Baguette: Sold out."),
            (started, "Bread class: This event has already started."),
            (gone, "Rye: No longer offered."),
        ]:
            with pytest.raises(ItemNotAvailable) as refused:
                await add_line(session, ALICE, item, now=NOW)
            assert refused.value.message == reason
        with pytest.raises(ItemNotFound):
            await add_line(session, ALICE, "https://market.example/products/404", now=NOW)
        with pytest.raises(InvalidQuantity):
            await add_line(session, ALICE, gone, 0, now=NOW)
        assert await cart_item_count(session, ALICE) == 0


async def test_another_shoppers_line_ids_change_nothing(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product())
        bobs = await add_line(session, BOB, loaf, 2, now=NOW)
        assert bobs.line_id is not None
        for attempt in (
            set_quantity(session, ALICE, bobs.line_id, 9, now=NOW),
            set_quantity(session, ALICE, bobs.line_id, 0, now=NOW),
            remove_line(session, ALICE, bobs.line_id),
            accept_current_price(session, ALICE, bobs.line_id, now=NOW),
            remove_line(session, ALICE, bobs.line_id + 1000),
        ):
            with pytest.raises(LineNotFound):
                await attempt
        bob_cart = await view_cart(session, BOB, now=NOW)
    assert [line.quantity for page in bob_cart.pages for line in page.lines] == [2]


async def test_quantity_zero_or_remove_takes_the_line_out(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product(42))
        rye = await offer(session, product(43, name="Rye"))
        one = await add_line(session, ALICE, loaf, now=NOW)
        two = await add_line(session, ALICE, rye, now=NOW)
        assert one.line_id is not None and two.line_id is not None
        assert (await set_quantity(session, ALICE, one.line_id, 0, now=utcnow())).line_id is None
        await remove_line(session, ALICE, two.line_id)
        cart = await view_cart(session, ALICE, now=NOW)
        left = await session.scalar(select(func.count()).select_from(CartLine))
    assert cart.is_empty and cart.item_count == 0 and left == 0


async def test_lines_are_checked_against_the_mirror_on_every_view(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product(42, name="Sourdough loaf", stock=10))
        rye = await offer(session, product(43, name="Rye"))
        bun = await offer(session, product(44, name="Bun", stock=10))
        class_ = await offer(session, entry(9))
        for item, quantity in [(loaf, 1), (rye, 1), (bun, 4), (class_, 1)]:
            await add_line(session, ALICE, item, quantity, now=NOW)
        before = await view_cart(session, ALICE, now=NOW)

        await upsert_object(
            session, product(42, stock=10, price="3.80"), sender=MARKET, version=LATER, now=LATER
        )
        await withdraw_object(session, rye, sender=MARKET, at=LATER)
        await upsert_object(
            session, product(44, name="Bun", stock=2), sender=MARKET, version=LATER, now=LATER
        )
        await upsert_object(
            session, entry(9, state="ordered"), sender=CALENDAR, version=LATER, now=LATER
        )
        after = await view_cart(session, ALICE, now=LATER)
    assert not before.has_problems
    lines = {line.item.name: line for page in after.pages for line in page.lines}
    assert lines["Sourdough loaf"].status is LineStatus.PRICE_CHANGED
    assert lines["Sourdough loaf"].message == "The price has changed from £3.50 to £3.80."
    assert (lines["Sourdough loaf"].unit_price, lines["Sourdough loaf"].current_price) == (
        gbp("3.50"),
        gbp("3.80"),
    )
    assert lines["Rye"].status is LineStatus.WITHDRAWN
    assert (lines["Bun"].status, lines["Bun"].message) == (
        LineStatus.INSUFFICIENT_STOCK,
        "Only 2 left.",
    )
    assert (lines["Bread class"].status, lines["Bread class"].message) == (
        LineStatus.UNAVAILABLE,
        "No longer available.",
    )
    # Not-OK lines count for nothing: no page has anything to check out.
    assert after.has_problems and after.totals == ()
    assert not any(page.can_check_out for page in after.pages)


async def test_accepting_the_new_price_makes_the_line_ok_again(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product(price="3.50"))
        added = await add_line(session, ALICE, loaf, 2, now=NOW)
        assert added.line_id is not None
        await upsert_object(session, product(price="3.80"), sender=MARKET, version=LATER, now=LATER)
        await accept_current_price(session, ALICE, added.line_id, now=LATER)
        cart = await view_cart(session, ALICE, now=LATER)
    (page,) = cart.pages
    assert page.lines[0].status is LineStatus.OK and page.subtotals == (gbp("7.60"),)


async def test_totals_are_per_page_and_never_mix_currencies(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product(42, price="3.50"))
        croissant = await offer(
            session, product(43, name="Croissant", price="2.00", currency="EUR")
        )
        class_ = await offer(session, entry(9, price="25.00"))
        loose = await offer(session, product(44, name="Loose", page=None, price="1.00"))
        for item, quantity in [(loaf, 2), (croissant, 3), (class_, 1), (loose, 1)]:
            await add_line(session, ALICE, item, quantity, now=NOW)
        cart = await view_cart(session, ALICE, now=NOW)
    by_page = {page.name: page.subtotals for page in cart.pages}
    assert [page.name for page in cart.pages] == ["The Bakery", "Village Hall", "Other items"]
    assert by_page == {
        "The Bakery": (Money.of("6.00", "EUR"), gbp("7.00")),
        "Village Hall": (gbp("25.00"),),
        "Other items": (gbp("1.00"),),
    }
    assert cart.totals == (Money.of("6.00", "EUR"), gbp("33.00"))
    assert cart.page(NO_PAGE_KEY) is cart.pages[-1]
    assert cart.item_count == 7


async def test_checkout_detaches_only_the_owners_own_lines(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product(42))
        alices = await add_line(session, ALICE, loaf, 1, now=NOW)
        bobs = await add_line(session, BOB, loaf, 1, now=NOW)
    async with db.transaction() as session:
        cart = await view_cart(session, ALICE, now=NOW, lock=True)
        (page,) = cart.pages
        assert [line.id for line in page.ok_lines] == [alices.line_id]
        assert bobs.line_id is not None
        detached = await detach_lines(
            session, ALICE, [line.id for line in page.ok_lines] + [bobs.line_id]
        )
    async with db.transaction() as session:
        counts = (await cart_item_count(session, ALICE), await cart_item_count(session, BOB))
    assert detached == 1 and counts == (0, 1)
