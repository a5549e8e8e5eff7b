"""Old unpaid orders forget who placed them; paid ones keep their contact."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from cart.orders.models import CheckoutToken, ShopOrder
from cart.orders.retention import UNPAID_KEEP, forget_unpaid
from store import Database
from tests.cart.checkout_support import (
    NOW,
    OTHER_SHOPPER,
    SHOPPER,
    checkout,
    fill,
    orders,
    stock_shop,
)


async def test_old_unpaid_anonymous_orders_are_unlinked_and_their_tokens_dropped(
    db: Database,
) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    expired = (await checkout(db, SHOPPER)).order
    await fill(db, OTHER_SHOPPER, (shop["loaf"], 1))
    paid = (await checkout(db, OTHER_SHOPPER)).order
    old = NOW - UNPAID_KEEP - timedelta(days=1)
    async with db.transaction() as session:
        for order, status in ((expired, "expired"), (paid, "paid")):
            await session.execute(
                update(ShopOrder)
                .where(ShopOrder.id == order.id)
                .values(
                    status=status,
                    updated_at=old,
                    checkout_url="https://pay.example/x",
                    contact_name="Ada Lovelace",
                    contact_email="ada@example.org",
                    contact_phone="+44 20 7946 0000",
                )
            )
        await session.execute(update(CheckoutToken).values(created_at=old))

    assert await db.write(forget_unpaid, now=NOW) == 3  # one order, two tokens
    after = {order.id: order for order in await orders(db)}
    forgotten = after[expired.id]
    assert forgotten.cart_id is None and forgotten.checkout_url is None
    assert (forgotten.contact_name, forgotten.contact_email, forgotten.contact_phone) == (
        None,
        None,
        None,
    )
    assert after[expired.id].status == "expired" and after[expired.id].total_amount
    assert after[paid.id].cart_id == OTHER_SHOPPER.cart_id
    assert after[paid.id].checkout_url == "https://pay.example/x"
    assert after[paid.id].contact_email == "ada@example.org"
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(CheckoutToken)) == 0
    assert await db.write(forget_unpaid, now=NOW) == 0


async def test_recent_unpaid_orders_keep_their_link(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["loaf"], 1))
    order = (await checkout(db, SHOPPER)).order
    async with db.transaction() as session:
        await session.execute(update(ShopOrder).values(status="expired", updated_at=NOW))
    assert await db.write(forget_unpaid, now=NOW + timedelta(days=1)) == 0
    (kept,) = await orders(db)
    assert kept.id == order.id and kept.cart_id == SHOPPER.cart_id
