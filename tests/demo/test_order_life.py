"""An order's whole life with the demo peers, over real HTTP: what the cart does to an
order, the calendar and the market hear about, and act on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from cart.orders.checkout import PAYMENT_WINDOW
from cart.orders.orders import transition
from cart.orders.refunds import RefundAsk, request_refund
from cart.orders.states import OrderStatus
from inbox.models import InboxActivity
from outbox.models import OutboxActivity
from store import utcnow
from tests.cart.web_support import csrf_token
from tests.demo.conftest import Coop
from tests.demo.shopping import (
    add,
    backdate,
    buy,
    check_out,
    entry,
    latest_order,
    run_reconciler,
    sandbox,
    venue_key,
    venue_page,
)


async def sent(coop: Coop, kind: str) -> list[dict[str, Any]]:
    """What the cart published of this kind (the outbox rows peers are sent)."""
    async with coop.cart_db.transaction() as session:
        rows = (await session.execute(select(OutboxActivity.body))).scalars()
        documents = [orjson.loads(row) for row in rows]
    return [d for d in documents if kind in d["type"] or d["type"] == kind]


async def calendar_heard(coop: Coop, kind: str) -> list[str]:
    async with coop.calendar.db.transaction() as session:
        rows = await session.execute(
            select(InboxActivity.activity_type).where(InboxActivity.activity_type == kind)
        )
        return list(rows.scalars())


async def test_refunding_a_paid_class_frees_the_seat_at_the_calendar(followed: Coop) -> None:
    coop = followed
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        assert (await add(shopper, entry(coop, "pottery"))).status_code == 303
        order = await buy(coop, shopper, venue_key(coop))
    assert order.status == "paid"
    assert "1 of 2 seats left" in await venue_page(coop)

    async with coop.cart_db.transaction() as session:
        await transition(session, order.id, OrderStatus.REFUND_REQUESTED, note="test", now=utcnow())
    await run_reconciler(coop)

    page = await venue_page(coop)
    assert "2 of 2 seats left" in page and 'class="state-released"' in page
    (refunded,) = await sent(coop, "OrderRefunded")
    assert refunded["object"] == order.ap_id and refunded["total"]["amount"] == "35.00"
    assert [(i["orderedItem"], i["quantity"]) for i in refunded["items"]] == [
        (entry(coop, "pottery"), 1)
    ]
    assert await calendar_heard(coop, "OrderRefunded") == ["OrderRefunded"]


async def test_an_order_whose_sandbox_checkout_vanished_expires_and_the_seat_is_freed(
    followed: Coop,
) -> None:
    coop = followed
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        assert (await add(shopper, entry(coop, "pottery"))).status_code == 303
        to_pay = await check_out(shopper, venue_key(coop))
        assert to_pay.status_code == 303
        await coop.settle()
        assert "1 of 2 seats left" in await venue_page(coop), "the calendar holds the seat"
        order = await latest_order(coop)

        sandbox(coop).ledger.forget()  # the demo restarted: its checkouts are gone
        await backdate(coop, order.id, timedelta(minutes=5))
        await run_reconciler(coop)

        order = await latest_order(coop)
        assert order.status == "expired"
        assert "2 of 2 seats left" in await venue_page(coop)
        assert await calendar_heard(coop, "OrderCancelled") == ["OrderCancelled"]
        page = (await shopper.get(f"/orders/{order.number}")).text
        assert "no longer exists" in page and "Pay now" not in page


async def test_a_pending_order_past_its_payment_window_is_never_offered_for_payment(
    followed: Coop,
) -> None:
    coop = followed
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        assert (await add(shopper, entry(coop, "pottery"))).status_code == 303
        assert (await check_out(shopper, venue_key(coop))).status_code == 303
        order = await latest_order(coop)
        page = (await shopper.get(f"/orders/{order.number}")).text
        assert "Pay now" in page and "kept for you until" in page
        await backdate(coop, order.id, PAYMENT_WINDOW + timedelta(seconds=1))
        for url in (f"/orders/{order.number}", f"/checkout/return?order={order.number}"):
            page = (await shopper.get(url)).text
            assert "Pay now" not in page and "time to pay" in page.lower(), url


async def test_two_tickets_for_one_class_claim_two_seats_at_the_calendar(followed: Coop) -> None:
    coop = followed
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        shop = (await shopper.get("/")).text
        card = shop[shop.index("Pottery taster") :][:1500]
        assert "2 of 2 seats left" in card and "Tickets available" not in card
        assert (await add(shopper, entry(coop, "pottery"))).status_code == 303
        assert (await add(shopper, entry(coop, "pottery"))).status_code == 303
        cart = (await shopper.get(f"/cart/page/{venue_key(coop)}")).text
        assert 'name="quantity" value="2"' in cart and "already in your cart" not in cart
        order = await buy(coop, shopper, venue_key(coop))
    assert order.status == "paid" and order.total_amount == Decimal("70.00")
    page = await venue_page(coop)
    assert "0 of 2 seats left" in page and 'class="state-confirmed"' in page
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        shop = (await shopper.get("/")).text
    card = shop[shop.index("Pottery taster") :][:1500]
    assert "Sold out" in card, "the shop learns both seats are gone"


async def test_a_shopper_cancels_an_unpaid_order_the_calendar_frees_the_seats_and_the_cart_refills(
    followed: Coop,
) -> None:
    coop = followed
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        assert (await add(shopper, entry(coop, "pottery"), 2)).status_code == 303
        assert (await check_out(shopper, venue_key(coop))).status_code == 303
        await coop.settle()
        assert "0 of 2 seats left" in await venue_page(coop)
        order = await latest_order(coop)
        page = (await shopper.get(f"/orders/{order.number}")).text
        cancelled = await shopper.post(
            f"/orders/{order.number}/cancel",
            data={"csrf_token": csrf_token(page), "next": f"/orders/{order.number}"},
        )
        assert cancelled.status_code == 303
        page = (await shopper.get(cancelled.headers["location"])).text
        assert "is cancelled and its items are back in your cart" in page
        assert "You cancelled this order" in page and "Pay now" not in page
        await coop.settle()
        assert "2 of 2 seats left" in await venue_page(coop)
        assert await calendar_heard(coop, "OrderCancelled") == ["OrderCancelled"]
        cart = (await shopper.get(f"/cart/page/{venue_key(coop)}")).text
        assert "Pottery taster" in cart and 'name="quantity" value="2"' in cart

        again = await shopper.post(
            f"/orders/{order.number}/cancel",
            data={"csrf_token": csrf_token(cart), "next": f"/orders/{order.number}"},
        )
        page = (await shopper.get(again.headers["location"])).text
        assert "cannot be cancelled" in page
    assert (await latest_order(coop)).status == "cancelled"


async def test_a_partial_refund_of_one_ticket_frees_one_seat_and_the_shopper_sees_why(
    followed: Coop,
) -> None:
    coop = followed
    async with httpx.AsyncClient(base_url=coop.urls["cart"], timeout=30) as shopper:
        assert (await add(shopper, entry(coop, "pottery"), 2)).status_code == 303
        order = await buy(coop, shopper, venue_key(coop))
        assert "0 of 2 seats left" in await venue_page(coop)

        async with coop.cart_db.transaction() as session:
            ask = RefundAsk(reason="One of you could not come", lines={1: 1})
            giving = await request_refund(
                session, order.id, ask, by="ops@example.org", now=utcnow()
            )
        assert str(giving) == "£35.00"
        await run_reconciler(coop)

        page = await venue_page(coop)
        assert "1 of 2 seats left" in page, "the calendar gives back one seat of two"
        (refunded,) = await sent(coop, "OrderRefunded")
        assert refunded["summary"] == "One of you could not come"
        assert refunded["total"]["amount"] == "35.00"
        assert [(i["orderedItem"], i["quantity"]) for i in refunded["items"]] == [
            (entry(coop, "pottery"), 1)
        ]
        shown = (await shopper.get(f"/orders/{order.number}")).text
    assert "£35.00" in shown and "1 × Pottery taster" in shown
    assert "One of you could not come" in shown and "ops@example.org" not in shown
    assert (await latest_order(coop)).status == "paid"
    assert order.checkout_id is not None
    paid = sandbox(coop).ledger.get(order.checkout_id)
    assert [t.refunded for t in paid.transactions] == [Decimal("35.00")], "half went back"
