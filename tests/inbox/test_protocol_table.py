"""docs/protocol.md's inbox table, row by row, through real signed HTTP from real peers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from cart.catalog.mirror import get_item
from outbox.models import Follower, OutboxActivity
from service.settings import Peer
from tests.support.inbox_peers import Served, deliver_and_process
from tests.support.peers import RemotePeer
from vocab.contexts import outgoing_context


@pytest.fixture
def extra_peers(calendar: RemotePeer, coop: RemotePeer) -> tuple[Peer, ...]:
    return (Peer("calendar", calendar.actor_id), Peer("coop", coop.actor_id))


def product(peer: RemotePeer, number: int, price: str, updated: str) -> dict[str, Any]:
    return {
        "id": peer.app.url(f"/products/{number}"),
        "type": ["Object", "Product"],
        "name": "Sourdough loaf",
        "attributedTo": peer.actor_id,
        "updated": updated,
        "price": {"type": "MonetaryAmount", "amount": price, "currency": "GBP"},
        "page": {"id": peer.app.url("/pages/bakery"), "type": "Page", "name": "The Bakery"},
    }


def entry(peer: RemotePeer, number: int) -> dict[str, Any]:
    return {
        "id": peer.app.url(f"/entries/{number}"),
        "type": ["Event", "CalendarEntry"],
        "name": "Bread class",
        "attributedTo": peer.actor_id,
        "startTime": "2027-01-09T10:00:00Z",
        "price": {"type": "MonetaryAmount", "amount": "25.00", "currency": "GBP"},
        "entryState": "available",
        "updated": "2026-11-24T09:00:00Z",
    }


async def follower_state(served: Served, actor: str) -> str | None:
    async with served.db.transaction() as session:
        row = await session.get(Follower, actor)
        return row.state if row else None


async def sent_types(served: Served) -> list[str]:
    async with served.db.transaction() as session:
        return list((await session.execute(select(OutboxActivity.activity_type))).scalars())


async def test_a_follow_from_a_coop_peer_is_accepted_at_once(
    served: Served, coop: RemotePeer
) -> None:
    await deliver_and_process(served, coop, coop.activity("Follow", f"{served.base_url}/actor"))
    assert await follower_state(served, coop.actor_id) == "accepted"
    assert await sent_types(served) == ["Accept"]


async def test_a_follow_from_anyone_else_waits_for_the_operator(
    served: Served, stranger: RemotePeer
) -> None:
    await deliver_and_process(
        served, stranger, stranger.activity("Follow", f"{served.base_url}/actor")
    )
    assert await follower_state(served, stranger.actor_id) == "pending"
    assert await sent_types(served) == []


async def test_an_undo_of_a_follow_removes_the_follower(served: Served, coop: RemotePeer) -> None:
    follow = coop.activity("Follow", f"{served.base_url}/actor")
    await deliver_and_process(served, coop, follow)
    await deliver_and_process(served, coop, coop.activity("Undo", follow))
    assert await follower_state(served, coop.actor_id) in (None, "removed")


async def test_products_from_the_market_are_mirrored_and_an_older_update_is_ignored(
    served: Served, market: RemotePeer
) -> None:
    now = datetime.now(UTC)
    created = product(market, 1, "3.50", "2026-11-24T09:00:00Z")
    await deliver_and_process(served, market, market.activity("Create", created))
    newer = product(market, 1, "3.80", "2026-11-24T10:00:00Z")
    await deliver_and_process(served, market, market.activity("Update", newer))
    older = product(market, 1, "2.00", "2026-11-24T08:00:00Z")
    await deliver_and_process(served, market, market.activity("Update", older))
    async with served.db.transaction() as session:
        item = await get_item(session, created["id"], now)
    assert item is not None and str(item.price.amount) == "3.80"
    await deliver_and_process(served, market, market.activity("Delete", created["id"]))
    async with served.db.transaction() as session:
        item = await get_item(session, created["id"], now)
    assert item is None or item.withdrawn


async def test_calendar_entries_come_only_from_the_calendar_peer(
    served: Served, calendar: RemotePeer, market: RemotePeer
) -> None:
    await deliver_and_process(served, calendar, calendar.activity("Create", entry(calendar, 9)))
    async with served.db.transaction() as session:
        item = await get_item(session, calendar.app.url("/entries/9"), datetime.now(UTC))
    assert item is not None and item.is_entry
    refused = await market.deliver(
        served.inbox,
        {**market.activity("Create", entry(market, 9)), "@context": outgoing_context()},
    )
    assert refused.status_code == 403
