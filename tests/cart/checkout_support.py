"""Shared ground for the checkout, order, reconcile and claim tests."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from actor.identity import LocalActor
from cart.basket.carts import CartOwner
from cart.basket.lines import add_line
from cart.catalog.models import key_for
from cart.orders.checkout import PlacedOrder, checkout_token_for, place_order
from cart.orders.claims import register_claim_handlers
from cart.orders.contact import Contact
from cart.orders.handover import HandoverAsked
from cart.orders.models import ShopOrder
from inbox.registry import HandlerRegistry
from outbox.models import OutboxActivity
from store import Clock, Database, utcnow
from tests.outbox.support import local_actor
from tests.support.dispatch import Dispatcher
from tests.support.factories import BAKERY, NOW, VENUE, entry, offer, product

BAKERY_KEY = key_for(BAKERY.id)
VENUE_KEY = key_for(VENUE.id)
SHOPPER = CartOwner.anonymous("shopper-a")
OTHER_SHOPPER = CartOwner.anonymous("shopper-b")

_ACTOR: LocalActor | None = None


def cart_actor() -> LocalActor:
    global _ACTOR
    if _ACTOR is None:
        _ACTOR = local_actor()
    return _ACTOR


def claims_registry(clock: Clock = utcnow) -> Dispatcher:
    """The inbox's dispatch with the claim handlers alone: peers' answers to our orders."""
    registry = HandlerRegistry()
    register_claim_handlers(registry, local_actor=cart_actor())
    return Dispatcher(registry, clock)


async def stock_shop(db: Database, at: datetime = NOW) -> dict[str, str]:
    """A loaf and a rye at the bakery (market), a bread class at the hall (calendar)."""
    async with db.transaction() as session:
        return {
            "loaf": await offer(session, product(42), at=at),
            "rye": await offer(session, product(43, name="Rye", price="4.20"), at=at),
            "class": await offer(session, entry(9), at=at),
        }


async def fill(db: Database, owner: CartOwner, *items: tuple[str, int]) -> None:
    async with db.transaction() as session:
        for ap_id, quantity in items:
            await add_line(session, owner, ap_id, quantity, now=NOW)


async def checkout(
    db: Database,
    owner: CartOwner = SHOPPER,
    page_key: str = BAKERY_KEY,
    submitted: str | None = None,
    *,
    now: datetime = NOW,
    contact: Contact | None = None,
    handover: HandoverAsked | None = None,
) -> PlacedOrder:
    async with db.transaction() as session:
        token = submitted or await checkout_token_for(session, owner, page_key, now=now)
        return await session.run_sync(
            place_order,
            owner,
            page_key,
            token,
            cart_actor(),
            now=now,
            contact=contact,
            handover=handover,
        )


async def published(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as session:
        rows = (await session.execute(select(OutboxActivity).order_by(OutboxActivity.id))).scalars()
        return [json.loads(row.body) for row in rows]


def kinds(activities: list[dict[str, Any]]) -> list[str]:
    out = []
    for activity in activities:
        kind = activity["type"]
        out.append(kind[-1] if isinstance(kind, list) else kind)
    return out


async def orders(db: Database) -> list[ShopOrder]:
    async with db.transaction() as session:
        return list((await session.execute(select(ShopOrder).order_by(ShopOrder.id))).scalars())
