"""The demo calendar answering a real cart's orders: Accept, Reject with why, paid, cancelled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from cart.catalog.mirror import get_item
from inbox.models import InboxActivity
from outbox.publish import new_activity_id, publish
from tests.demo.conftest import Coop
from tests.support.peers import remote_peer
from vocab import builders
from vocab.contexts import outgoing_context
from vocab.model import MonetaryAmount, Order, OrderItem

GBP = "GBP"


async def place_order(
    coop: Coop, entry: str, quantity: int, unit: str = "35.00", *, with_loaf: bool = False
) -> str:
    """The cart publishes Create(Order), cc the calendar (and the market for a loaf),
    as its checkout does."""
    cart = coop.cart.state.actor
    calendar, market = f"{coop.urls['calendar']}/actor", f"{coop.urls['market']}/actor"
    price = MonetaryAmount(amount=Decimal(unit), currency=GBP)
    loaf_price = MonetaryAmount(amount=Decimal("3.50"), currency=GBP)
    loaf = OrderItem(
        ordered_item=f"{coop.urls['market']}/products/sourdough",
        quantity=1,
        price=loaf_price,
        name="Sourdough loaf",
    )
    order = Order(
        id=f"{cart.base_url}/orders/{uuid.uuid4().hex}",
        attributed_to=cart.id,
        order_number=f"RA-{uuid.uuid4().hex[:6]}",
        order_status="pending",
        items=(
            OrderItem(
                ordered_item=f"{coop.urls['calendar']}/entries/{entry}",
                quantity=quantity,
                price=price,
                name="Pottery taster",
            ),
            *([loaf] if with_loaf else []),
        ),
        total=MonetaryAmount(
            amount=price.amount * quantity + (loaf_price.amount if with_loaf else 0), currency=GBP
        ),
    )
    owners = [calendar, market] if with_loaf else [calendar]
    to, cc = builders.order_addressing(followers=cart.followers, owners=owners)
    async with coop.cart_db.transaction() as session:
        await publish(
            session,
            builders.create(
                actor=cart.id, object=order, to=to, cc=cc, activity_id=new_activity_id(cart)
            ),
        )
    await coop.settle()
    return order.id


async def tell_calendar(coop: Coop, verb: str, order_id: str) -> None:
    cart = coop.cart.state.actor
    calendar = f"{coop.urls['calendar']}/actor"
    common: dict[str, Any] = {
        "actor": cart.id,
        "order_id": order_id,
        "to": [cart.followers],
        "cc": [calendar],
        "activity_id": new_activity_id(cart),
    }
    document = (
        builders.order_paid(**common, payment_reference="chk_demo")
        if verb == "paid"
        else builders.order_cancelled(**common, summary="expired")
    )
    async with coop.cart_db.transaction() as session:
        await publish(session, document)
    await coop.settle()


async def answers(coop: Coop, order_id: str) -> list[dict[str, Any]]:
    """What the calendar told the cart about this order, as the cart's inbox holds it."""
    async with coop.cart_db.transaction() as session:
        rows = (
            await session.execute(
                select(InboxActivity.body).where(
                    InboxActivity.ap_actor_id == f"{coop.urls['calendar']}/actor",
                    InboxActivity.activity_type.in_(["Accept", "Reject"]),
                )
            )
        ).scalars()
        return [doc for doc in map(orjson.loads, rows) if doc["object"] == order_id]


async def seats_in_cart(coop: Coop, entry: str) -> int | None:
    async with coop.cart_db.transaction() as session:
        item = await get_item(
            session, f"{coop.urls['calendar']}/entries/{entry}", datetime.now(UTC)
        )
    assert item is not None
    return item.stock


async def test_given_seats_left_when_ordered_then_accepted_and_the_buyer_of_no_seat_is_refused(
    followed: Coop,
) -> None:
    coop = followed
    first = await place_order(coop, "pottery", 2)
    [accept] = await answers(coop, first)
    assert accept["type"] == "Accept"
    assert await seats_in_cart(coop, "pottery") == 0, "the cart's mirror learns the seats are gone"

    second = await place_order(coop, "pottery", 1)
    [reject] = await answers(coop, second)
    assert reject["type"] == "Reject"
    assert reject["summary"] == "Pottery taster is full"

    async with httpx.AsyncClient(base_url=coop.urls["calendar"]) as browser:
        page = (await browser.get("/entries")).text
    assert "0 of 2 seats left" in page and "ordered" in page and "refused" in page


async def test_given_an_order_when_paid_then_cancelled_then_its_seats_are_confirmed_then_released(
    followed: Coop,
) -> None:
    coop = followed
    order = await place_order(coop, "pottery", 1, with_loaf=True)
    assert [a["type"] for a in await answers(coop, order)] == ["Accept"], (
        "the market's loaf in the same order is not the calendar's to judge"
    )

    await tell_calendar(coop, "paid", order)
    async with httpx.AsyncClient(base_url=coop.urls["calendar"]) as browser:
        page = (await browser.get("/entries")).text
        assert 'class="state-confirmed"' in page and "1 of 2 seats left" in page

        await tell_calendar(coop, "cancelled", order)
        page = (await browser.get("/entries")).text
    assert 'class="state-released"' in page and "2 of 2 seats left" in page
    assert await seats_in_cart(coop, "pottery") == 2


async def test_given_too_few_seats_or_a_stale_price_when_ordered_then_the_reject_says_why(
    followed: Coop,
) -> None:
    coop = followed
    too_many = await place_order(coop, "pottery", 3)
    [reject] = await answers(coop, too_many)
    assert (
        reject["type"] == "Reject" and reject["summary"] == "Only 2 seats left for Pottery taster"
    )

    stale = await place_order(coop, "pottery", 1, unit="30.00")
    [reject] = await answers(coop, stale)
    assert reject["summary"] == "Pottery taster now costs £35.00"
    assert await seats_in_cart(coop, "pottery") == 2, "a refused order holds no seat"


async def test_given_an_order_from_a_stranger_when_delivered_then_the_calendar_holds_nothing(
    followed: Coop,
) -> None:
    coop = followed
    async with remote_peer("stranger") as stranger:
        stranger.accept_deliveries()
        price = {"type": "MonetaryAmount", "amount": "35.00", "currency": GBP}
        order = {
            "id": stranger.new_id("orders"),
            "type": ["Object", "Order"],
            "attributedTo": stranger.actor_id,
            "orderNumber": "X-1",
            "orderStatus": "pending",
            "items": [
                {
                    "type": "OrderItem",
                    "orderedItem": f"{coop.urls['calendar']}/entries/pottery",
                    "quantity": 2,
                    "price": price,
                }
            ],
            "total": {**price, "amount": "70.00"},
        }
        document = {**stranger.activity("Create", order), "@context": outgoing_context()}
        delivered = await stranger.deliver(f"{coop.urls['calendar']}/inbox", document)
        assert delivered.status_code == 202
        await coop.settle()
        assert [a["type"] for a in stranger.received] == [], "no answer to a stranger"
    assert await seats_in_cart(coop, "pottery") == 2
    async with httpx.AsyncClient(base_url=coop.urls["calendar"]) as browser:
        assert "2 of 2 seats left" in (await browser.get("/entries")).text
