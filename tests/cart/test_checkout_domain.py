"""Checkout: one page cart becomes one order, with a frozen snapshot, exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from cart.basket.reading import view_cart
from cart.orders.checkout import CheckoutProblem, PlacedOrder
from cart.orders.orders import OrderNotFound, items_of, shopper_order
from store import Database
from tests.cart.checkout_support import (
    BAKERY_KEY,
    OTHER_SHOPPER,
    SHOPPER,
    VENUE_KEY,
    cart_actor,
    checkout,
    fill,
    kinds,
    orders,
    published,
    stock_shop,
)
from tests.support.factories import CALENDAR, MARKET, NOW, offer, product


async def test_given_a_page_cart_when_checked_out_then_an_order_is_placed_and_announced(
    db: Database,
) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 2), (shop["rye"], 1), (shop["class"], 1))

    placed = await checkout(db)

    order = placed.order
    assert placed.created and order.number == "RA-000001"
    assert (order.status, order.currency, order.total_amount) == (
        "pending",
        "GBP",
        Decimal("11.20"),
    )
    assert order.valid_until == NOW + timedelta(minutes=30)
    async with db.transaction() as session:
        items = await items_of(session, order.id)
        cart = await view_cart(session, SHOPPER, now=NOW)
    assert [(i.name, i.quantity, i.unit_amount, i.ap_actor_id) for i in items] == [
        ("Sourdough loaf", 2, Decimal("3.50"), MARKET),
        ("Rye", 1, Decimal("4.20"), MARKET),
    ]
    # Only the bakery's lines left the cart; the hall's class is still there.
    assert [page.key for page in cart.pages] == [VENUE_KEY]

    (create,) = await published(db)
    assert create["type"] == "Create"
    assert create["to"] == [cart_actor().followers] and create["cc"] == [MARKET]
    obj = create["object"]
    assert obj["type"] == ["Object", "Order"]
    assert (obj["id"], obj["orderNumber"], obj["orderStatus"]) == (
        order.ap_id,
        "RA-000001",
        "pending",
    )
    assert obj["total"] == {"type": "MonetaryAmount", "amount": "11.20", "currency": "GBP"}
    assert [(i["orderedItem"], i["quantity"], i["price"]["amount"]) for i in obj["items"]] == [
        (shop["loaf"], 2, "3.50"),
        (shop["rye"], 1, "4.20"),
    ]
    assert obj["page"]["name"] == "The Bakery"


async def test_calendar_entries_are_requested_and_the_calendar_is_copied(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["class"], 1))

    order = (await checkout(db, page_key=VENUE_KEY)).order

    async with db.transaction() as session:
        (item,) = await items_of(session, order.id)
    assert (item.kind, item.claim_state) == ("entry", "requested")
    (create,) = await published(db)
    assert create["cc"] == [CALENDAR]


async def test_the_order_keeps_the_price_paid_when_the_market_changes_it_later(
    db: Database,
) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    order = (await checkout(db)).order

    async with db.transaction() as session:
        await offer(session, product(42, price="9.99"), at=NOW + timedelta(minutes=5))
        detail = await shopper_order(session, SHOPPER, order.number)
    assert [str(detail.line_total(item)) for item in detail.items] == ["£3.50"]
    assert str(detail.total) == "£3.50"


async def test_a_line_whose_price_changed_stops_checkout_and_changes_nothing(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1), (shop["rye"], 1))
    async with db.transaction() as session:
        await offer(session, product(43, name="Rye", price="4.80"), at=NOW + timedelta(minutes=1))

    with pytest.raises(CheckoutProblem) as raised:
        await checkout(db)

    (problem,) = raised.value.problems
    assert problem.name == "Rye" and "£4.20 to £4.80" in problem.message
    assert "Rye" in raised.value.message
    assert await orders(db) == [] and await published(db) == []
    async with db.transaction() as session:
        cart = await view_cart(session, SHOPPER, now=NOW)
    assert cart.item_count == 2


async def test_a_sold_out_product_stops_checkout(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    async with db.transaction() as session:
        await offer(session, product(42, available=False), at=NOW + timedelta(minutes=1))

    with pytest.raises(CheckoutProblem) as raised:
        await checkout(db)
    assert raised.value.problems[0].name == "Sourdough loaf"
    assert await orders(db) == []


async def test_an_empty_page_cart_cannot_be_checked_out(db: Database) -> None:
    await stock_shop(db)
    with pytest.raises(CheckoutProblem, match="nothing in this cart"):
        await checkout(db)


async def test_the_same_token_twice_yields_the_same_order(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))

    first = await checkout(db, submitted="token-1")
    again = await checkout(db, submitted="token-1")

    assert (first.created, again.created) == (True, False)
    assert again.order.id == first.order.id
    assert kinds(await published(db)) == ["Create"]


async def test_a_second_tab_submitting_after_the_first_gets_the_same_order(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    first = await checkout(db, submitted="tab-1")

    second = await checkout(db, submitted="tab-2")

    assert second.order.id == first.order.id and not second.created
    assert len(await orders(db)) == 1


async def test_new_lines_after_a_checkout_start_a_new_order(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    first = await checkout(db)
    await fill(db, SHOPPER, (shop["rye"], 3))

    second = await checkout(db)

    assert second.created and second.order.number == "RA-000002"
    assert second.order.total_amount == Decimal("12.60")
    assert first.order.checkout_token != second.order.checkout_token


async def test_a_form_without_a_token_places_once_then_again_for_new_lines(
    db: Database,
) -> None:
    """As the web form sends it: no token, so the page cart's own is used."""
    from cart.orders.checkout import place_order

    async def submit() -> PlacedOrder:
        return await db.write(place_order, SHOPPER, BAKERY_KEY, "", cart_actor(), now=NOW)

    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    first = await submit()
    resent = await submit()
    await fill(db, SHOPPER, (shop["rye"], 3))
    second = await submit()

    assert first.created and not resent.created and resent.order.id == first.order.id
    assert second.created and second.order.checkout_token != first.order.checkout_token
    assert len(await orders(db)) == 2


async def test_concurrent_double_checkout_of_one_cart_places_one_order(
    db: Database, database_url: str
) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 2))
    other = Database(database_url)
    try:
        results = await asyncio.gather(
            checkout(db, submitted="submit-1"), checkout(other, submitted="submit-2")
        )
    finally:
        await other.dispose()

    assert results[0].order.id == results[1].order.id
    assert sorted(r.created for r in results) == [False, True]
    assert len(await orders(db)) == 1
    assert kinds(await published(db)) == ["Create"]


async def test_another_shopper_cannot_see_the_order(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    order = (await checkout(db)).order

    async with db.transaction() as session:
        assert (await shopper_order(session, SHOPPER, order.number)).order.id == order.id
        with pytest.raises(OrderNotFound):
            await shopper_order(session, OTHER_SHOPPER, order.number)
        with pytest.raises(OrderNotFound):
            await shopper_order(session, SHOPPER, "RA-999999")


async def test_orders_placed_anonymously_follow_the_shopper_into_their_account(
    db: Database,
) -> None:
    from cart.basket.carts import CartOwner
    from cart.orders.orders import adopt_orders

    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    order = (await checkout(db)).order

    async with db.transaction() as session:
        assert SHOPPER.cart_id is not None
        assert await session.run_sync(adopt_orders, SHOPPER.cart_id, 7) == 1
        mine = await shopper_order(session, CartOwner.account(7), order.number)
        with pytest.raises(OrderNotFound):
            await shopper_order(session, SHOPPER, order.number)
    assert mine.order.id == order.id


async def test_a_price_finer_than_its_currency_stops_checkout_instead_of_an_unpayable_order(
    db: Database,
) -> None:
    """Found in review: 3.505 GBP was placed, then could never be charged by SumUp."""
    async with db.transaction() as session:
        odd = await offer(session, product(44, name="Odd loaf", price="3.505"))
        fine = await offer(session, product(45, name="Rye", price="4.200"))  # 4.2: fine
    await fill(db, SHOPPER, (odd, 1), (fine, 1))
    with pytest.raises(CheckoutProblem) as raised:
        await checkout(db)
    [problem] = raised.value.problems
    assert problem.name == "Odd loaf" and "3.505 GBP" in problem.message
    assert await orders(db) == []


async def test_two_shoppers_checking_out_the_last_loaf_at_once_place_one_order(
    db: Database, database_url: str
) -> None:
    """Race-safe on SQLite (one writer) and PostgreSQL (the product rows are locked)."""
    async with db.transaction() as session:
        loaf = await offer(session, product(42, stock=1))
    await fill(db, SHOPPER, (loaf, 1))
    await fill(db, OTHER_SHOPPER, (loaf, 1))
    other = Database(database_url)
    try:
        results = await asyncio.gather(
            checkout(db, SHOPPER), checkout(other, OTHER_SHOPPER), return_exceptions=True
        )
    finally:
        await other.dispose()

    placed = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, CheckoutProblem)]
    assert len(placed) == 1 and len(refused) == 1, results
    assert refused[0].problems[0].message.startswith("Sold out")
    assert len(await orders(db)) == 1


async def test_an_empty_checkout_after_payment_does_not_show_the_old_paid_order(
    db: Database,
) -> None:
    from cart.orders.orders import transition
    from cart.orders.states import OrderStatus

    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    first = await checkout(db)
    async with db.transaction() as session:
        token = first.order.checkout_token
        await transition(session, first.order.id, OrderStatus.PAID, now=NOW)
    with pytest.raises(CheckoutProblem, match="nothing in this cart"):
        await checkout(db, submitted="a-new-tab-token", now=NOW + timedelta(minutes=5))
    again = await checkout(db, submitted=token, now=NOW + timedelta(minutes=5))
    assert again.order.id == first.order.id and not again.created  # the same form, resent
