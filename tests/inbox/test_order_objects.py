"""An order's IRI dereferences for the actors it involves, by signed GET, and for no one else."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from cart.basket.carts import CartOwner
from cart.basket.lines import add_line
from cart.catalog.models import key_for
from cart.orders.checkout import checkout_token_for, place_order
from tests.support.factories import BAKERY, offer, product
from tests.support.held_pool import CEILING, pool_taken
from tests.support.inbox_peers import Served
from tests.support.loopback import client
from tests.support.peers import RemotePeer

AS2 = "application/activity+json"


async def place_an_order_from(served: Served, market: RemotePeer) -> tuple[str, str]:
    now = datetime.now(UTC) - timedelta(minutes=1)
    owner = CartOwner.anonymous("shopper-1")
    loaf = product(1, owner=market.actor_id)
    async with served.db.transaction() as session:
        await offer(session, loaf, at=now)
        await add_line(session, owner, loaf.id, 2, now=now)
        token = await checkout_token_for(session, owner, key_for(BAKERY.id), now=now)
        placed = await session.run_sync(
            place_order, owner, key_for(BAKERY.id), token, served.app.state.actor, now=now
        )
    return placed.order.ap_id, placed.order.number


async def test_the_market_whose_loaf_was_ordered_reads_the_order_at_its_iri(
    served: Served, market: RemotePeer
) -> None:
    iri, number = await place_an_order_from(served, market)
    async with client(auth=market.auth()) as http:
        answer = await http.get(iri, headers={"Accept": AS2})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(AS2)
    order = answer.json()
    assert order["id"] == iri and order["orderNumber"] == number
    assert order["type"] == ["Object", "Order"]
    assert [item["quantity"] for item in order["items"]] == [2]
    assert order["total"] == {"type": "MonetaryAmount", "amount": "7.00", "currency": "GBP"}


async def test_strangers_and_unsigned_requests_learn_nothing(
    served: Served, market: RemotePeer, stranger: RemotePeer
) -> None:
    iri, _ = await place_an_order_from(served, market)
    async with client() as http:
        unsigned = await http.get(iri, headers={"Accept": AS2})
        missing = await http.get(f"{served.base_url}/orders/nothing", headers={"Accept": AS2})
    assert unsigned.status_code == 401
    async with client(auth=stranger.auth()) as http:
        foreign = await http.get(iri, headers={"Accept": AS2})
        unknown = await http.get(f"{served.base_url}/orders/nothing", headers={"Accept": AS2})
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["detail"] == unknown.json()["detail"]
    assert missing.status_code == 401


async def test_an_order_is_read_while_another_request_holds_the_pooled_connection(
    served: Served, market: RemotePeer
) -> None:
    """The signer's key, the order and who may see it are read in units of work: a peer's
    GET waits for no pooled connection (issue 18)."""
    iri, number = await place_an_order_from(served, market)
    async with pool_taken(served.app.state.db), client(auth=market.auth()) as http:
        answer = await asyncio.wait_for(http.get(iri, headers={"Accept": AS2}), CEILING)
    assert answer.status_code == 200, answer.text
    assert answer.json()["orderNumber"] == number
