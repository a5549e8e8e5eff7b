"""The operator's side of pickup and delivery: orders say how they go, and a packing list per
page and slot downloads with the customer, the contact and the delivery address."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import httpx
from sqlalchemy import update
from starlette.applications import Starlette

from cart.basket.carts import CartOwner
from cart.catalog.fulfilment import DefaultFulfilment, offered
from cart.orders.contact import Contact
from cart.orders.handover import HandoverAsked
from cart.orders.models import ShopOrder
from cart.orders.orders import record
from store import utcnow
from tests.cart.checkout_support import BAKERY_KEY, checkout, fill
from tests.support.factories import BAKERY, NOW, offer, product
from tests.support.factories import BIKE_DELIVERY as BIKE
from tests.support.factories import SATURDAY_PICKUP as SATURDAY


async def _paid(
    app: Starlette, shopper: str, contact: Contact, key: str, address: str | None
) -> str:
    db = app.state.db
    owner = CartOwner.anonymous(shopper)
    await fill(db, owner, (product(42).id, 1))
    asked = HandoverAsked(key, address, DefaultFulfilment(pickup=True))
    placed = await checkout(db, owner, contact=contact, handover=asked)
    async with db.transaction() as session:
        await session.execute(
            update(ShopOrder)
            .where(ShopOrder.id == placed.order.id)
            .values(status="paid", transaction_id=f"txn-{shopper}", paid_at=utcnow())
        )
        await record(session, placed.order.id, "paid", "Payment received", utcnow())
    return placed.order.number


async def test_the_operator_packs_per_slot_with_contact_and_address(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    db = admin_app.state.db
    async with db.transaction() as session:
        await offer(session, product(42, page=replace(BAKERY, fulfilment=(SATURDAY, BIKE))))
    saturday, bike = (
        o.key for o in await db.read(offered, BAKERY_KEY, NOW, DefaultFulfilment(True))
    )
    ada = await _paid(admin_app, "a", Contact("Ada", "ada@example.org"), saturday, None)
    bob = await _paid(admin_app, "b", Contact("Bob", "bob@example.org"), bike, "2 Elm Road")

    listing = (await operator.get("/admin/orders")).text
    assert "Pickup: Saturday stall" in listing and "Delivery: Bike" in listing
    detail = (await operator.get(f"/admin/orders/{bob}")).text
    assert "2 Elm Road" in detail and "£2.50" in detail

    overview = (await operator.get("/admin/packing")).text
    links = re.findall(r'href="(/admin/packing\.csv\?[^"]+)"', overview)
    assert len(links) == 2 and "Saturday 6 July 2030, 08:00 to 11:00 BST" in overview
    pickup_link = next(link for link in links if saturday in link).replace("&amp;", "&")
    answer = await operator.get(pickup_link)
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    header, *rows = list(csv.reader(io.StringIO(answer.text)))
    line = dict(zip(header, rows[0], strict=True))
    assert [r[header.index("order")] for r in rows] == [ada]  # only this slot's orders
    assert (line["handover"], line["where"], line["customer"]) == (
        "Pickup: Saturday stall",
        "Market hall",
        "Ada",
    )
    delivery = await operator.get("/admin/packing.csv", params={"page": BAKERY_KEY, "slot": bike})
    header, row = list(csv.reader(io.StringIO(delivery.text)))
    line = dict(zip(header, row, strict=True))
    assert (line["order"], line["deliver_to"], line["delivery_fee"]) == (bob, "2 Elm Road", "2.50")


async def test_a_refunded_order_never_says_the_provider_says_paid(
    admin_app: Starlette, operator: httpx.AsyncClient
) -> None:
    async with admin_app.state.db.transaction() as session:
        await offer(session, product(42))
    number = await _paid(admin_app, "a", Contact("Ada", "ada@example.org"), "", None)
    for status in ("refund_requested", "refunded"):
        async with admin_app.state.db.transaction() as session:
            await session.execute(update(ShopOrder).values(status=status, provider_status="PAID"))
        page = (await operator.get(f"/admin/orders/{number}")).text
        assert "provider says PAID" not in page and "refund" in page
