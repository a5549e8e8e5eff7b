"""Catalogue deliveries from market and calendar peers, as the inbox worker runs them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from actor.incoming import IncomingActivity
from cart.catalog.handlers import register_catalog_handlers
from cart.catalog.mirror import get_item, list_catalog
from inbox.models import InboxActivity, InboxStatus
from inbox.registry import HandlerRegistry
from inbox.worker import InboxWorker
from store import Database
from tests.support.dispatch import Dispatcher
from tests.support.factories import CALENDAR, MARKET, NOW, entry, product
from vocab import builders
from vocab.model import CalendarEntry, Product
from vocab.parse import parse

LATER = NOW + timedelta(hours=1)
_serial = iter(range(10**6))


def _id(actor: str) -> str:
    return f"{actor.rsplit('/', 1)[0]}/activities/{next(_serial)}"


def create(
    obj: Product | CalendarEntry, *, published: datetime = NOW, verb: str = "create"
) -> dict[str, Any]:
    build = builders.create if verb == "create" else builders.update
    return build(
        actor=obj.attributed_to,
        object=obj,
        to=["https://cart.test/actor"],
        cc=[],
        activity_id=_id(obj.attributed_to),
        published=published,
    )


def update(obj: Product | CalendarEntry, *, published: datetime = LATER) -> dict[str, Any]:
    return create(obj, published=published, verb="update")


def delete(actor: str, object_id: str, *, published: datetime = LATER) -> dict[str, Any]:
    return builders.delete(
        actor=actor,
        object_id=object_id,
        to=["https://cart.test/actor"],
        cc=[],
        activity_id=_id(actor),
        published=published,
    )


def registry() -> Dispatcher:
    handlers = HandlerRegistry()
    register_catalog_handlers(handlers)
    return Dispatcher(handlers, lambda: LATER)


async def deliver(db: Database, document: dict[str, Any], sender: str | None = None) -> None:
    """What the worker does with one stored activity: its one handler, in a transaction."""
    activity = parse(document)
    delivery = IncomingActivity(document["id"], sender or document["actor"], activity, document)
    async with db.transaction() as session:
        await registry().dispatch(session, delivery)


async def test_created_products_and_entries_appear_in_the_catalogue(db: Database) -> None:
    calendar_create = create(entry())
    calendar_create["object"]["location"] = {"type": "Place", "name": "Village Hall, Mill Lane"}
    await deliver(db, create(product()))
    await deliver(db, calendar_create)
    async with db.transaction() as session:
        sections = await list_catalog(session, NOW)
        class_ = await get_item(session, entry().id, NOW)
    assert [[i.name for i in s.items] for s in sections] == [["Sourdough loaf"], ["Bread class"]]
    assert class_ is not None and class_.location == "Village Hall, Mill Lane"
    assert class_.start_time == entry().start_time


async def test_an_update_changes_the_mirror_and_an_older_one_is_ignored(db: Database) -> None:
    await deliver(db, create(product(price="3.50")))
    await deliver(db, update(product(price="3.80"), published=LATER))
    # Delayed in transit: sent before the one above, arriving after it.
    await deliver(db, update(product(price="3.60"), published=NOW + timedelta(minutes=30)))
    async with db.transaction() as session:
        item = await get_item(session, product().id, LATER)
    assert item is not None and item.price.format() == "£3.80"


async def test_the_objects_own_updated_time_orders_changes_before_the_activitys(
    db: Database,
) -> None:
    await deliver(db, update(product(price="3.80", updated=LATER), published=NOW))
    await deliver(db, update(product(price="3.60", updated=NOW), published=LATER))
    async with db.transaction() as session:
        item = await get_item(session, product().id, LATER)
    assert item is not None and item.price.format() == "£3.80"


async def test_a_delete_withdraws_the_item_but_keeps_it(db: Database) -> None:
    await deliver(db, create(product()))
    await deliver(db, delete(MARKET, product().id))
    async with db.transaction() as session:
        item = await get_item(session, product().id, LATER)
        sections = await list_catalog(session, LATER)
    assert item is not None and item.withdrawn and sections == ()


async def test_a_peer_cannot_delete_or_claim_another_peers_item(db: Database) -> None:
    await deliver(db, create(product()))
    # The calendar names the market's product: the inbox's origin check stops this on
    # the wire; the handler refuses it too.
    await deliver(db, delete(CALENDAR, product().id))
    await deliver(
        db, update(replace(product(price="0.01"), attributed_to=CALENDAR)), sender=CALENDAR
    )
    await deliver(db, update(replace(entry(), attributed_to=MARKET)), sender=MARKET)
    async with db.transaction() as session:
        item = await get_item(session, product().id, LATER)
        stolen = await get_item(session, entry().id, LATER)
    assert item is not None and not item.withdrawn and item.price.format() == "£3.50"
    assert stolen is None


async def test_products_are_for_market_peers_and_entries_for_calendar_peers() -> None:
    handlers = registry().registry
    created, updated = parse(create(product())), parse(update(entry()))
    assert handlers.allowed(created, {"market"})
    assert not handlers.allowed(created, {"calendar"})
    assert handlers.allowed(updated, {"calendar"})
    assert not handlers.allowed(updated, {"market", "coop"})


async def test_an_actor_deleting_itself_leaves_the_catalogue_alone(db: Database) -> None:
    await deliver(db, create(product()))
    await deliver(db, delete(MARKET, MARKET))
    async with db.transaction() as session:
        item = await get_item(session, product().id, LATER)
    assert item is not None and not item.withdrawn


async def test_the_inbox_worker_applies_stored_deliveries_in_order(db: Database) -> None:
    documents = [
        create(product(price="3.50")),
        update(product(price="4.00")),
        delete(MARKET, product().id),
    ]
    async with db.transaction() as session:
        for document in documents:
            activity = parse(document)
            session.add(
                InboxActivity(
                    ap_id=document["id"],
                    ap_actor_id=document["actor"],
                    activity_type=document["type"],
                    object_type=None
                    if isinstance(activity.object, str)
                    else type(activity.object).__name__,
                    body=orjson.dumps(document).decode(),
                    status=InboxStatus.PENDING,
                    attempts=0,
                    received_at=NOW,
                    next_attempt_at=NOW,
                )
            )
    worker = InboxWorker(db, registry().registry, parse, clock=lambda: LATER)
    await worker.step()
    async with db.transaction() as session:
        item = await get_item(session, product().id, LATER)
        statuses = (await session.execute(InboxActivity.__table__.select())).all()
    assert {row.status for row in statuses} == {InboxStatus.DONE}
    assert item is not None and item.withdrawn and item.price.format() == "£4.00"
