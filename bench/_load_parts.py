"""The parts of bench/load: the people and peers who drive it, and what it counts after.

- `shopper`: add a line, open the page cart, check out, again and again;
- `browser`: the catalogue and the cart page, as someone looking around;
- `peer_loop`: a remote actor delivering signed Follows to our inbox;
- `seed` fills the catalogue and adds a co-op follower; `counts` reads what was stored.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actor.signatures import Message, SigningKey, sign_request
from bench.harness import free_port
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
    """Latencies of the answers expected, by kind; every other answer is an error, and
    counts in no rate (a paced 429 comes back fast, or held back: neither is work done)."""

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

    def delivery(self, target: str) -> tuple[str, dict[str, str], bytes]:
        """A signed Follow of `target` (our actor), for our public origin: a web process
        behind the origin gets it as a load balancer would pass it on, Host unchanged."""
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
        origin = target.rsplit("/actor", 1)[0]
        url = f"{origin}/actor/inbox"
        headers = {"Host": origin.split("://", 1)[1], "Content-Type": "application/activity+json"}
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


def person(number: int, order: int) -> str:
    """A loopback address of its own for each order: many people buying once each, as a
    shop sees them, not one address placing hundreds (its checkout quota would say no)."""
    return f"127.{1 + number % 250}.{order // 250 % 250}.{1 + order % 250}"


async def shopper(
    number: int, ports: list[int], items: list[str], stop: float, stats: Stats, hosted: str
) -> int:
    """Loop add line -> page cart -> checkout until `stop`, each order by someone new;
    returns orders placed. A placed order is a 303 to the SumUp (sandbox) hosted page."""
    port = ports[number % len(ports)]
    placed = tried = 0
    while time.perf_counter() < stop:
        tried += 1
        transport = httpx.AsyncHTTPTransport(local_address=person(number, tried))
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, transport=transport
        ) as web:
            try:
                placed += await buy_once(web, items[(number + tried) % len(items)], stats, hosted)
            except httpx.HTTPError as error:
                stats.errors[type(error).__name__] += 1
    return placed


async def buy_once(web: httpx.AsyncClient, item: str, stats: Stats, hosted: str) -> int:
    token = CSRF.search((await web.get("/")).text).group(1)  # type: ignore[union-attr]
    started = time.perf_counter()
    added = await web.post("/cart/lines", data={"csrf_token": token, "item": item, "quantity": "1"})
    if added.status_code != 303:
        stats.errors[f"add line {added.status_code}"] += 1
        return 0
    stats.timed("add line", started)
    page = await web.get(f"/cart/page/{key_for(PAGE.id)}")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    started = time.perf_counter()
    checkout = await web.post(f"/cart/page/{key_for(PAGE.id)}/checkout", data={"csrf_token": token})
    if checkout.status_code != 303 or not checkout.headers["location"].startswith(hosted):
        stats.errors[f"checkout {checkout.status_code}"] += 1
        return 0
    stats.timed("checkout", started)
    return 1


async def browser(number: int, ports: list[int], stop: float, stats: Stats) -> None:
    """Someone looking around while others buy: the catalogue, then their cart, again."""
    port = ports[number % len(ports)]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as web:
        while time.perf_counter() < stop:
            for path in ("/", "/cart"):
                try:
                    started = time.perf_counter()
                    answer = await web.get(path)
                    if answer.status_code != 200:
                        stats.errors[f"page {answer.status_code}"] += 1
                    else:
                        stats.timed("page view", started)
                except httpx.HTTPError as error:
                    stats.errors[type(error).__name__] += 1


def peer_address(number: int) -> str:
    """Where peer `number` sends from: a loopback address of its own (127.254.x.y, apart
    from the shoppers' `person` addresses), as each co-op instance is a host of its own.
    From one address the peers would share one pacing budget (service/pacing.py), which
    no real co-op's instances do."""
    return f"127.254.{number // 250 % 250}.{1 + number % 250}"


async def peer_loop(
    peer: Peer, number: int, ports: list[int], target: str, stop: float, stats: Stats
) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=peer_address(number))
    async with httpx.AsyncClient(timeout=30, transport=transport) as client:
        turn = number
        while time.perf_counter() < stop:
            port = ports[turn % len(ports)]
            turn += 1
            activity_id, headers, body = peer.delivery(target)
            try:
                started = time.perf_counter()
                answer = await client.post(
                    f"http://127.0.0.1:{port}/actor/inbox", headers=headers, content=body
                )
                if answer.status_code == 202:
                    stats.timed("inbox delivery", started)
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
