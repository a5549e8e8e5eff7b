"""Typed dispatch: each activity reaches exactly one handler, the one for what it is about.

The registry is filled by the cart's own composition (service.federation.register_handlers)
through a registrar that records which handler runs. The world holds, at once, a follow
of ours to each peer, an order naming the calendar's class, and the market's loaf in
the mirror: so an Accept or Reject could be about a follow or an
order, and a Delete about an actor or a product, and the inbox must tell which.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from actor.fetch import Fetcher
from actor.incoming import Handler, IncomingActivity
from actor.remote import RemoteActors
from cart.catalog.mirror import get_item
from cart.orders.orders import get_order
from demo.calendar import calendar_node
from demo.market import market_node
from demo.node import NodeConfig
from inbox.registry import HandlerRegistry
from outbox.followers import send_follow
from outbox.models import Follow
from service.federation import register_handlers
from store import Database
from tests.cart.checkout_support import SHOPPER, VENUE_KEY, cart_actor, checkout, fill, stock_shop
from tests.support.dispatch import Dispatcher
from tests.support.factories import CALENDAR, MARKET, NOW, product
from vocab import model

ROLES = {MARKET: {"market"}, CALENDAR: {"calendar"}}


class Recording:
    """A registrar that hands every registration to the real registry, noting what runs."""

    def __init__(self) -> None:
        self.registry = HandlerRegistry()
        self.ran: list[tuple[str, str]] = []

    def register(
        self,
        activity: type,
        about: type,
        handler: Handler,
        *,
        senders: Collection[str] | None = None,
    ) -> None:
        def noted(session: Session, incoming: IncomingActivity, now: datetime) -> None:
            self.ran.append((activity.__name__, about.__name__))
            handler(session, incoming, now)

        self.registry.register(activity, about, noted, senders=senders)


@dataclass
class World:
    db: Database
    recording: Recording
    order_ap_id: str
    order_id: int
    follows: dict[str, str]  # peer -> the id of our Follow of it

    async def deliver(self, sender: str, activity: object) -> list[tuple[str, str]]:
        self.recording.ran.clear()
        incoming = IncomingActivity(activity.id, sender, activity, {})
        async with self.db.transaction() as session:
            await Dispatcher(self.recording.registry).dispatch(session, incoming)
        return list(self.recording.ran)


@pytest.fixture
async def world(db: Database) -> World:
    recording = Recording()
    register_handlers(
        recording, cart_actor(), RemoteActors(db, Fetcher()), lambda iri: ROLES.get(iri, ())
    )
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["class"], 1))
    placed = (await checkout(db, page_key=VENUE_KEY)).order
    follows = {}
    async with db.transaction() as session:
        for peer in (MARKET, CALENDAR):
            sent = await send_follow(session, cart_actor(), peer)
            assert sent is not None
            follows[peer] = sent.ap_id
    return World(db, recording, placed.ap_id, placed.id, follows)


def _id(sender: str, name: str) -> str:
    return f"{sender.rsplit('/', 1)[0]}/activities/{name}"


async def _follow_state(db: Database, peer: str) -> str:
    async with db.transaction() as session:
        follow = await session.get(Follow, peer)
        assert follow is not None
        return follow.state


async def _order_status(db: Database, order_id: int) -> str:
    async with db.transaction() as session:
        return (await get_order(session, order_id)).status


async def test_an_accept_of_our_follow_runs_the_follow_handler_alone(world: World) -> None:
    accept = model.Accept(id=_id(CALENDAR, "a1"), actor=CALENDAR, object=world.follows[CALENDAR])
    assert await world.deliver(CALENDAR, accept) == [("Accept", "OurFollow")]
    assert await _follow_state(world.db, CALENDAR) == "accepted"
    assert await _order_status(world.db, world.order_id) == "pending"


async def test_an_accept_of_our_order_runs_the_claim_handler_alone(world: World) -> None:
    accept = model.Accept(id=_id(CALENDAR, "a2"), actor=CALENDAR, object=world.order_ap_id)
    assert await world.deliver(CALENDAR, accept) == [("Accept", "AnsweredOrder")]
    assert await _follow_state(world.db, CALENDAR) == "pending"


async def test_a_reject_of_our_order_runs_the_claim_handler_alone(world: World) -> None:
    reject = model.Reject(
        id=_id(CALENDAR, "r1"), actor=CALENDAR, object=world.order_ap_id, summary="Full"
    )
    assert await world.deliver(CALENDAR, reject) == [("Reject", "AnsweredOrder")]
    assert await _order_status(world.db, world.order_id) == "failed"
    assert await _follow_state(world.db, CALENDAR) == "pending"


async def test_a_delete_of_the_sender_itself_runs_the_actor_handler_alone(world: World) -> None:
    delete = model.Delete(id=_id(MARKET, "d1"), actor=MARKET, object=MARKET)
    assert await world.deliver(MARKET, delete) == [("Delete", "TheSender")]
    assert await _follow_state(world.db, MARKET) == "removed"
    async with world.db.transaction() as session:
        loaf = await get_item(session, product().id, NOW)
    assert loaf is not None and not loaf.withdrawn


async def test_a_delete_of_a_product_runs_the_catalogue_handler_alone(world: World) -> None:
    delete = model.Delete(id=_id(MARKET, "d2"), actor=MARKET, object=product().id)
    assert await world.deliver(MARKET, delete) == [("Delete", "MirroredItem")]
    async with world.db.transaction() as session:
        loaf = await get_item(session, product().id, NOW)
    assert loaf is not None and loaf.withdrawn
    assert await _follow_state(world.db, MARKET) == "pending"


@pytest.mark.parametrize(
    "activity",
    [
        model.Accept(id=_id(CALENDAR, "x1"), actor=CALENDAR, object="https://cart.test/orders/0"),
        model.Reject(id=_id(MARKET, "x2"), actor=MARKET, object="https://cart.test/orders/0"),
        model.Delete(id=_id(MARKET, "x3"), actor=MARKET, object="https://market.example/notes/1"),
    ],
)
async def test_an_answer_or_delete_about_nothing_of_ours_runs_no_handler(
    world: World, activity: model.Accept | model.Reject | model.Delete
) -> None:
    assert await world.deliver(activity.actor, activity) == []


def test_one_kind_of_activity_about_one_thing_has_one_handler() -> None:
    registry = HandlerRegistry()

    def handler(session: Session, incoming: IncomingActivity, now: datetime) -> None:
        return None

    registry.register(model.Create, model.Product, handler)
    with pytest.raises(ValueError, match="Create of Product already has a handler"):
        registry.register(model.Create, model.Product, handler)


def test_a_coroutine_function_is_refused_as_a_handler() -> None:
    """Handlers run in the worker's unit on the database thread: a coroutine would only be
    created there, never run, and the activity marked done."""

    async def handler(session: Session, incoming: IncomingActivity, now: datetime) -> None:
        return None

    registry = HandlerRegistry()
    for candidate in (handler, partial(handler)):
        with pytest.raises(TypeError, match="coroutine function"):
            registry.register(model.Follow, model.Product, candidate)  # type: ignore[arg-type]
    assert registry.registrations() == []


def test_every_handler_the_cart_and_the_demo_peers_register_is_a_plain_function(
    db: Database, tmp_path: Path
) -> None:
    cart = HandlerRegistry()
    register_handlers(cart, cart_actor(), RemoteActors(db, Fetcher()), lambda iri: ())
    registries = [cart]
    for make in (market_node, calendar_node):
        config = NodeConfig("https://peer.test", "peer", "Peer", tmp_path / make.__name__)
        node = make(config)
        registries.append(HandlerRegistry())
        node.register(registries[-1], node)
    for registry in registries:
        handlers = [entry.handler for entry in registry.registrations()]
        assert handlers, "each composition registers handlers"
        assert [h for h in handlers if inspect.iscoroutinefunction(h)] == []
