"""Per-client pacing in front of every path a stranger can drive (issue 14), over HTTP.

A client over a rule's rate is answered 429 with Retry-After, held back first, and
nothing happens behind it (past an address's registrations, no account is made; past its
logins, no argon2 and no quota row); after
the test clock moves on it is served again; another address is not affected; catalogue
pages are never paced; the held refusals and the key table are bounded; /metrics counts
the refusals. The pacer's clock is a test `Clock` and its hold is `Holds` below
(recorded, and released by the test), so nothing waits for real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from cart.identity.accounts import Account, Passwords
from cart.identity.registrations import PendingRegistration
from cart.orders.models import ShopOrder
from cart.web.config import configure_web
from cart.web.quotas import CHECKOUT_ADDRESS, LOGIN_ADDRESS
from service.pacing import (
    CART,
    CHECKOUT,
    LOGIN,
    MAX_HELD_PER_CLIENT,
    MAX_HOLD,
    PASSWORD,
    REGISTER,
    RETURN,
    WEBHOOK,
    Pacer,
    Rule,
    client_key,
)
from store.throttle import Quota, ThrottleHit
from tests.cart.checkout_support import BAKERY_KEY
from tests.cart.web_support import (
    CHEAP_PASSWORDS,
    csrf_token,
    login,
    seed,
    submit_registration,
)
from tests.support.clock import Clock
from tests.support.factories import product
from tests.support.loopback import wait_until
from tests.support.shop import LiveShop, fill_page_cart, live_shop
from tests.support.state import snapshot

JSON = {"Accept": "application/json"}


@dataclass
class Holds:
    """The pacer's hold: records each wait; answers at once unless the test closed the gate."""

    asked: list[float] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        if self.gate is not None:
            await self.gate.wait()


@dataclass
class Paced:
    shop: LiveShop
    clock: Clock
    holds: Holds
    pacer: Pacer
    loaf: str

    def client(self, address: str = "127.0.0.1", **options: object) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address, retries=0)
        return self.shop.client(transport=transport, **options)  # type: ignore[arg-type]

    def after(self, rule: Rule) -> None:
        self.clock.advance(timedelta(seconds=rule.every))


@pytest.fixture
async def paced(tmp_path: Path, database_url: str) -> AsyncIterator[Paced]:
    clock, holds = Clock(), Holds()
    pacer = Pacer(monotonic=clock.monotonic, hold=holds, max_keys=50)
    async with live_shop(tmp_path, database_url, pacer=pacer) as shop:
        (loaf,) = await seed(shop.app, product(42))
        yield Paced(shop, clock, holds, pacer, loaf)


async def orders(paced: Paced) -> int:
    async with paced.shop.app.state.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(ShopOrder)) or 0)


def assert_paced(answer: httpx.Response, rule: Rule) -> None:
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["paced"] == rule.name
    assert answer.json()["retry_after"] == int(answer.headers["retry-after"])


async def test_adding_to_the_cart_over_the_rate_is_refused_and_changes_nothing(
    paced: Paced,
) -> None:
    db = paced.shop.app.state.db
    async with paced.client() as shopper, paced.client("127.0.0.3") as neighbour:
        token = csrf_token((await shopper.get("/")).text)
        form = {"csrf_token": token, "item": paced.loaf, "quantity": "1"}
        for _ in range(CART.burst):
            assert (await shopper.post("/cart/lines", data=form)).status_code == 303
        before = await snapshot(db)

        refused = await shopper.post("/cart/lines", data=form, headers=JSON)
        assert_paced(refused, CART)
        assert refused.headers["retry-after"] == str(int(CART.every))
        assert paced.holds.asked == [min(CART.every, MAX_HOLD)]  # held back, then answered
        browser = await shopper.post("/cart/lines", data=form, headers={"Accept": "text/html"})
        assert browser.status_code == 429 and "retry-after" in browser.headers
        assert browser.headers["content-type"].startswith("text/html")
        assert "Too many attempts" in browser.text
        seconds = int(browser.headers["retry-after"])
        assert f"try again in {seconds} second" in browser.text  # how long, in words
        assert await snapshot(db) == before

        # Another address is not affected by this one's pace.
        token_there = csrf_token((await neighbour.get("/")).text)
        there = {"csrf_token": token_there, "item": paced.loaf, "quantity": "1"}
        assert (await neighbour.post("/cart/lines", data=there)).status_code == 303

        paced.after(CART)
        assert (await shopper.post("/cart/lines", data=form)).status_code == 303
        assert await snapshot(db) != before


async def test_a_paced_checkout_places_no_order_until_its_time_comes(paced: Paced) -> None:
    async with paced.client() as shopper:
        token = await fill_page_cart(shopper, paced.loaf, BAKERY_KEY)
        checkout = f"/cart/page/{BAKERY_KEY}/checkout"
        for _ in range(CHECKOUT.burst):  # forged forms: refused by the app, still counted
            assert (await shopper.post(checkout, data={"csrf_token": "forged"})).status_code == 403
        provider = len(paced.shop.app.state.payments.sandbox.state.sandbox.ledger)

        refused = await shopper.post(checkout, data={"csrf_token": token}, headers=JSON)
        assert_paced(refused, CHECKOUT)
        assert await orders(paced) == 0
        assert len(paced.shop.app.state.payments.sandbox.state.sandbox.ledger) == provider

        paced.after(CHECKOUT)
        placed = await shopper.post(checkout, data={"csrf_token": token})
        assert placed.status_code == 303, placed.text
        assert await orders(paced) == 1


# Every paced path, driven by a stranger with forged or empty requests: the app answers
# them (no 429) until the rule's burst is spent, then the pacer does.
PATHS = [
    ("POST", "/login", LOGIN),
    ("POST", "/register", REGISTER),
    ("POST", "/password/forgot", PASSWORD),
    ("POST", "/password/reset/made-up-token", PASSWORD),
    ("POST", "/register/finish/made-up-token", PASSWORD),
    ("POST", "/cart/lines", CART),
    ("POST", "/cart/lines/7/quantity", CART),
    ("POST", "/cart/lines/7/accept-price", CART),
    ("POST", "/cart/lines/7/remove", CART),
    ("POST", f"/cart/page/{BAKERY_KEY}/checkout", CHECKOUT),
    ("POST", "/orders/RA-0000-0000/pay", CHECKOUT),
    ("GET", "/checkout/return?order=RA-0000-0000", RETURN),
    ("POST", "/webhooks/sumup", WEBHOOK),
]


@pytest.mark.parametrize(("method", "path", "rule"), PATHS, ids=[p for _, p, _ in PATHS])
async def test_each_path_a_stranger_drives_is_paced(
    paced: Paced, method: str, path: str, rule: Rule
) -> None:
    async with paced.client(headers=JSON) as stranger:
        for _ in range(rule.burst):
            answer = await stranger.request(method, path, data={"csrf_token": "forged"})
            assert answer.status_code != 429, answer.text
        assert_paced(await stranger.request(method, path, data={"csrf_token": "forged"}), rule)
    assert paced.pacer.refused[rule.name] == 1


async def links(paced: Paced) -> int:
    """Registration links mailed (each a pending registration; no account before it is used)."""
    async with paced.shop.app.state.db.transaction() as session:
        found = await session.scalar(select(func.count()).select_from(PendingRegistration))
        assert not await session.scalar(select(func.count()).select_from(Account))
        return int(found or 0)


async def test_an_address_registers_a_households_accounts_then_waits_with_none_made(
    paced: Paced,
) -> None:
    configure_web(paced.shop.app.state, passwords=Passwords(CHEAP_PASSWORDS))
    async with paced.client(headers=JSON) as household, paced.client("127.0.0.3") as next_door:
        for n in range(REGISTER.burst):
            made = await submit_registration(household, f"member-{n}@example.org")
            assert made.status_code == 303, made.text
        assert await links(paced) == REGISTER.burst

        refused = await submit_registration(household, "one-more@example.org")
        assert_paced(refused, REGISTER)
        assert refused.headers["retry-after"] == str(int(REGISTER.every))
        assert await links(paced) == REGISTER.burst  # no row, no mail

        # The budget is the address's: next door registers as usual.
        assert (await submit_registration(next_door, "next-door@example.org")).status_code == 303
        paced.after(REGISTER)
        assert (await submit_registration(household, "one-more@example.org")).status_code == 303
        assert await links(paced) == REGISTER.burst + 2


async def quota_rows(paced: Paced) -> int:
    async with paced.shop.app.state.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(ThrottleHit)) or 0)


async def test_an_address_past_its_logins_is_paced_with_no_argon2_and_no_quota_row(
    paced: Paced, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwords = Passwords(CHEAP_PASSWORDS)
    configure_web(paced.shop.app.state, passwords=passwords)
    runs: list[str] = []
    verify = passwords.verify

    def counted(stored: str | None, given: str) -> bool:
        runs.append(given)
        return verify(stored, given)

    monkeypatch.setattr(passwords, "verify", counted)
    async with paced.client(headers=JSON) as household, paced.client("127.0.0.3") as next_door:
        # A household's members, one wrong password each: every one is checked and counted.
        for n in range(LOGIN.burst):
            wrong = await login(household, f"member-{n}@example.org", "not the password")
            assert wrong.status_code == 400, wrong.text
        assert len(runs) == LOGIN.burst
        rows, before = await quota_rows(paced), await snapshot(paced.shop.app.state.db)

        refused = await login(household, "one-more@example.org", "not the password")
        assert_paced(refused, LOGIN)
        assert refused.headers["retry-after"] == str(int(LOGIN.every))
        assert len(runs) == LOGIN.burst  # no argon2
        assert await quota_rows(paced) == rows  # no quota row
        assert await snapshot(paced.shop.app.state.db) == before

        assert (await login(next_door, "next-door@example.org", "wrong")).status_code == 400
        paced.after(LOGIN)
        assert (await login(household, "one-more@example.org", "wrong")).status_code == 400
        assert len(runs) == LOGIN.burst + 2


ADDRESS_QUOTAS = [(LOGIN, LOGIN_ADDRESS), (CHECKOUT, CHECKOUT_ADDRESS)]


@pytest.mark.parametrize(("rule", "quota"), ADDRESS_QUOTAS, ids=["login", "checkout"])
def test_an_address_is_paced_before_its_database_quota_would_refuse(
    rule: Rule, quota: Quota
) -> None:
    # The most a rule admits in one of the quota's windows: its burst, then one every
    # `every`. Past the quota each request would cost a form parse and a unit of work
    # before its 429; paced, it costs a timer.
    assert rule.burst + quota.window.total_seconds() // rule.every <= quota.limit


async def test_catalogue_pages_are_never_paced(paced: Paced) -> None:
    async with paced.client() as reader:
        pages = [await reader.get("/") for _ in range(max(r.burst for _, _, r in PATHS) + 5)]
    assert {page.status_code for page in pages} == {200}
    assert paced.holds.asked == []


async def test_held_refusals_per_client_are_bounded_then_the_connection_is_closed(
    paced: Paced,
) -> None:
    paced.holds.gate = asyncio.Event()
    limits = httpx.Limits(max_connections=MAX_HELD_PER_CLIENT + 2)
    async with paced.client(headers=JSON, limits=limits) as stranger:
        for _ in range(LOGIN.burst):
            await stranger.post("/login", data={"csrf_token": "forged"})
        held = [
            asyncio.ensure_future(stranger.post("/login", data={"csrf_token": "forged"}))
            for _ in range(MAX_HELD_PER_CLIENT)
        ]
        await wait_until(lambda: len(paced.holds.asked) == MAX_HELD_PER_CLIENT)
        assert paced.pacer.held == MAX_HELD_PER_CLIENT

        at_once = await stranger.post("/login", data={"csrf_token": "forged"})
        assert_paced(at_once, LOGIN)
        assert at_once.headers["connection"] == "close"
        assert not any(answer.done() for answer in held)  # still held

        paced.holds.gate.set()
        for answer in await asyncio.gather(*held):
            assert_paced(answer, LOGIN)
            assert "connection" not in answer.headers
    assert paced.pacer.held == 0
    assert len(paced.holds.asked) == MAX_HELD_PER_CLIENT  # the one sent at once was not held


async def test_the_key_table_stays_bounded(paced: Paced) -> None:
    for n in range(paced.pacer.max_keys + 10):
        async with paced.client(f"127.0.1.{n + 1}") as visitor:
            await visitor.post("/login", data={"csrf_token": "forged"})
        assert len(paced.pacer) <= paced.pacer.max_keys
    assert len(paced.pacer) == paced.pacer.max_keys


async def test_metrics_count_paced_refusals_per_rule(paced: Paced) -> None:
    async with paced.client(headers=JSON) as stranger:
        for _ in range(RETURN.burst + 2):
            await stranger.get("/checkout/return")
        metrics = (await stranger.get("/metrics")).text
    assert 'rose_cart_paced_refusals_total{rule="return"} 2' in metrics
    assert 'rose_cart_paced_refusals_total{rule="login"} 0' in metrics


def test_a_client_is_its_ipv4_address_or_its_ipv6_slash_64() -> None:
    # Loopback here is IPv4 only, so the IPv6 grouping is checked on the key itself.
    assert (
        client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("192.0.2.7") != client_key("192.0.2.8")
