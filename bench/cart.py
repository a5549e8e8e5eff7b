"""bench/cart: add-to-cart and cart-page requests/s and p99 at 32 concurrent shoppers.

Our path is the whole app (`create_app` plus the cart's routes: signed session cookie,
CSRF check, SQLite in WAL, the domain's queries, Jinja) served by uvicorn in its own
process; the baseline is a bare Starlette page in an identical process that renders the
same `cart.html` from constants (a cart of the same shape with the same hand-over choices,
no cookie, no database).
Both are driven over loopback by the lean raw-socket client from bench/_loadgen.py.
Every answer is checked (303 for an add, 200 for a page): a fast error is no figure.

`python -m bench cart`; `python -m bench.cart serve ours|unpaced|bare PORT DATA_DIR` is the
server process itself (`unpaced`: ours without per-client pacing, which this bench
measures past; bench/hostile and bench/catalogue serve `ours`).
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench._loadgen import http_request, run_load, wait_ready
from bench.harness import Figure, free_port, percentile, report, server_env

CONCURRENCY = 32
PAGE_REQUESTS = int(os.environ.get("BENCH_CART_REQUESTS", "5000"))  # a side, all rounds
ROUNDS = int(os.environ.get("BENCH_CART_ROUNDS", "5"))
ROUND_REQUESTS = max(1, PAGE_REQUESTS // ROUNDS)
ADD_REQUESTS = int(os.environ.get("BENCH_CART_ADDS", "2000"))
WARMUP = 200
SECRET = "bench-cart-" + "s" * 40
MARKET = "https://market.example/actor"
CALENDAR = "https://calendar.example/actor"
PAGES = ("https://blog.example/pages/bakery", "https://blog.example/pages/grocer")
VENUE = "https://blog.example/pages/hall"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def catalogue() -> list[Any]:
    """Twelve products on two shops' pages and three events at a venue."""
    from vocab.model import CalendarEntry, MonetaryAmount, Page, Product

    soon = datetime.now(UTC) + timedelta(days=30)
    objects: list[Any] = []
    for number in range(12):
        page = Page(id=PAGES[number % 2], name=("The Bakery", "The Grocer")[number % 2])
        objects.append(
            Product(
                id=f"https://market.example/products/{number}",
                attributed_to=MARKET,
                name=f"Product number {number}",
                price=MonetaryAmount(amount=Decimal("2.50") + number, currency="GBP"),
                page=page,
                available=True,
            )
        )
    for number in range(3):
        objects.append(
            CalendarEntry(
                id=f"https://calendar.example/entries/{number}",
                attributed_to=CALENDAR,
                name=f"Workshop {number}",
                price=MonetaryAmount(amount=Decimal("25.00"), currency="GBP"),
                page=Page(id=VENUE, name="Village Hall"),
                start_time=soon,
                end_time=soon + timedelta(hours=2),
                entry_state="available",
            )
        )
    return objects


def shopper_items(index: int) -> list[str]:
    """Four products from both shops and one event: five lines over three page carts."""
    products = [f"https://market.example/products/{(index + k) % 12}" for k in (0, 1, 2, 3)]
    return [*products, f"https://calendar.example/entries/{index % 3}"]


def bare_app() -> Any:
    """The same template, rendered from a constant cart of the same shape as a shopper's."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from cart.basket.carts import CartOwner
    from cart.basket.totals import LineSnapshot, build_cart_view
    from cart.catalog.fulfilment import parse_default
    from cart.catalog.mirror import ItemView, PageView
    from cart.money import Money
    from cart.orders.handover import offers_on
    from cart.web.templating import build_environment

    now = datetime.now(UTC)
    items, lines = {}, []
    for number, obj in enumerate(o for o in catalogue() if o.id in shopper_items(0)):
        shop = PageView(ap_id=obj.page.id, key=f"k{obj.page.id[-5:]}", name=obj.page.name, url=None)
        price = Money(obj.price.amount, obj.price.currency)
        kind = "entry" if "entries" in obj.id else "product"
        items[obj.id] = ItemView(
            ap_id=obj.id,
            key=f"i{number}",
            kind=kind,
            ap_actor_id=obj.attributed_to,
            name=obj.name,
            summary=None,
            url=None,
            price=price,
            page=shop,
            stock=None,
            start_time=getattr(obj, "start_time", None),
            end_time=None,
            location=None,
            entry_state=None,
            time_zone=None,
            withdrawn=False,
            unavailable_reason=None,
        )
        lines.append(
            LineSnapshot(
                id=number + 1, item_ap_id=obj.id, quantity=2, unit_price=price, added_at=now
            )
        )
    cart = build_cart_view(CartOwner.anonymous("bench"), lines, items)
    # The same hand-over fieldsets as our page shows: pages without a row of their own
    # offer the shop's default (pickup), as the served app's are.
    handover = offers_on(cart.pages, {}, parse_default("pickup"), now)
    template = build_environment().get_template("cart.html")

    class Visit:
        csrf_token = "t" * 43
        account = None
        notices: list[str] = []
        item_count = 10

    async def page(request: Request) -> HTMLResponse:
        body = template.render(
            visit=Visit, title="Your cart", cart=cart, next_path="/cart", handover=handover
        )
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/", page), Route("/cart", page)])


def our_app(port: int, data_dir: Path, *, paced: bool = True) -> Any:
    from cart.web import cart_routes
    from service.app import create_app
    from service.pacing import Pacer
    from service.settings import Settings
    from store.affinity import pin_process

    settings = Settings(
        base_url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        secret_key=SECRET,
        workers=False,
        log_level="WARNING",
        # The SumUp sandbox mounted on our origin, unless this process is pointed at a
        # provider of its own (ROSE_CART_SUMUP_API_URL, _API_KEY, _MERCHANT_CODE, read from
        # the environment as a deployment's are): bench/checkout's remote provider.
        sumup_sandbox="ROSE_CART_SUMUP_API_URL" not in os.environ,
        # bench/hostile's strangers serve their actors and keys on loopback addresses of
        # their own; without this the SSRF guard refuses every key fetch and the heavy
        # JSON-LD and minted-actor attacks never get past the signature (all 401).
        allow_private_addresses=True,
    )
    # Pinned as `rose-cart serve` pins (store/affinity.py), before any thread starts.
    pin_process(settings.cpu_pin, settings.resolved_database_url)
    # `unpaced` (this bench): 32 shoppers adding as fast as they are answered are far over
    # the per-client pace (service/pacing.py), which would make it a figure of refusals.
    # The add path's own cost is the subject here; what pacing does is bench/hostile's.
    app = create_app(settings, pacer=None if paced else Pacer.off())
    if not any(getattr(route, "path", None) == "/cart" for route in app.router.routes):
        app.router.routes.extend(cart_routes())
    return app


def serve(kind: str, port: int, data_dir: str) -> None:
    import logging

    import uvicorn

    logging.getLogger("rose_cart").setLevel(logging.WARNING)
    if kind == "bare":
        app = bare_app()
    else:  # "ours" as deployed, or "unpaced"
        app = our_app(port, Path(data_dir), paced=kind == "ours")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def seed(data_dir: Path) -> None:
    from cart.catalog.mirror import upsert_object
    from store import Database, sqlite_url_for

    db = Database(sqlite_url_for(data_dir))
    try:
        now = datetime.now(UTC)
        async with db.transaction() as session:
            for obj in catalogue():
                await upsert_object(session, obj, sender=obj.attributed_to, version=now, now=now)
    finally:
        await db.dispose()


async def shoppers(base: str) -> list[tuple[str, str]]:
    """32 shoppers, each with a session cookie, its CSRF token and a five-line cart."""
    found = []
    for index in range(CONCURRENCY):
        async with httpx.AsyncClient(base_url=base) as client:
            page = await client.get("/login")
            token = _CSRF.search(page.text)
            assert token, "no CSRF token on /login"
            for item in shopper_items(index):
                added = await client.post(
                    "/cart/lines",
                    data={"csrf_token": token.group(1), "item": item, "quantity": "2"},
                )
                assert added.status_code == 303, added.text[:300]
            found.append((client.cookies["rose_cart_session"], token.group(1)))
    return found


def page_requests(port: int, sessions: list[tuple[str, str]] | None, count: int) -> list[bytes]:
    requests = []
    for n in range(count):
        headers = {"Host": f"127.0.0.1:{port}", "Accept": "text/html"}
        if sessions:
            headers["Cookie"] = f"rose_cart_session={sessions[n % len(sessions)][0]}"
        requests.append(http_request("GET", "/cart", headers))
    return requests


def add_requests(port: int, sessions: list[tuple[str, str]], count: int) -> list[bytes]:
    requests = []
    for n in range(count):
        cookie, token = sessions[n % len(sessions)]
        item = shopper_items(n % len(sessions))[(n // len(sessions)) % 4]
        body = urlencode(
            {"csrf_token": token, "item": item, "quantity": "1", "next": "/cart"}
        ).encode()
        headers = {
            "Host": f"127.0.0.1:{port}",
            "Cookie": f"rose_cart_session={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        requests.append(http_request("POST", "/cart/lines", headers, body))
    return requests


async def load(port: int, requests: list[bytes], expect: int) -> tuple[float, list[float]]:
    result = await run_load("127.0.0.1", port, requests, CONCURRENCY)
    assert set(result.statuses) == {expect}, f"answers: {dict(result.statuses)}"
    return result.rate, result.latencies


def sqlite_floor(data_dir: Path, count: int) -> float:
    """Adds/s of the honest floor: the rows an add touches, through stdlib sqlite3.

    One thread, one connection, WAL and synchronous=FULL as the app runs them, one
    committed transaction per add (an add is acknowledged only once committed): read the
    item's price, find the shopper's line for it, raise its quantity and price. The carts
    and items are the ones the load just used, in the same round-robin order.
    """
    connection = sqlite3.connect(data_dir / "rose-cart.sqlite3", isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        lines: dict[str, list[str]] = {}
        for cart, item in connection.execute(
            "SELECT cart_id, item_ap_id FROM cart_lines WHERE cart_id IS NOT NULL ORDER BY id"
        ):
            lines.setdefault(cart, []).append(item)
        cart_ids = list(lines)
        now = datetime.now(UTC).isoformat()
        started = time.perf_counter()
        for n in range(count):
            cart = cart_ids[n % len(cart_ids)]
            item = lines[cart][(n // len(cart_ids)) % 4]
            connection.execute("BEGIN IMMEDIATE")
            amount, currency = connection.execute(
                "SELECT price_amount, price_currency FROM catalog_items WHERE ap_id = ?", (item,)
            ).fetchone()
            line, quantity = connection.execute(
                "SELECT id, quantity FROM cart_lines WHERE cart_id = ? AND item_ap_id = ?",
                (cart, item),
            ).fetchone()
            connection.execute(
                "UPDATE cart_lines SET quantity = ?, unit_amount = ?, currency = ?, "
                "updated_at = ? WHERE id = ?",
                (min(quantity + 1, 999), amount, currency, now, line),
            )
            connection.execute("COMMIT")
        return count / (time.perf_counter() - started)
    finally:
        connection.close()


def start(
    kind: str, port: int, data_dir: str, settings: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`settings`: ROSE_CART_* variables for the process (none of ours leak into it)."""
    env = server_env()
    env.update(settings or {})
    # Our own interpreter running this very module: nothing untrusted in the command.
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.cart", "serve", kind, str(port), data_dir],
        env=env,
        stderr=None if os.environ.get("BENCH_SERVER_STDERR") else subprocess.DEVNULL,
    )


@asynccontextmanager
async def served(
    kind: str, data_dir: str, *, port: int = 0, settings: dict[str, str] | None = None
) -> AsyncIterator[int]:
    """A serve process of `kind` on `port` (a free one by default), answering; its port.
    Ended on leaving."""
    port = port or free_port()
    server = start(kind, port, data_dir, settings)
    try:
        await wait_ready(f"http://127.0.0.1:{port}/login", server)
        yield port
    finally:
        server.terminate()
        server.wait()


@asynccontextmanager
async def shop_served(kind: str = "ours") -> AsyncIterator[tuple[str, int]]:
    """A shop with `seed`'s catalogue, served by a process of `kind` over a temporary
    folder: its origin and the process's id. Ended, and the folder removed, on leaving."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start(kind, port, tmp)
        try:
            await wait_ready(f"http://127.0.0.1:{port}/login", server)
            await seed(Path(tmp))
            yield f"http://127.0.0.1:{port}", server.pid
        finally:
            server.terminate()
            server.wait()


def _cpu_seconds(pid: int) -> float:
    """The process's CPU time so far, every thread's (utime + stime from /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _round(
    port: int, pid: int, sessions: list[tuple[str, str]] | None
) -> tuple[float, float, list[float]]:
    """One round of GET /cart on one server: req/s, its CPU µs a request, latencies."""
    before = _cpu_seconds(pid)
    rate, latencies = await load(port, page_requests(port, sessions, ROUND_REQUESTS), 200)
    return rate, (_cpu_seconds(pid) - before) / ROUND_REQUESTS * 1e6, latencies


async def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bare_port, port = free_port(), free_port()
        bare, ours = start("bare", bare_port, tmp), start("unpaced", port, tmp)
        try:
            await wait_ready(f"http://127.0.0.1:{bare_port}/", bare)
            await wait_ready(f"http://127.0.0.1:{port}/login", ours)
            await seed(Path(tmp))
            sessions = await shoppers(f"http://127.0.0.1:{port}")
            await load(bare_port, page_requests(bare_port, None, WARMUP), 200)
            await load(port, page_requests(port, sessions, WARMUP), 200)
            # Both servers are up at once and loaded in turn, round by round: a round of
            # each sees the same minutes of a shared machine's load (docs/design.md).
            rounds: list[tuple[tuple[float, float, list[float]], ...]] = []
            for _ in range(ROUNDS):
                rounds.append(
                    (
                        await _round(bare_port, bare.pid, None),
                        await _round(port, ours.pid, sessions),
                    )
                )
            add_rate, add_lat = await load(port, add_requests(port, sessions, ADD_REQUESTS), 303)
        finally:
            for server in (bare, ours):
                server.terminate()
                server.wait()
        floor_rate = sqlite_floor(Path(tmp), ADD_REQUESTS)

    ms = 1000
    bare_lat = [t for (b, _) in rounds for t in b[2]]
    page_lat = [t for (_, o) in rounds for t in o[2]]
    bare_rate = statistics.median(b[0] for b, _ in rounds)
    page_rate = statistics.median(o[0] for _, o in rounds)
    rate_ratios = sorted(o[0] / b[0] for b, o in rounds)
    bare_cpu = statistics.median(b[1] for b, _ in rounds)
    page_cpu = statistics.median(o[1] for _, o in rounds)
    bare_p99 = percentile(bare_lat, 0.99) * ms
    report(
        f"cart: {CONCURRENCY} concurrent shoppers (5-line carts over 3 pages), SQLite, "
        "one server process; baseline: bare Starlette rendering the same cart.html from constants",
        [
            Figure(
                "cart page GET /cart",
                statistics.median(rate_ratios),
                1.0,
                "x bare",
                note=f"median of {ROUNDS} interleaved rounds' ratios",
            ),
            Figure("cart page GET /cart, medians", page_rate, bare_rate, "req/s"),
            Figure(
                "cart page CPU a request (server, all threads)",
                page_cpu,
                bare_cpu,
                "µs",
                higher_is_better=False,
            ),
            Figure("add to cart POST /cart/lines (303)", add_rate, bare_rate, "req/s"),
            Figure(
                "add to cart vs floor (stdlib sqlite3, 1 thread)",
                add_rate,
                floor_rate,
                "req/s",
                note="floor: the same rows, synchronous=FULL, WAL",
            ),
            Figure(
                "cart page p99",
                percentile(page_lat, 0.99) * ms,
                bare_p99,
                "ms",
                higher_is_better=False,
            ),
            Figure(
                "add to cart p99",
                percentile(add_lat, 0.99) * ms,
                bare_p99,
                "ms",
                higher_is_better=False,
            ),
        ],
        [
            "GET /cart ratio in each round: " + ", ".join(f"{r:.2f}" for r in rate_ratios),
            f"bare page: p50 {percentile(bare_lat, 0.5) * ms:.2f} ms  p99 {bare_p99:.2f} ms",
            f"ours page: p50 {percentile(page_lat, 0.5) * ms:.2f} ms; "
            f"add: p50 {percentile(add_lat, 0.5) * ms:.2f} ms",
        ],
    )


def main() -> None:
    started = time.perf_counter()
    asyncio.run(run())
    print(f"  (took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
