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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from actor.incoming import HandlerRegistrar, IncomingActivity, Referent
from actor.roles import PeerRole
from cart.catalog.images import image_of
from cart.catalog.mirror import (
    Outcome,
    location_of,
    upsert_object_sync,
    withdraw_object_sync,
)
from cart.catalog.models import CatalogItem
from vocab.model import CalendarEntry, CatalogObject, Create, Delete, Product, Update

log = logging.getLogger("rose_cart.cart.catalog.handlers")
MARKET, CALENDAR = PeerRole.MARKET, PeerRole.CALENDAR


@dataclass(frozen=True)
class MirroredItem(Referent):
    """A product or calendar entry in our mirror: what a peer's `Delete` of an IRI names."""

    iri: str

    @classmethod
    def find(cls, session: Session, incoming: IncomingActivity) -> Self | None:
        target = incoming.activity.object
        if not isinstance(target, str):
            return None
        held = session.execute(select(CatalogItem.ap_id).where(CatalogItem.ap_id == target))
        return cls(target) if held.scalar() is not None else None


def _embedded_object(document: dict[str, Any]) -> dict[str, Any] | None:
    value = document.get("object")
    return value if isinstance(value, dict) else None


def version_of(obj: CatalogObject, activity: Create | Update) -> datetime | None:
    """What orders two changes of one object: its `updated`, else the activity's
    `published`, else the object's own `published`."""
    return obj.updated or activity.published or obj.published


def handle_upsert(session: Session, delivery: IncomingActivity, now: datetime) -> None:
    activity: Create | Update = delivery.activity
    obj = cast(CatalogObject, activity.object)  # registered for Product, CalendarEntry
    outcome = upsert_object_sync(
        session,
        obj,
        sender=delivery.ap_actor_id,
        version=version_of(obj, activity) or now,
        now=now,
        location=location_of(_embedded_object(delivery.document)),
        image=image_of(_embedded_object(delivery.document)),
    )
    if outcome in (Outcome.STALE, Outcome.REFUSED):
        log.info(
            "catalogue change ignored",
            extra={"ap_id": delivery.ap_id, "outcome": outcome.value},
        )


def handle_delete(session: Session, delivery: IncomingActivity, now: datetime) -> None:
    activity: Delete = delivery.activity
    item: MirroredItem = delivery.referent
    outcome = withdraw_object_sync(
        session, item.iri, sender=delivery.ap_actor_id, at=activity.published or now
    )
    if outcome is Outcome.REFUSED:
        log.warning(
            "Delete of another actor's catalogue item ignored", extra={"ap_id": delivery.ap_id}
        )


def register_catalog_handlers(registry: HandlerRegistrar) -> None:
    """Products from market peers, calendar entries from calendar peers.

    A Delete names only an IRI: the inbox hands it here when the IRI is an item we
    mirror (`MirroredItem`); the handler withdraws it only if the sender owns it.
    """
    for verb in (Create, Update):
        registry.register(verb, Product, handle_upsert, senders={MARKET})
        registry.register(verb, CalendarEntry, handle_upsert, senders={CALENDAR})
    registry.register(Delete, MirroredItem, handle_delete, senders={MARKET, CALENDAR})
