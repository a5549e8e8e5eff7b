"""An order's whole life with the demo peers, over real HTTP: what the cart does to an
order, the calendar and the market hear about, and act on."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from sqlalchemy import select

from cart.orders.orders import transition
from cart.orders.states import OrderStatus
from inbox.models import InboxActivity
from outbox.models import OutboxActivity
from tests.demo.conftest import Coop
from tests.demo.shopping import add, buy, entry, run_reconciler, venue_key, venue_page


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
        await transition(session, order.id, OrderStatus.REFUND_REQUESTED, note="test")
    await run_reconciler(coop)

    page = await venue_page(coop)
    assert "2 of 2 seats left" in page and 'class="state-released"' in page
    (refunded,) = await sent(coop, "OrderRefunded")
    assert refunded["object"] == order.ap_id and refunded["total"]["amount"] == "35.00"
    assert [(i["orderedItem"], i["quantity"]) for i in refunded["items"]] == [
        (entry(coop, "pottery"), 1)
    ]
    assert await calendar_heard(coop, "OrderRefunded") == ["OrderRefunded"]
