"""Inbox handlers for the catalogue: Create/Update/Delete of Products and CalendarEntries.

Run by the inbox worker inside its transaction: every write goes through the session
it gives us, and nothing here touches the network. The inbox has already checked the
signature, the sender's role and that the object id is on the sender's origin; we check
ownership again (origin and `attributedTo`, and that a held item is the sender's), since
a handler is the last line before the mirror changes. What a peer gets wrong is
logged and ignored, never retried: a retry cannot make it right.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actor.incoming import ANY, Handler, HandlerRegistrar, IncomingActivity
from actor.roles import PeerRole
from cart.catalog.mirror import Outcome, location_of, upsert_object, withdraw_object
from store import Clock, utcnow
from vocab.model import CalendarEntry, CatalogObject, Create, Delete, Product, Update

log = logging.getLogger("rose_cart.cart.catalog.handlers")
MARKET, CALENDAR = PeerRole.MARKET, PeerRole.CALENDAR


def _embedded_object(document: dict[str, Any]) -> dict[str, Any] | None:
    value = document.get("object")
    return value if isinstance(value, dict) else None


def version_of(obj: CatalogObject, activity: Create | Update) -> datetime | None:
    """What orders two changes of one object: its `updated`, else the activity's
    `published`, else the object's own `published`."""
    return obj.updated or activity.published or obj.published


def make_catalog_handlers(clock: Clock = utcnow) -> tuple[Handler, Handler]:
    """`(handle_upsert, handle_delete)`, reading the time from `clock`."""

    async def handle_upsert(session: AsyncSession, delivery: IncomingActivity) -> None:
        activity: Create | Update = delivery.activity
        obj = activity.object
        if not isinstance(obj, Product | CalendarEntry):
            return  # registered for catalogue types only; anything else is not ours
        now = clock()
        outcome = await upsert_object(
            session,
            obj,
            sender=delivery.ap_actor_id,
            version=version_of(obj, activity) or now,
            now=now,
            location=location_of(_embedded_object(delivery.document)),
        )
        if outcome in (Outcome.STALE, Outcome.REFUSED):
            log.info(
                "catalogue change ignored",
                extra={"ap_id": delivery.ap_id, "outcome": outcome.value},
            )

    async def handle_delete(session: AsyncSession, delivery: IncomingActivity) -> None:
        activity: Delete = delivery.activity
        if activity.object == delivery.ap_actor_id:
            return  # an actor deleting itself: the actor handlers' business
        outcome = await withdraw_object(
            session, activity.object, sender=delivery.ap_actor_id, at=activity.published or clock()
        )
        if outcome is Outcome.REFUSED:
            log.warning(
                "Delete of another actor's catalogue item ignored", extra={"ap_id": delivery.ap_id}
            )

    return handle_upsert, handle_delete


def register_catalog_handlers(registry: HandlerRegistrar, *, clock: Clock = utcnow) -> None:
    """Products from market peers, calendar entries from calendar peers.

    A Delete names only an IRI, so it is registered for any object type; the handler
    acts only on items the sender owns (and leaves actor self-deletes alone).
    """
    handle_upsert, handle_delete = make_catalog_handlers(clock)
    for verb in ("Create", "Update"):
        registry.register(verb, "Product", handle_upsert, senders={MARKET})
        registry.register(verb, "CalendarEntry", handle_upsert, senders={CALENDAR})
    registry.register("Delete", ANY, handle_delete, senders={MARKET, CALENDAR})
