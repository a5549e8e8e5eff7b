"""What market and calendar share: their `catalog` collection and catalogue announcements.

The `catalog` (docs/protocol.md) is an OrderedCollection of the actor's current Products or
CalendarEntries, paged through `first`/`next`, items embedded with our outgoing context.
Changes are announced to followers (the cart) as Create/Update/Delete through the
transactional `outbox.publish`, in the same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from actor.negotiation import AS2
from demo.node import Site
from outbox.publish import Published, publish, publish_sync
from store import utcnow
from vocab import builders
from vocab.contexts import outgoing_context
from vocab.model import CatalogObject
from vocab.numbers import parse_natural
from vocab.writer import node

PAGE_SIZE = 5


def as2(document: dict[str, Any], status_code: int = 200) -> Response:
    return Response(orjson.dumps(document), status_code=status_code, media_type=AS2)


def item_node(obj: CatalogObject, extras: dict[str, Any]) -> dict[str, Any]:
    """The object's AS2 JSON plus AS2 terms our vocabulary leaves out (image, location)."""
    return {**node(obj), **extras}


def item_document(obj: CatalogObject, extras: dict[str, Any]) -> Response:
    return as2({"@context": outgoing_context(), **item_node(obj, extras)})


def tombstone(iri: str, deleted: datetime) -> Response:
    document = {
        "@context": outgoing_context(),
        "id": iri,
        "type": "Tombstone",
        "deleted": deleted.isoformat().replace("+00:00", "Z"),
    }
    return as2(document, 410)


def page_number(request: Request) -> int | None:
    value = request.query_params.get("page")
    if value is None:
        return None
    number = parse_natural(value, max_digits=5)
    if number is None or not 1 <= number <= 10_000:
        raise HTTPException(400, "page must be a page number from 1")
    return number


def catalog_document(site: Site, items: Sequence[dict[str, Any]], page: int | None) -> Response:
    """The collection head (page None) or one page of it."""
    if page is None:
        return as2(
            builders.ordered_collection(
                id=site.catalog, total_items=len(items), first=f"{site.catalog}?page=1"
            )
        )
    chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    if not chunk and page > 1:
        raise HTTPException(404, f"the catalog has no page {page}")
    document: dict[str, Any] = {
        "@context": outgoing_context(),
        "id": f"{site.catalog}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": site.catalog,
        "orderedItems": list(chunk),
    }
    if len(items) > page * PAGE_SIZE:
        document["next"] = f"{site.catalog}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{site.catalog}?page={page - 1}"
    return as2(document)


async def announce(
    session: AsyncSession,
    site: Site,
    verb: Literal["Create", "Update"],
    obj: CatalogObject,
    extras: dict[str, Any],
) -> Published:
    """`announce_sync` in an async session's transaction."""
    return await session.run_sync(announce_sync, site, verb, obj, extras)


def announce_sync(
    session: Session,
    site: Site,
    verb: Literal["Create", "Update"],
    obj: CatalogObject,
    extras: dict[str, Any],
) -> Published:
    """Publish Create/Update of `obj` to our followers, in the caller's transaction."""
    build = builders.create if verb == "Create" else builders.update
    document = build(
        actor=site.actor_id,
        object=obj,
        to=[site.followers],
        cc=[],
        activity_id=site.new_activity_id(),
        published=utcnow(),
    )
    document["object"] = item_node(obj, extras)
    return publish_sync(session, document)


async def announce_delete(session: AsyncSession, site: Site, iri: str) -> Published:
    document = builders.delete(
        actor=site.actor_id,
        object_id=iri,
        to=[site.followers],
        cc=[],
        activity_id=site.new_activity_id(),
        published=utcnow(),
    )
    return await publish(session, document)
