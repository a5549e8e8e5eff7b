"""bench/checkout: placed orders/s and p99 checkout latency at 32 concurrent shoppers (SQLite).

Ours is `cart.orders.checkout.place_order` in one unit of work per shopper, as the checkout
route runs it: lock the page cart's token row and its lines, re-check every line against
the mirror, create the order, items and history, detach the lines and publish
Create(Order) to the outbox. The baseline, in the same run on an identical database,
is a bare SQLAlchemy Core transaction writing the same rows (token, order, items,
history, outbox activity, deleted lines, the order-placed mail row) with none of our
logic or checks. Both sides give a contact, so the mail row is in both transactions.

`python -m bench checkout` (BENCH_CHECKOUT_ORDERS sets how many orders each side places).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import delete, insert, select, update

from bench.harness import Figure, percentile, report

CONCURRENCY = 32
ORDERS = int(os.environ.get("BENCH_CHECKOUT_ORDERS", "1000"))
PAGE = "https://blog.example/pages/bakery"
MARKET = "https://market.example/actor"


def _actor() -> Any:
    from actor.identity import LocalActor
    from actor.keys import Ed25519Key, LocalKeys, RsaKey

    def pem(key: Any) -> str:
        return str(
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    keys = LocalKeys(RsaKey(pem(rsa_key), rsa_key), Ed25519Key(pem(ed_key), ed_key))
    return LocalActor(base_url="https://cart.bench", username="cart", name="Cart", keys=keys)


async def _prepared(folder: Path) -> tuple[Any, list[str], str]:
    """A migrated database with two products in stock and ORDERS carts of two lines each."""
    from cart.basket.carts import CartLine
    from cart.catalog.mirror import upsert_object
    from cart.catalog.models import key_for
    from store import Database, sqlite_url_for, upgrade
    from vocab.model import MonetaryAmount, Page, Product

    db = Database(sqlite_url_for(folder))
    await upgrade(db.engine)
    now = datetime.now(UTC)
    products = [
        Product(
            id=f"https://market.example/products/{n}",
            attributed_to=MARKET,
            name=f"Loaf {n}",
            price=MonetaryAmount(amount=Decimal("3.50"), currency="GBP"),
            page=Page(id=PAGE, name="The Bakery"),
            # A stock figure, so checkout's stock check (cart.orders.stock) runs on every
            # order, counting all the orders before it: the market never answers here.
            stock=ORDERS * 2 + 10,
        )
        for n in (1, 2)
    ]
    async with db.transaction() as session:
        for obj in products:
            await upsert_object(session, obj, sender=MARKET, version=now, now=now)
    carts = [f"bench-{n:06d}" for n in range(ORDERS)]
    rows = [
        {
            "cart_id": cart,
            "item_ap_id": obj.id,
            "quantity": 2,
            "unit_amount": Decimal("3.50"),
            "currency": "GBP",
            "added_at": now,
            "updated_at": now,
        }
        for cart in carts
        for obj in products
    ]
    async with db.transaction() as session:
        await session.execute(insert(CartLine), rows)
    return db, carts, key_for(PAGE)


async def _ours(db: Any, cart: str, page_key: str, actor: Any) -> None:
    from cart.basket.carts import CartOwner
    from cart.orders.checkout import new_checkout_token, place_order
    from cart.orders.contact import Contact

    contact = Contact("Bench Shopper", f"{cart}@bench.example")
    async with db.transaction() as session:
        placed = await place_order(
            session,
            CartOwner.anonymous(cart),
            page_key,
            new_checkout_token(),
            actor,
            contact=contact,
        )
        assert placed.created


async def _bare(db: Any, cart: str, page_key: str, actor: Any) -> None:
    """The same rows, written without any of our logic."""
    from cart.basket.carts import CartLine
    from cart.orders.models import CheckoutToken, OrderStatusChange, ShopOrder, ShopOrderItem
    from mail.models import OutgoingMail
    from outbox.models import OutboxActivity

    now = datetime.now(UTC)
    public_id = uuid.uuid4().hex
    async with db.transaction() as session:
        await session.execute(
            insert(CheckoutToken).values(
                owner_key=f"c:{cart}", page_key=page_key, token=public_id, created_at=now
            )
        )
        lines = (
            (await session.execute(select(CartLine).where(CartLine.cart_id == cart)))
            .scalars()
            .all()
        )
        order_id = (
            await session.execute(
                insert(ShopOrder)
                .values(
                    public_id=public_id,
                    ap_id=f"{actor.base_url}/orders/{public_id}",
                    cart_id=cart,
                    page_key=page_key,
                    page_ap_id=PAGE,
                    page_name="The Bakery",
                    status="pending",
                    currency="GBP",
                    total_amount=Decimal("14.00"),
                    checkout_token=public_id,
                    valid_until=now + timedelta(minutes=30),
                    refund_attempts=0,
                    created_at=now,
                    updated_at=now,
                    contact_name="Bench Shopper",
                    contact_email=f"{cart}@bench.example",
                )
                .returning(ShopOrder.id)
            )
        ).scalar_one()
        await session.execute(
            insert(ShopOrderItem),
            [
                {
                    "order_id": order_id,
                    "position": n,
                    "item_ap_id": line.item_ap_id,
                    "ap_actor_id": MARKET,
                    "kind": "product",
                    "name": "Loaf",
                    "unit_amount": line.unit_amount,
                    "currency": "GBP",
                    "quantity": 2,
                }
                for n, line in enumerate(lines)
            ],
        )
        await session.execute(
            insert(OrderStatusChange).values(order_id=order_id, status="pending", at=now)
        )
        await session.execute(
            update(CheckoutToken)
            .where(CheckoutToken.owner_key == f"c:{cart}")
            .values(order_id=order_id)
        )
        await session.execute(delete(CartLine).where(CartLine.cart_id == cart))
        await session.execute(
            insert(OutgoingMail).values(
                kind="order.placed",
                to_address=f"{cart}@bench.example",
                order_id=order_id,
                status="queued",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        await session.execute(
            insert(OutboxActivity).values(
                ap_id=f"{actor.base_url}/activities/{public_id}",
                activity_type="Create",
                body=orjson.dumps({"id": public_id, "type": "Create"}).decode(),
                published_at=now,
            )
        )


async def _drive(
    run: Callable[[Any, str, str, Any], Awaitable[None]], folder: Path, actor: Any
) -> tuple[float, float, float]:
    """orders/s, p50 and p99 latency (ms) for ORDERS checkouts by CONCURRENCY shoppers."""
    db, carts, page_key = await _prepared(folder)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for cart in carts:
        queue.put_nowait(cart)
    latencies: list[float] = []

    async def shopper() -> None:
        while not queue.empty():
            cart = queue.get_nowait()
            started = time.perf_counter()
            await run(db, cart, page_key, actor)
            latencies.append((time.perf_counter() - started) * 1000)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(shopper() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    finally:
        await db.dispose()
    return len(latencies) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)


async def _measure() -> list[Figure]:
    actor = _actor()
    with tempfile.TemporaryDirectory() as ours_dir, tempfile.TemporaryDirectory() as bare_dir:
        bare = await _drive(_bare, Path(bare_dir), actor)
        ours = await _drive(_ours, Path(ours_dir), actor)
    note = f"{ORDERS} orders, {CONCURRENCY} concurrent shoppers, SQLite WAL"
    return [
        Figure("checkout: placed orders/s", ours[0], bare[0], "orders/s", note=note),
        Figure("checkout: p50 latency", ours[1], bare[1], "ms", higher_is_better=False),
        Figure("checkout: p99 latency", ours[2], bare[2], "ms", higher_is_better=False),
    ]


def main() -> None:
    report(
        "bench/checkout (place_order vs a bare transaction writing the same rows)",
        asyncio.run(_measure()),
    )


if __name__ == "__main__":
    main()
