"""Pickup or delivery at checkout: checked against the page, kept on the order, its fee in
the total charged, its choice (never the address) on the wire, and in the shopper's mails."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from cart.catalog.fulfilment import DefaultFulfilment, offered
from cart.orders.checkout import CheckoutProblem
from cart.orders.contact import Contact
from cart.orders.handover import HandoverAsked, handover_of
from cart.orders.orders import transition
from cart.orders.states import OrderStatus
from mail.models import OutgoingMail
from service.mailing import build_mail_sender
from service.settings import Settings
from store import Database, utcnow
from tests.cart.checkout_support import (
    BAKERY_KEY,
    SHOPPER,
    VENUE_KEY,
    checkout,
    fill,
    orders,
    published,
)
from tests.mail.support import parts, smtp_server
from tests.support.factories import BAKERY, NOW, entry, offer, product
from tests.support.factories import BIKE_DELIVERY as BIKE
from tests.support.factories import SATURDAY_PICKUP as SATURDAY
from tests.support.loopback import free_port

ADA = Contact("Ada Lovelace", "ada@example.org")
PICKUP_DEFAULT = DefaultFulfilment(pickup=True)


async def _shop(db: Database) -> tuple[str, str]:
    """Two loaves in the cart of a bakery that offers a Saturday pickup and a bike."""
    page = replace(BAKERY, fulfilment=(SATURDAY, BIKE))
    async with db.transaction() as session:
        loaf = await offer(session, product(42, page=page))
    await fill(db, SHOPPER, (loaf, 2))
    options = await db.read(offered, BAKERY_KEY, NOW, PICKUP_DEFAULT)
    return options[0].key, options[1].key


def asked(key: str | None, address: str | None = None) -> HandoverAsked:
    return HandoverAsked(key, address, PICKUP_DEFAULT)


async def test_a_delivery_adds_its_fee_to_the_total_and_keeps_the_address_off_the_wire(
    db: Database,
) -> None:
    _, bike = await _shop(db)
    placed = await checkout(db, contact=ADA, handover=asked(bike, "1 Lime Street\nTown"))
    order = placed.order
    assert order.total_amount == Decimal("9.50")  # 2 x 3.50 + 2.50
    chosen = handover_of(order)
    assert chosen is not None and chosen.is_delivery
    assert (chosen.name, chosen.place, chosen.address) == (
        "Bike",
        "Ring road",
        "1 Lime Street\nTown",
    )
    assert chosen.fee is not None and chosen.fee.amount == Decimal("2.50")

    (created,) = [a for a in await published(db) if a["type"] == "Create"]
    wire = created["object"]
    assert wire["total"] == {"type": "MonetaryAmount", "amount": "9.50", "currency": "GBP"}
    assert wire["fulfilment"] == [
        {
            "type": "Delivery",
            "id": BIKE.id,
            "name": "Bike",
            "area": "Ring road",
            "fee": {"type": "MonetaryAmount", "amount": "2.50", "currency": "GBP"},
        }
    ]
    assert "Lime Street" not in json.dumps(created) and "Ada" not in json.dumps(created)


@pytest.mark.parametrize(
    ("key", "address", "says"),
    [
        ("bike", None, "address to deliver to"),
        ("bike", "x" * 501, "address to deliver to"),
        ("forged", None, "choose how you will get your order"),
        (None, None, "choose how you will get your order"),
    ],
)
async def test_a_choice_the_page_does_not_offer_or_a_delivery_without_address_places_nothing(
    db: Database, key: str | None, address: str | None, says: str
) -> None:
    _, bike = await _shop(db)
    with pytest.raises(CheckoutProblem) as refused:
        await checkout(db, handover=asked(bike if key == "bike" else key, address))
    assert says in str(refused.value)
    assert await orders(db) == []


async def test_a_pickup_keeps_its_slot_and_adds_nothing(db: Database) -> None:
    saturday, _ = await _shop(db)
    order = (await checkout(db, handover=asked(saturday, "ignored for a pickup"))).order
    chosen = handover_of(order)
    assert chosen is not None and not chosen.is_delivery
    assert (chosen.key, chosen.place, chosen.start, chosen.address) == (
        saturday,
        "Market hall",
        SATURDAY.start_time,
        None,
    )
    assert order.total_amount == Decimal("7.00")


async def test_a_page_that_says_nothing_gets_the_default_pickup_without_asking(
    db: Database,
) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product(42))
    await fill(db, SHOPPER, (loaf, 1))
    order = (await checkout(db, handover=asked(None))).order
    chosen = handover_of(order)
    assert chosen is not None and chosen.name == "Collect from The Bakery"


async def test_the_receipt_carries_the_fee_the_delivery_and_the_payment_reference(
    db: Database, settings: Settings
) -> None:
    _, bike = await _shop(db)
    order = (await checkout(db, contact=ADA, handover=asked(bike, "1 Lime Street"))).order
    async with db.transaction() as session:
        await transition(
            session,
            order.id,
            OrderStatus.PAID,
            transaction_id="TXN-77",
            paid_at=utcnow(),
            now=utcnow(),
        )
    async with db.transaction() as session:
        kinds = (await session.execute(select(OutgoingMail.kind))).scalars().all()
    assert kinds == ["order.placed", "order.paid"]  # exactly one mail per event
    port = free_port()
    with smtp_server(port) as mailbox:
        smtp = settings.model_copy(update={"smtp_url": SecretStr(f"smtp://127.0.0.1:{port}")})
        assert await build_mail_sender(smtp, db).step() == 2
    _, receipt = mailbox.to("ada@example.org")
    for part in parts(receipt):
        assert "Delivery fee" in part and "£2.50" in part and "£9.50" in part
        assert "Bike" in part and "Ring road" in part and "1 Lime Street" in part
        assert "TXN-77" in part


async def test_a_july_class_at_19_london_time_reads_19_bst_in_the_mail(
    db: Database, settings: Settings
) -> None:
    july = datetime(2027, 7, 17, 18, 0, tzinfo=UTC)  # 19:00 in London
    async with db.transaction() as session:
        lesson = await offer(
            session, replace(entry(9, start=july), time_zone="Europe/London"), at=NOW
        )
    await fill(db, SHOPPER, (lesson, 1))
    await checkout(db, SHOPPER, VENUE_KEY, contact=ADA, handover=asked(None), now=NOW)
    port = free_port()
    with smtp_server(port) as mailbox:
        smtp = settings.model_copy(update={"smtp_url": SecretStr(f"smtp://127.0.0.1:{port}")})
        assert await build_mail_sender(smtp, db).step() == 1
    (placed,) = mailbox.to("ada@example.org")
    for part in parts(placed):
        assert "Saturday 17 July 2027, 19:00 BST" in part and "18:00" not in part


def test_a_pickup_window_reads_on_the_shops_clock() -> None:
    from cart.locale import spoken_window

    start = datetime(2027, 7, 17, 7, tzinfo=UTC)
    assert spoken_window(start, start + timedelta(hours=3), "Europe/London") == (
        "Saturday 17 July 2027, 08:00 to 11:00 BST"
    )
