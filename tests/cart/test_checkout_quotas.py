"""What one anonymous client can make the shop do at checkout (issue 14), over real HTTP.

100 rapid checkouts from one client used to make 100 orders, 100 deliveries and 100
provider checkouts; every return page and webhook made a provider call. Now orders are
counted per cart and per client address (429 with Retry-After beyond, nothing placed),
and provider calls per order are coalesced and rate-limited. These tests are about that
shared budget in the database, so the shop runs without the per-client pacing in front
of it (service/pacing.py; tests/service/test_pacing.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

import cart.web.provider_calls
from cart.orders.models import ShopOrder
from cart.web.quotas import CHECKOUT_ADDRESS, CHECKOUT_CART
from outbox.models import OutboxDelivery
from payments.provider import Checkout
from store import Database
from store.throttle import Quota
from tests.cart.checkout_support import BAKERY_KEY
from tests.cart.web_support import csrf_token, seed
from tests.outbox.support import add_follower
from tests.support.factories import product
from tests.support.shop import LiveShop, fill_page_cart, live_shop, unpaced
from tests.support.state import count_writes

FOLLOWER = "https://coop.example/actor"


async def count(db: Database, model: type) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def shop(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[LiveShop, str]]:
    async with live_shop(tmp_path, database_url, pacer=unpaced()) as running:
        await add_follower(running.app.state.db, FOLLOWER, "https://coop.example/inbox")
        (loaf,) = await seed(running.app, product(42))
        yield running, loaf


def sandbox_checkouts(shop: LiveShop) -> int:
    return len(shop.app.state.payments.sandbox.state.sandbox.ledger)


async def add_and_check_out(shopper: httpx.AsyncClient, token: str, loaf: str) -> httpx.Response:
    added = await shopper.post(
        "/cart/lines", data={"csrf_token": token, "item": loaf, "quantity": "1"}
    )
    assert added.status_code == 303
    return await shopper.post(f"/cart/page/{BAKERY_KEY}/checkout", data={"csrf_token": token})


async def test_a_hundred_rapid_checkouts_make_at_most_the_quota_of_orders(
    shop: tuple[LiveShop, str],
) -> None:
    running, loaf = shop
    db = running.app.state.db
    statuses = []
    async with running.client(headers={"Accept": "application/json"}) as attacker:
        token = csrf_token((await attacker.get("/", headers={"Accept": "text/html"})).text)
        for _ in range(100):
            statuses.append((await add_and_check_out(attacker, token, loaf)).status_code)
        orders = await count(db, ShopOrder)
        deliveries = await count(db, OutboxDelivery)
        provider = sandbox_checkouts(running)

        refused = await add_and_check_out(attacker, token, loaf)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= CHECKOUT_CART.window.total_seconds()
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 429
        assert refused.json()["quota"] == CHECKOUT_CART.name
        # The refused checkout changed nothing: no order, no delivery, no provider call.
        assert (await count(db, ShopOrder), await count(db, OutboxDelivery)) == (
            orders,
            deliveries,
        )
        assert sandbox_checkouts(running) == provider

    assert statuses.count(303) == CHECKOUT_CART.limit == orders == provider
    assert statuses.count(429) == 100 - CHECKOUT_CART.limit
    assert deliveries == 2 * orders  # Create(Order) to the follower and to the market


async def test_new_cookies_do_not_buy_more_orders_from_one_address(
    shop: tuple[LiveShop, str],
) -> None:
    running, loaf = shop
    placed = 0
    for _ in range(CHECKOUT_ADDRESS.limit + 5):
        async with running.client() as fresh:  # a client that drops its cookies each time
            token = await fill_page_cart(fresh, loaf, BAKERY_KEY)
            answer = await fresh.post(
                f"/cart/page/{BAKERY_KEY}/checkout",
                data={"csrf_token": token},
                headers={"Accept": "text/html"},
            )
            assert answer.status_code in (303, 429)
            if answer.status_code == 429:
                assert "Too many attempts" in answer.text
            placed += answer.status_code == 303
    assert placed == CHECKOUT_ADDRESS.limit == await count(running.app.state.db, ShopOrder)


class CountingProvider:
    """The app's provider, counting the checkout reads the return page and webhook cause."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fetches = 0

    async def fetch_checkout(self, checkout_id: str) -> Checkout:
        self.fetches += 1
        await asyncio.sleep(0)  # let the others arrive while this one is in flight
        return await self.inner.fetch_checkout(checkout_id)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def placed_order(running: LiveShop, loaf: str) -> tuple[httpx.AsyncClient, ShopOrder]:
    shopper = running.client()
    token = await fill_page_cart(shopper, loaf, BAKERY_KEY)
    to_pay = await shopper.post(f"/cart/page/{BAKERY_KEY}/checkout", data={"csrf_token": token})
    assert to_pay.status_code == 303
    async with running.app.state.db.transaction() as session:
        order = (await session.scalars(select(ShopOrder))).one()
    return shopper, order


@pytest.fixture
def counting(shop: tuple[LiveShop, str], monkeypatch: pytest.MonkeyPatch) -> CountingProvider:
    running, _ = shop
    # A window no slow machine can outlast: the test is about coalescing, not the clock.
    wide = Quota("provider-checkout", 1, timedelta(hours=1))
    monkeypatch.setattr(cart.web.provider_calls, "PROVIDER_CHECKOUT", wide)
    provider = CountingProvider(running.app.state.payment_provider)
    running.app.state.payment_provider = provider
    return provider


async def test_fifty_return_page_hits_for_one_checkout_make_one_provider_call(
    shop: tuple[LiveShop, str], counting: CountingProvider
) -> None:
    running, loaf = shop
    shopper, order = await placed_order(running, loaf)
    try:
        pages = await asyncio.gather(
            *(shopper.get("/checkout/return", params={"order": order.number}) for _ in range(50))
        )
    finally:
        await shopper.aclose()
    assert [page.status_code for page in pages] == [200] * 50
    assert all(order.number in page.text for page in pages)
    assert counting.fetches == 1


async def test_a_webhook_flood_for_one_checkout_makes_one_provider_call(
    shop: tuple[LiveShop, str], counting: CountingProvider
) -> None:
    running, loaf = shop
    shopper, order = await placed_order(running, loaf)
    await shopper.aclose()
    body = {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.checkout_id}
    async with running.client() as stranger:
        answers = await asyncio.gather(
            *(stranger.post("/webhooks/sumup", json=body) for _ in range(50))
        )
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {204, 429} and 204 in statuses
    for answer in answers:
        if answer.status_code == 429:
            assert int(answer.headers["retry-after"]) > 0
            assert answer.headers["content-type"] == "application/problem+json"
    assert counting.fetches == 1


async def test_webhooks_refused_once_are_refused_again_without_a_unit_of_work(
    shop: tuple[LiveShop, str], counting: CountingProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, loaf = shop
    shopper, order = await placed_order(running, loaf)
    await shopper.aclose()
    writes = count_writes(running.app.state.db, monkeypatch)
    body = {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.checkout_id}
    async with running.client() as stranger:
        assert (await stranger.post("/webhooks/sumup", json=body)).status_code == 204
        assert (await stranger.post("/webhooks/sumup", json=body)).status_code == 429
        counted_writes = len(writes)
        for _ in range(3):
            again = await stranger.post("/webhooks/sumup", json=body)
            assert again.status_code == 429 and int(again.headers["retry-after"]) > 0
    assert len(writes) == counted_writes
    assert counting.fetches == 1
