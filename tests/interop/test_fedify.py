"""A live Fedify server follows the cart, gets an order, unfollows, and gets no more.

Fedify (2.3.6, on Node) is third-party ActivityPub software: it fetches our actor,
verifies our signatures, and signs its own deliveries its own way. Its Undo embeds the
Follow it undoes without the Follow's id, the shape that used to leave it following for
ever. Everything crosses real sockets on 127.0.0.1; every wait is for a condition.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from cart.basket.carts import CartOwner
from cart.basket.lines import add_line
from cart.catalog.models import key_for
from cart.orders.checkout import checkout_token_for, place_order
from outbox.models import Follower, OutboxActivity, OutboxDelivery
from outbox.states import FollowerState
from service.app import create_app
from service.settings import Peer, Settings
from store import Database, utcnow
from tests.conftest import TEST_SECRET
from tests.interop.fedify import Fedify, running_fedify
from tests.support.factories import BAKERY, offer, product
from tests.support.loopback import free_socket, serving
from tests.support.peers import RemotePeer, remote_peer

pytestmark = pytest.mark.slow
WAIT_SECONDS = 60.0


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Poll `check` until it returns something truthy; fail saying `what` never happened."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT_SECONDS:.0f} s")
        await asyncio.sleep(0.1)


@pytest.fixture
async def fedify() -> AsyncIterator[Fedify]:
    async with running_fedify() as server:
        yield server


@pytest.fixture
async def market() -> AsyncIterator[RemotePeer]:
    async with remote_peer("market") as peer:
        peer.accept_deliveries()
        yield peer


@pytest.fixture
async def cart(
    tmp_path: Path, fedify: Fedify, market: RemotePeer
) -> AsyncIterator[tuple[Starlette, Database]]:
    sock = free_socket()
    settings = Settings(
        base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cart.db'}",
        secret_key=TEST_SECRET,
        workers=True,  # the inbox and delivery workers run as in production
        allow_private_addresses=True,
        # Fedify's actor is a co-op instance: its Follow is accepted at once.
        peers=(Peer("market", market.actor_id), Peer("coop", fedify.actor_id)),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), serving(app, sock, lifespan="off"):
        yield app, app.state.db


async def buy(app: Starlette, db: Database, shopper: str, item: str) -> str:
    """A shopper checks out one item: the cart publishes Create(Order). Returns the order IRI."""
    owner, page, now = CartOwner.anonymous(shopper), key_for(BAKERY.id), utcnow()
    async with db.transaction() as session:
        await add_line(session, owner, item, 1, now=now)
    async with db.transaction() as session:
        token = await checkout_token_for(session, owner, page, now=now)
        placed = await session.run_sync(place_order, owner, page, token, app.state.actor, now=now)
    return placed.order.ap_id


async def follower_state(db: Database, actor_id: str) -> str | None:
    async with db.sessions() as session:
        row = await session.get(Follower, actor_id)
        return row.state if row is not None else None


async def delivered_to(db: Database, order: str) -> set[str | None]:
    """The inboxes the Create of `order` was queued for."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(OutboxDelivery.inbox)
            .join(OutboxActivity, OutboxActivity.id == OutboxDelivery.activity_id)
            .where(OutboxActivity.body.contains(order))
        )
        return set(rows.scalars())


async def test_fedify_follows_gets_an_order_unfollows_and_gets_no_more(
    cart: tuple[Starlette, Database], fedify: Fedify, market: RemotePeer
) -> None:
    app, db = cart
    cart_actor = app.state.actor.id
    async with db.transaction() as session:
        loaf = await offer(session, product(42, owner=market.actor_id), at=utcnow())
        rye = await offer(session, product(43, name="Rye", owner=market.actor_id), at=utcnow())

    await fedify.follow(cart_actor)

    async def accepted() -> bool:
        return any(a["type"] == "Accept" for a in await fedify.received())

    await eventually(accepted, "Fedify receiving our Accept of its Follow")
    assert await follower_state(db, fedify.actor_id) == FollowerState.ACCEPTED

    first = await buy(app, db, "shopper-a", loaf)

    async def got(order: str) -> bool:
        return any(a["type"] == "Create" and a["object"] == order for a in await fedify.received())

    await eventually(lambda: got(first), "Fedify receiving the first order")

    await fedify.unfollow(cart_actor)

    async def removed() -> bool:
        return await follower_state(db, fedify.actor_id) == FollowerState.REMOVED

    await eventually(removed, "the cart removing Fedify from its followers")

    second = await buy(app, db, "shopper-b", rye)

    def market_got(order: str) -> bool:
        return any(
            isinstance(a.get("object"), dict) and a["object"].get("id") == order
            for a in market.received
        )

    async def reached_market() -> bool:
        return market_got(second)

    await eventually(reached_market, "the market receiving the second order")
    inboxes = await delivered_to(db, second)
    assert fedify.inbox not in inboxes and fedify.shared_inbox not in inboxes
    assert not await got(second)
    assert await got(first)  # what it had before the Undo is still what it had
