"""A shop with a placed order whose SumUp checkout lives in a real sandbox on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from cart.orders.models import ShopOrder
from cart.orders.payment import PaymentLinks, start_payment
from store import Database, utcnow
from tests.cart.checkout_support import BAKERY_KEY, SHOPPER, VENUE_KEY, checkout, fill, stock_shop
from tests.payments.support import SandboxHarness, press, running_sandbox
from tests.support.factories import entry, offer


@dataclass
class Paying:
    order_id: int
    hosted_url: str
    placed_at: datetime


@asynccontextmanager
async def sandbox(**options: object) -> AsyncIterator[SandboxHarness]:
    async with running_sandbox(**options) as harness:
        yield harness


async def order_with_checkout(
    db: Database,
    harness: SandboxHarness,
    *,
    with_entry: bool = False,
    amount: Decimal | None = None,
) -> Paying:
    shop = await stock_shop(db)
    now = utcnow()
    if with_entry:
        # These checkouts run on the wall clock: the class starts a month after it, not at
        # the factories' NOW + 4 days, which has passed (a newer version of the same class).
        async with db.transaction() as session:
            await offer(session, entry(9, start=now + timedelta(days=30)), at=now)
        await fill(db, SHOPPER, (shop["class"], 1))
        placed = await checkout(db, page_key=VENUE_KEY, now=now)
    else:
        await fill(db, SHOPPER, (shop["loaf"], 2))
        placed = await checkout(db, page_key=BAKERY_KEY, now=now)
    if amount is not None:
        async with db.transaction() as session:
            await session.execute(
                update(ShopOrder).where(ShopOrder.id == placed.order.id).values(total_amount=amount)
            )
    url = await start_payment(
        db, harness.client, placed.order.id, PaymentLinks(harness.receiver.origin), now=now
    )
    return Paying(placed.order.id, url, now)


async def pay(harness: SandboxHarness, paying: Paying, action: str = "pay") -> None:
    answer = await press(harness.browser, paying.hosted_url, action)
    assert answer.status_code == 303
    await harness.sandbox.webhooks.drain()
