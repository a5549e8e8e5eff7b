"""Following a market, end to end over loopback HTTP: Follow out, Accept in, mirror filled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from cart.catalog.backfill_jobs import CatalogBackfill
from cart.catalog.mirror import list_catalog
from outbox.models import Follow
from service.federation import follow_peers
from tests.support.held_pool import CEILING, pool_taken
from tests.support.inbox_peers import Served
from tests.support.peers import RemotePeer
from vocab import builders
from vocab.model import MonetaryAmount, Page, Product


def serve_catalog(market: RemotePeer) -> None:
    market.catalog = market.app.url("/catalog")
    bakery = Page(id=market.app.url("/pages/bakery"), name="The Bakery")
    products = [
        Product(
            id=market.app.url(f"/products/{n}"),
            attributed_to=market.actor_id,
            name=name,
            price=MonetaryAmount(amount=Decimal(amount), currency="GBP"),
            page=bakery,
            updated=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        )
        for n, (name, amount) in enumerate([("Sourdough loaf", "3.50"), ("Rye", "4.20")], start=1)
    ]
    market.app.serve_json(
        "/catalog",
        builders.ordered_collection(
            id=market.catalog, total_items=2, first=market.app.url("/catalog/1")
        ),
    )
    market.app.serve_json(
        "/catalog/1",
        builders.ordered_collection_page(
            id=market.app.url("/catalog/1"), part_of=market.catalog, items=products, next=None
        ),
    )
    market.publish_actor()


async def followed_and_accepted(served: Served, market: RemotePeer) -> None:
    """We follow the market, it accepts, and its catalogue's backfill waits as a job."""
    federation = served.app.state.federation
    serve_catalog(market)
    market.accept_deliveries()

    assert await follow_peers(served.db, served.app.state.actor, served.app.state.settings) == 1
    await federation.delivery_worker.step()
    [follow] = [a for a in market.received if a["type"] == "Follow"]
    assert follow["object"] == market.actor_id

    accept = market.activity("Accept", follow)
    assert (await market.deliver(served.inbox, accept)).status_code == 202
    await federation.inbox_worker.step()
    async with served.db.transaction() as session:
        assert (await session.get(Follow, market.actor_id)).state == "accepted"  # type: ignore[union-attr]
        job = (await session.execute(select(CatalogBackfill))).scalar_one()
        assert job.finished_at is None


async def test_given_a_market_peer_when_it_accepts_our_follow_then_its_catalogue_is_mirrored(
    served: Served, market: RemotePeer
) -> None:
    federation = served.app.state.federation
    await followed_and_accepted(served, market)

    report = await federation.backfills.step()
    assert report is not None and report.complete and report.created == 2
    async with served.db.transaction() as session:
        sections = await list_catalog(session, datetime.now(UTC))
        job = (await session.execute(select(CatalogBackfill))).scalar_one()
    assert job.finished_at is not None
    [bakery] = sections
    assert sorted(item.name for item in bakery.items) == ["Rye", "Sourdough loaf"]
    assert await federation.backfills.step() is None, "a finished backfill does not run again"


async def test_a_backfill_runs_while_another_request_holds_the_pooled_connection(
    served: Served, market: RemotePeer
) -> None:
    """The job's claim, each page's items and its outcome are units of work: none waits
    for the app's one pooled connection, nor holds it across the paged GETs (issue 18)."""
    await followed_and_accepted(served, market)

    async with pool_taken(served.app.state.db):
        report = await asyncio.wait_for(served.app.state.federation.backfills.step(), CEILING)

    assert report is not None and report.complete and report.created == 2
    async with served.db.transaction() as session:
        job = (await session.execute(select(CatalogBackfill))).scalar_one()
    assert job.finished_at is not None and job.lease_token is None


async def test_a_finished_backfill_logs_cleanly_at_info(
    served: Served, market: RemotePeer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    serve_catalog(market)
    async with served.db.transaction() as session:
        from cart.catalog.backfill_jobs import request_backfill
        from store import utcnow

        await session.run_sync(request_backfill, market.actor_id, "market", now=utcnow())
    with caplog.at_level(logging.INFO, logger="rose_cart.cart.catalog.backfill"):
        await served.app.state.federation.backfills.step()
    [record] = [r for r in caplog.records if r.name == "rose_cart.cart.catalog.backfill"]
    assert record.getMessage() == "catalogue backfill done"
    assert record.items_created == 2  # type: ignore[attr-defined]
