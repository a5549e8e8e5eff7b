"""No handler holds the database connection across a provider call or a key fetch (issue 14).

A page handler that awaits either inside `visit.session`'s transaction gets
`HeldAcrossWork` at once (store/held.py), whether or not anything else wants the
connection meanwhile, and whichever code calls the provider: its HTTP client checks too
(service/payments.py). The same calls between units are served.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cart.web.visit import Page, Visit, page
from store import HeldAcrossWork
from tests.support.shop import LiveShop, live_shop

HELD = "while holding a database connection"


@pytest.fixture
async def shop(tmp_path: Path, database_url: str) -> AsyncIterator[LiveShop]:
    async with live_shop(tmp_path, database_url) as running:
        yield running


def _mount(shop: LiveShop, path: str, work: Callable[[Visit], Awaitable[object]]) -> None:
    """A shopper page whose handler does `work` inside the page's unit of work."""

    async def careless(visit: Visit) -> Response | Page:
        await work(visit)
        return PlainTextResponse("done")

    shop.app.router.routes.insert(0, Route(path, page(careless)))


def _in_process(shop: LiveShop) -> httpx.AsyncClient:
    """A client that hands the app's own exception back instead of a 500 page."""
    transport = httpx.ASGITransport(app=shop.app, raise_app_exceptions=True)
    return httpx.AsyncClient(transport=transport, base_url=shop.origin)


async def _ask_the_provider(visit: Visit) -> None:
    await visit.request.app.state.payment_provider.find_by_reference("RA-1")


async def test_a_provider_call_inside_the_page_transaction_fails_at_once(
    shop: LiveShop,
) -> None:
    _mount(shop, "/careless/provider", _ask_the_provider)
    async with _in_process(shop) as client:
        with pytest.raises(HeldAcrossWork, match=f"GET {shop.origin}/sumup-sandbox/.* {HELD}"):
            await client.get("/careless/provider")


async def test_a_key_fetch_inside_the_page_transaction_fails_at_once(shop: LiveShop) -> None:
    async def fetch_a_key(visit: Visit) -> None:
        await visit.request.app.state.federation.fetcher.fetch(f"{shop.origin}/actor")

    _mount(shop, "/careless/key", fetch_a_key)
    async with _in_process(shop) as client:
        with pytest.raises(HeldAcrossWork, match=f"GET {shop.origin}/actor {HELD}"):
            await client.get("/careless/key")


async def test_the_provider_answers_between_units(shop: LiveShop) -> None:
    assert await shop.app.state.payment_provider.find_by_reference("RA-1") is None
