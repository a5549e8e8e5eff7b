"""A page's details come only from the page's own origin, nested pages included.

Found in review: a market's Create(Product) whose nested `page` was the calendar's page,
with a new name, renamed that page on the catalogue, in order snapshots and on the
payment page. Now a peer may reference a page on another origin, never describe it; a
page on a third origin (the co-op's blog) is dereferenced there, by a background job,
not in the inbox worker's transaction. Real peers on loopback; the blog counts its GETs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.responses import JSONResponse

from cart.catalog.models import CatalogItem, CatalogPage
from cart.catalog.page_details import PAGES_CHANNEL
from service.settings import Peer
from tests.inbox.test_protocol_table import entry
from tests.support import loopback
from tests.support.held_pool import CEILING, pool_taken
from tests.support.inbox_peers import Served, deliver_and_process
from tests.support.peers import AS2, RemotePeer


@pytest.fixture
def over_the_network() -> bool:
    return True  # issue 14's findings as a stranger sends them: over real HTTP to uvicorn


VENUE = "The Old School Hall"
SCAM = "Venue closed: pay by bank transfer to 12-34-56"


@pytest.fixture
def extra_peers(calendar: RemotePeer) -> tuple[Peer, ...]:
    return (Peer("calendar", calendar.actor_id),)


def loaf(market: RemotePeer, page: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": market.app.url("/products/1"),
        "type": ["Object", "Product"],
        "name": "Sourdough loaf",
        "attributedTo": market.actor_id,
        "updated": "2026-11-25T09:00:00Z",
        "price": {"type": "MonetaryAmount", "amount": "3.50", "currency": "GBP"},
        "page": page,
    }


async def page_row(served: Served, iri: str) -> CatalogPage | None:
    async with served.db.transaction() as session:
        return await session.get(CatalogPage, iri)


async def test_a_market_cannot_rename_the_calendars_page_through_a_nested_object(
    served: Served, market: RemotePeer, calendar: RemotePeer
) -> None:
    venue = calendar.app.url("/pages/old-school")
    class_ = {**entry(calendar, 1), "page": {"id": venue, "type": "Page", "name": VENUE}}
    await deliver_and_process(served, calendar, calendar.activity("Create", class_))
    assert (await page_row(served, venue)).name == VENUE  # type: ignore[union-attr]

    hijack = loaf(market, {"id": venue, "type": "Page", "name": SCAM, "url": "https://evil/"})
    await deliver_and_process(served, market, market.activity("Create", hijack))

    row = await page_row(served, venue)
    assert row is not None and (row.name, row.url) == (VENUE, None)
    async with loopback.client() as client:
        shop = (await client.get(served.base_url + "/", headers={"Accept": "text/html"})).text
    assert VENUE in shop and SCAM not in shop
    # The market's own product is still taken, referencing the page it named.
    async with served.db.transaction() as session:
        item = await session.get(CatalogItem, hijack["id"])
    assert item is not None and item.page_ap_id == venue


async def a_blog_page_referenced(served: Served, market: RemotePeer, blog: RemotePeer) -> str:
    """The market's loaf names a page on the blog's origin; the page is stored nameless
    and the page-details job woken. Returns the page's IRI."""
    page = blog.app.url("/pages/bakery")
    blog.app.serve(
        "/pages/bakery",
        lambda _r: JSONResponse(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": page,
                "type": "Page",
                "name": "The Bakery",
                "url": blog.app.url("/bakery"),
            },
            media_type=AS2,
        ),
    )
    claim = loaf(market, {"id": page, "type": "Page", "name": SCAM})
    nameless = served.app.state.db.wakeups.event(PAGES_CHANNEL)
    await deliver_and_process(served, market, market.activity("Create", claim))
    # The page-details job is woken for it, not left to its next poll.
    await asyncio.wait_for(nameless.wait(), timeout=10)
    return page


async def test_a_page_on_a_third_origin_is_read_from_its_origin_outside_the_worker(
    served: Served, market: RemotePeer, blog: RemotePeer
) -> None:
    page = await a_blog_page_referenced(served, market, blog)

    row = await page_row(served, page)
    assert row is not None and row.name is None  # the market's word is not taken
    assert blog.app.hits["/pages/bakery"] == 0  # nothing fetched in the worker's transaction

    assert await served.app.state.federation.pages.step() == 1
    row = await page_row(served, page)
    assert row is not None and (row.name, row.url) == ("The Bakery", blog.app.url("/bakery"))
    assert blog.app.hits["/pages/bakery"] == 1
    request = blog.app.requests[-1]
    assert "signature" in request.headers  # a signed GET, as us
    assert await served.app.state.federation.pages.step() == 0  # cached: not fetched again
    assert blog.app.hits["/pages/bakery"] == 1


async def test_a_page_is_named_while_another_request_holds_the_pooled_connection(
    served: Served, market: RemotePeer, blog: RemotePeer
) -> None:
    """The job's read and its write are units of work: neither waits for the app's one
    pooled connection, nor holds it across the GET (issue 18)."""
    page = await a_blog_page_referenced(served, market, blog)

    async with pool_taken(served.app.state.db):
        assert await asyncio.wait_for(served.app.state.federation.pages.step(), CEILING) == 1

    row = await page_row(served, page)
    assert row is not None and row.name == "The Bakery"
