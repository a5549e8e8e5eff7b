"""bench/load: shoppers and peers at once against 2 web + 2 worker processes on PostgreSQL.

Not a timed test: a script an operator runs before trusting a scale-out deployment.
For BENCH_LOAD_SECONDS (default 20; the issue asks for minutes: try 180) N shoppers
(BENCH_LOAD_SHOPPERS, default 8) each loop through the web as a browser would: add a
line (POST /cart/lines), open the page cart, check out (POST .../checkout, expecting the
303 to the SumUp sandbox's hosted page); M peers (BENCH_LOAD_PEERS, default 4) deliver
signed activities to the inbox. Requests alternate between the two web processes. One
co-op follower receives our deliveries.

At the end, once the workers have drained the queues, it checks: zero errors (every
answer the one expected), zero lost work (every acknowledged delivery is stored and
processed, every order that got its 303 exists with its Create(Order), every delivery
to the follower done). Reports p50/p99 per request kind.

Usage: ROSE_CART_BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
       .venv/bin/python -m bench load
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actor.signatures import Message, SigningKey, sign_request
from bench._deployment import (
    deployment,
    fresh_database,
    has_postgres,
    postgres_admin_url,
)
from bench.harness import free_port, percentile
from cart.catalog.mirror import upsert_object
from cart.catalog.models import key_for
from outbox.models import Follower
from outbox.states import FollowerState
from store import Database, utcnow
from vocab.model import MonetaryAmount, Page, Product

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
SHOPPERS = int(os.environ.get("BENCH_LOAD_SHOPPERS", "8"))
PEERS = int(os.environ.get("BENCH_LOAD_PEERS", "4"))
DRAIN_SECONDS = 120
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MARKET = "https://market.example/actor"
PAGE = Page(id="https://blog.example/pages/bakery", name="The Bakery")


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: Counter[str] = Counter()

    def timed(self, kind: str, started: float) -> None:
        self.latencies.setdefault(kind, []).append(time.perf_counter() - started)


class Peer:
    """A remote actor with its own key, serving its actor document on loopback."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.port = free_port()
        self.actor = f"http://127.0.0.1:{self.port}/actor"
        self.sent: list[str] = []

    def app(self) -> Starlette:
        pem = (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Service",
            "inbox": f"{self.actor}/inbox",
            "publicKey": {"id": f"{self.actor}#main-key", "owner": self.actor, "publicKeyPem": pem},
        }

        async def actor(_request: Request) -> Response:
            return JSONResponse(document, media_type="application/activity+json")

        return Starlette(routes=[Route("/actor", actor)])

    def delivery(self, port: int, target: str) -> tuple[str, dict[str, str], bytes]:
        activity_id = f"http://127.0.0.1:{self.port}/follows/{uuid.uuid4().hex}"
        body = orjson.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": activity_id,
                "type": "Follow",
                "actor": self.actor,
                "object": target,
            }
        )
        url = f"http://127.0.0.1:{port}/actor/inbox"
        headers = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/activity+json"}
        headers.update(
            sign_request(
                Message.of("POST", url, headers, body),
                SigningKey(f"{self.actor}#main-key", self.key),
            )
        )
        return activity_id, headers, body


async def follower_inbox(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await Response(status_code=202)(scope, receive, send)


async def seed(database_url: str, follower_inbox_url: str, products: int = 20) -> list[str]:
    db = Database(database_url)
    ids = []
    try:
        async with db.transaction() as session:
            for n in range(products):
                item = Product(
                    id=f"https://market.example/products/{n}",
                    attributed_to=MARKET,
                    name=f"Loaf {n}",
                    price=MonetaryAmount(amount=Decimal("3.50"), currency="GBP"),
                    page=PAGE,
                    available=True,
                )
                await upsert_object(session, item, sender=MARKET, version=utcnow(), now=utcnow())
                ids.append(item.id)
            session.add(
                Follower(
                    ap_actor_id="http://127.0.0.1/coop/actor",
                    follow_ap_id="http://127.0.0.1/coop/follows/1",
                    state=FollowerState.ACCEPTED,
                    inbox=follower_inbox_url,
                )
            )
    finally:
        await db.dispose()
    return ids


async def shopper(
    number: int, ports: list[int], items: list[str], stop: float, stats: Stats, hosted: str
) -> int:
    """Loop add line -> page cart -> checkout until `stop`; returns orders placed.

    A placed order is a 303 to the SumUp (sandbox) hosted page at `hosted`."""
    port = ports[number % len(ports)]
    placed = 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as web:
        token = CSRF.search((await web.get("/")).text).group(1)  # type: ignore[union-attr]
        while time.perf_counter() < stop:
            item = items[(number + placed) % len(items)]
            try:
                started = time.perf_counter()
                added = await web.post(
                    "/cart/lines", data={"csrf_token": token, "item": item, "quantity": "1"}
                )
                stats.timed("add line", started)
                if added.status_code != 303:
                    stats.errors[f"add line {added.status_code}"] += 1
                    continue
                page = await web.get(f"/cart/page/{key_for(PAGE.id)}")
                token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
                started = time.perf_counter()
                checkout = await web.post(
                    f"/cart/page/{key_for(PAGE.id)}/checkout", data={"csrf_token": token}
                )
                stats.timed("checkout", started)
                if checkout.status_code != 303 or not checkout.headers["location"].startswith(
                    hosted
                ):
                    stats.errors[f"checkout {checkout.status_code}"] += 1
                    continue
                placed += 1
            except httpx.HTTPError as error:
                stats.errors[type(error).__name__] += 1
    return placed


async def peer_loop(
    peer: Peer, number: int, ports: list[int], target: str, stop: float, stats: Stats
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        turn = number
        while time.perf_counter() < stop:
            port = ports[turn % len(ports)]
            turn += 1
            activity_id, headers, body = peer.delivery(port, target)
            try:
                started = time.perf_counter()
                answer = await client.post(
                    f"http://127.0.0.1:{port}/actor/inbox", headers=headers, content=body
                )
                stats.timed("inbox delivery", started)
                if answer.status_code == 202:
                    peer.sent.append(activity_id)
                else:
                    stats.errors[f"inbox {answer.status_code}"] += 1
            except httpx.HTTPError as error:
                stats.errors[type(error).__name__] += 1


async def counts(database_url: str, follower: str) -> dict[str, int]:
    """What the database holds; deliveries to the unreachable market.example (cc'd on each
    order) keep retrying by design, so only the follower's deliveries must be done."""
    queries = {
        "inbox stored": "SELECT COUNT(*) FROM inbox_activities",
        "inbox not processed": (
            "SELECT COUNT(*) FROM inbox_activities WHERE status NOT IN ('done', 'ignored')"
        ),
        "orders": "SELECT COUNT(*) FROM orders",
        "orders without items": (
            "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS "
            "(SELECT 1 FROM order_items i WHERE i.order_id = o.id)"
        ),
        "Create activities": (
            "SELECT COUNT(*) FROM outbox_activities WHERE activity_type = 'Create'"
        ),
        "deliveries": "SELECT COUNT(*) FROM outbox_deliveries WHERE inbox = :follower",
        "deliveries not done": (
            "SELECT COUNT(*) FROM outbox_deliveries WHERE inbox = :follower AND status <> 'done'"
        ),
    }
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            values = {"follower": follower}
            return {
                name: int(await session.scalar(text(sql), values if ":" in sql else {}) or 0)
                for name, sql in queries.items()
            }
    finally:
        await db.dispose()


async def run() -> int:
    stats = Stats()
    peers = [Peer() for _ in range(PEERS)]
    servers = [
        uvicorn.Server(uvicorn.Config(p.app(), port=p.port, log_level="warning")) for p in peers
    ]
    follower_port = free_port()
    servers.append(
        uvicorn.Server(uvicorn.Config(follower_inbox, port=follower_port, log_level="warning"))
    )
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    try:
        async with (
            fresh_database(postgres_admin_url()) as url,
            deployment(url, Path(tempfile.mkdtemp())) as deploy,
        ):
            follower = f"http://127.0.0.1:{follower_port}/inbox"
            items = await seed(url, follower)
            await deploy.start_web(2)
            deploy.start_workers(2)
            print(
                f"load: {SHOPPERS} shoppers, {PEERS} peers, {SECONDS:.0f} s, "
                "2 web + 2 worker processes on PostgreSQL"
            )
            stop = time.perf_counter() + SECONDS
            target = f"{deploy.origin}/actor"
            hosted = deploy.env["ROSE_CART_SUMUP_API_URL"]
            placed = await asyncio.gather(
                *(
                    shopper(n, deploy.web_ports, items, stop, stats, hosted)
                    for n in range(SHOPPERS)
                ),
                *(
                    peer_loop(p, n, deploy.web_ports, target, stop, stats)
                    for n, p in enumerate(peers)
                ),
            )
            orders_placed = sum(n for n in placed if isinstance(n, int))
            acknowledged = sum(len(p.sent) for p in peers)
            drained_at = time.perf_counter()
            while True:
                found = await counts(url, follower)
                if found["inbox not processed"] == 0 and found["deliveries not done"] == 0:
                    break
                if time.perf_counter() - drained_at > DRAIN_SECONDS:
                    break
                await asyncio.sleep(0.5)
            drain = time.perf_counter() - drained_at
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)

    lost = []
    if found["inbox stored"] != acknowledged:
        lost.append(f"inbox: acknowledged {acknowledged}, stored {found['inbox stored']}")
    if found["inbox not processed"]:
        lost.append(f"inbox: {found['inbox not processed']} not processed")
    if found["orders"] != orders_placed or found["Create activities"] != orders_placed:
        lost.append(
            f"orders: placed {orders_placed}, found {found['orders']}, "
            f"Create {found['Create activities']}"
        )
    if found["orders without items"]:
        lost.append(f"{found['orders without items']} orders without items")
    if found["deliveries"] != orders_placed:
        lost.append(f"follower: {orders_placed} orders, {found['deliveries']} deliveries")
    if found["deliveries not done"]:
        lost.append(f"{found['deliveries not done']} deliveries not done")
    ms = 1000
    for kind, samples in sorted(stats.latencies.items()):
        print(
            f"  {kind:<16} {len(samples):>7} requests {len(samples) / SECONDS:>8.1f}/s  "
            f"p50 {percentile(samples, 0.5) * ms:7.1f} ms  "
            f"p99 {percentile(samples, 0.99) * ms:7.1f} ms"
        )
    print(
        f"  orders placed {orders_placed}, inbox deliveries acknowledged {acknowledged}, "
        f"deliveries to the follower {found['deliveries']}; "
        f"queues drained {drain:.1f} s after the load"
    )
    print(f"  errors: {dict(stats.errors) or 'none'}")
    print(f"  lost work: {'; '.join(lost) or 'none'}")
    return 1 if stats.errors or lost else 0


def main() -> None:
    if not has_postgres():
        print("  skipped: set ROSE_CART_BENCH_POSTGRES_URL (an admin postgresql+asyncpg:// URL)")
        return None
    started = time.perf_counter()
    status = asyncio.run(run())
    print(f"  (took {time.perf_counter() - started:.1f} s)")
    if status:
        raise SystemExit(status)


if __name__ == "__main__":
    main()
