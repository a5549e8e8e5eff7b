"""bench/checkout: placed orders/s and p99 checkout latency at 32 concurrent shoppers (SQLite).

Ours is `cart.orders.checkout.place_order` as one unit of work per shopper on the writer
thread (`db.write`, group commit): lock the page cart's token row and its lines, re-check
every line against the mirror, create the order, items and history, detach the lines and publish
Create(Order) to the outbox. The floor, in the same run on an identical database, is
honest (issue 18): the same rows (token, order, items, history, outbox activity, deleted
lines, the order-placed mail row, the page's fulfilment read and the choice kept on the
order) written through stdlib `sqlite3` in one thread, one transaction each, with the
same `synchronous=FULL`, none of our logic. (The old baseline
ran them through the same SQLAlchemy async stack: its ratio hid a 0.03 ratio to this.)
Both sides give a contact, so the mail row is in both transactions.

Over HTTP (bench/_checkout_http.py), in the same run: the same two products and two
lines a cart, but each cart made by a shopper over HTTP and checked out by POSTing the
checkout form to one serve process (bench/cart's `unpaced`): the route's form parsing,
CSRF, quota check and record, `place_order` and the payment start: a hosted checkout
created over HTTP at the SumUp sandbox running as a process of its own, which the serve
process reaches as it would SumUp (another machine in production). Only the checkout
POSTs are timed; their ratio is to the same floor. BENCH_CHECKOUT_SANDBOX_IN_PROCESS=1
mounts the sandbox in the serve process instead (the demo set-up, the figure before
2026-11-28): that process then also serves every provider call it makes, a cost no
deployment with a real provider pays.

`python -m bench checkout` (BENCH_CHECKOUT_ORDERS sets how many orders each side places).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
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
from sqlalchemy import insert

from bench._checkout_http import IN_PROCESS, http_checkouts
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


def _products() -> list[Any]:
    """The two products every order buys, in stock."""
    from vocab.model import MonetaryAmount, Page, Product

    return [
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


async def _seed(db: Any) -> None:
    from cart.catalog.mirror import upsert_object

    now = datetime.now(UTC)
    async with db.transaction() as session:
        for obj in _products():
            await upsert_object(session, obj, sender=MARKET, version=now, now=now)


async def _seed_served(folder: Path) -> None:
    """The same products in a serve process's database (it has migrated it)."""
    from store import Database, sqlite_url_for

    db = Database(sqlite_url_for(folder))
    try:
        await _seed(db)
    finally:
        await db.dispose()


async def _prepared(folder: Path) -> tuple[Any, list[str], str]:
    """A migrated database with two products in stock and ORDERS carts of two lines each."""
    from cart.basket.carts import CartLine
    from cart.catalog.models import key_for
    from store import Database, sqlite_url_for, upgrade

    db = Database(sqlite_url_for(folder))
    await upgrade(db.engine)
    await _seed(db)
    now = datetime.now(UTC)
    products = _products()
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
    from cart.catalog.fulfilment import DefaultFulfilment
    from cart.orders.checkout import new_checkout_token, place_order
    from cart.orders.contact import Contact
    from cart.orders.handover import HandoverAsked

    contact = Contact("Bench Shopper", f"{cart}@bench.example")
    # As the route asks: the page says nothing, so the default pickup is checked and kept.
    handover = HandoverAsked(None, None, DefaultFulfilment(pickup=True))
    placed = await db.write(
        place_order,
        CartOwner.anonymous(cart),
        page_key,
        new_checkout_token(),
        actor,
        contact=contact,
        handover=handover,
        now=datetime.now(UTC),  # a bench, outside any component
    )
    assert placed.created


def _text_time(moment: datetime) -> str:
    """Timestamps as SQLAlchemy stores them on SQLite (store.base.UTCDateTime)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _floor_one(connection: sqlite3.Connection, cart: str, page_key: str, base_url: str) -> None:
    """One checkout's rows through stdlib sqlite3, in one transaction."""
    now = _text_time(datetime.now(UTC))
    until = _text_time(datetime.now(UTC) + timedelta(minutes=30))
    public_id = uuid.uuid4().hex
    connection.execute("BEGIN IMMEDIATE")
    connection.execute(
        "INSERT INTO checkout_tokens (owner_key, page_key, token, created_at) VALUES (?, ?, ?, ?)",
        (f"c:{cart}", page_key, public_id, now),
    )
    lines = connection.execute(
        "SELECT item_ap_id, unit_amount FROM cart_lines WHERE cart_id = ?", (cart,)
    ).fetchall()
    # What the page offers for handing over (it says nothing: the default pickup).
    connection.execute(
        "SELECT name, fulfilment FROM catalog_pages WHERE key = ?", (page_key,)
    ).fetchone()
    (order_id,) = connection.execute(
        "INSERT INTO orders (public_id, ap_id, cart_id, page_key, page_ap_id, page_name, status,"
        " currency, total_amount, checkout_token, valid_until, refund_attempts, created_at,"
        " updated_at, contact_name, contact_email, fulfilment_kind, fulfilment_key,"
        " fulfilment_name) VALUES (?, ?, ?, ?, ?, ?, 'pending', 'GBP', '14.00', ?, ?, 0, ?, ?,"
        " ?, ?, 'pickup', 'default', 'Collect from The Bakery') RETURNING id",
        (public_id, f"{base_url}/orders/{public_id}", cart, page_key, PAGE, "The Bakery")
        + (public_id, until, now, now, "Bench Shopper", f"{cart}@bench.example"),
    ).fetchone()
    connection.executemany(
        "INSERT INTO order_items (order_id, position, item_ap_id, ap_actor_id, kind, name,"
        " unit_amount, currency, quantity) VALUES (?, ?, ?, ?, 'product', 'Loaf', ?, 'GBP', 2)",
        [(order_id, n, item, MARKET, amount) for n, (item, amount) in enumerate(lines)],
    )
    connection.execute(
        "INSERT INTO order_status_history (order_id, status, at) VALUES (?, 'pending', ?)",
        (order_id, now),
    )
    connection.execute(
        "UPDATE checkout_tokens SET order_id = ? WHERE owner_key = ?", (order_id, f"c:{cart}")
    )
    connection.execute("DELETE FROM cart_lines WHERE cart_id = ?", (cart,))
    connection.execute(
        "INSERT INTO outgoing_mail (kind, to_address, order_id, status, attempts,"
        " next_attempt_at, created_at) VALUES ('order.placed', ?, ?, 'queued', 0, ?, ?)",
        (f"{cart}@bench.example", order_id, now, now),
    )
    connection.execute(
        "INSERT INTO outbox_activities (ap_id, activity_type, body, published_at)"
        " VALUES (?, 'Create', ?, ?)",
        (
            f"{base_url}/activities/{public_id}",
            orjson.dumps({"id": public_id, "type": "Create"}).decode(),
            now,
        ),
    )
    connection.execute("COMMIT")


def _floor_all(path: str, carts: list[str], page_key: str, base_url: str) -> list[float]:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")  # as store/engine.py and store/units.py
        connection.execute("PRAGMA foreign_keys=ON")
        latencies = []
        for cart in carts:
            started = time.perf_counter()
            _floor_one(connection, cart, page_key, base_url)
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies
    finally:
        connection.close()


async def _floor(folder: Path, actor: Any) -> tuple[float, float, float]:
    """orders/s, p50 and p99 (ms) of the same rows through stdlib sqlite3 in one thread."""
    db, carts, page_key = await _prepared(folder)
    path = db.engine.url.database
    await db.dispose()
    assert path is not None
    started = time.perf_counter()
    latencies = await asyncio.to_thread(_floor_all, path, carts, page_key, actor.base_url)
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99)


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


async def _measure() -> tuple[list[Figure], list[str]]:
    from cart.catalog.models import key_for

    actor = _actor()
    with tempfile.TemporaryDirectory() as ours_dir, tempfile.TemporaryDirectory() as bare_dir:
        bare = await _floor(Path(bare_dir), actor)
        ours = await _drive(_ours, Path(ours_dir), actor)
    items = [obj.id for obj in _products()]
    http = await http_checkouts(_seed_served, key_for(PAGE), items, ORDERS, CONCURRENCY)
    note = f"{ORDERS} orders, {CONCURRENCY} concurrent shoppers, SQLite WAL"
    return [
        Figure("checkout: placed orders/s", ours[0], bare[0], "orders/s", note=note),
        Figure("checkout: p50 latency", ours[1], bare[1], "ms", higher_is_better=False),
        Figure("checkout: p99 latency", ours[2], bare[2], "ms", higher_is_better=False),
        Figure("checkout over HTTP: placed orders/s", http.rate, bare[0], "orders/s"),
        Figure("checkout over HTTP: p50 latency", http.p50, bare[1], "ms", higher_is_better=False),
        Figure("checkout over HTTP: p99 latency", http.p99, bare[2], "ms", higher_is_better=False),
    ], [
        "over HTTP, CPU ms per order while timed: "
        + ", ".join(f"{name} {ms:.2f}" for name, ms in http.cpu_ms.items()),
        "direct: place_order through db.write in this process; over HTTP: POST "
        "/cart/page/{page}/checkout to one serve process (bench/cart's `unpaced`), each a "
        "fresh shopper from its own loopback address; the POST also creates the hosted "
        "checkout at the SumUp sandbox over HTTP, "
        + (
            "mounted in that same process (BENCH_CHECKOUT_SANDBOX_IN_PROCESS=1)"
            if IN_PROCESS
            else "a process of its own (as SumUp is remote in production)"
        ),
    ]


def main() -> None:
    figures, notes = asyncio.run(_measure())
    report(
        "bench/checkout (place_order, directly and over HTTP, vs the same rows through "
        "stdlib sqlite3, one thread, synchronous=FULL)",
        figures,
        notes,
    )


if __name__ == "__main__":
    main()
