"""Backfill: copy a peer's current catalogue when it accepts our Follow.

The peer's actor names its `catalog`, an OrderedCollection of its current Products or
CalendarEntries, paged through `first`/`next`; items come embedded or as IRIs (fetched
one by one). Every GET is signed (authorized fetch) and goes through the Fetcher's
guards. Each page is written in its own short transaction, after its network I/O is
done, through the same `upsert_object` as live deliveries: an item we already hold in a
newer version is left alone, an item the peer does not own is refused.

A failure is a value: the report says how far it got and why it stopped. The caller (a
background task, never an inbox handler) decides whether to try again later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from actor.exceptions import FetchError
from actor.fetch import Fetched, Fetcher
from actor.origin import same_origin
from actor.roles import PeerRole
from cart.catalog.images import ImageRef, image_of
from cart.catalog.mirror import Outcome, location_of, upsert_object_sync
from store import Clock, Database, utcnow
from vocab.exceptions import ValidationError
from vocab.model import Actor, CalendarEntry, OrderedCollection, Product
from vocab.parse import parse

log = logging.getLogger("rose_cart.cart.catalog.backfill")
MAX_PAGES = 500
MAX_ITEMS = 20_000
KINDS: dict[str | None, tuple[type, ...]] = {
    PeerRole.MARKET: (Product,),
    PeerRole.CALENDAR: (CalendarEntry,),
    None: (Product, CalendarEntry),
}


@dataclass(frozen=True)
class BackfillReport:
    actor: str
    pages: int = 0
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # we already held this version or a newer one
    refused: int = 0  # not the peer's own, or not its kind (a market sending entries)
    failed: int = 0  # an item IRI that could not be fetched or read
    complete: bool = False
    error: str | None = None  # why it stopped early, when it did

    def counted(self, outcome: Outcome) -> BackfillReport:
        name = {
            Outcome.CREATED: "created",
            Outcome.UPDATED: "updated",
            Outcome.STALE: "unchanged",
            Outcome.REFUSED: "refused",
        }[outcome]
        return replace(self, seen=self.seen + 1, **{name: getattr(self, name) + 1})


Progress = Callable[[BackfillReport], None]


@dataclass
class _Page:
    objects: list[tuple[Product | CalendarEntry, str | None, ImageRef | None]] = field(
        default_factory=list
    )
    refused: int = 0
    failed: int = 0


class _Reader:
    def __init__(self, fetcher: Fetcher, auth: httpx.Auth | None, actor: str) -> None:
        self.fetcher, self.auth, self.actor = fetcher, auth, actor

    async def document(self, url: str) -> dict[str, Any]:
        if not same_origin(url, self.actor):
            raise FetchError(url, f"{url} is not on the origin of {self.actor}")
        fetched = await self.fetcher.fetch(url, auth=self.auth)
        if not isinstance(fetched, Fetched):
            raise FetchError(url, f"{url} is gone ({fetched.status})")
        return fetched.document

    async def typed(self, url: str, kind: type | tuple[type, ...]) -> Any:
        """The parsed document at `url` and its JSON, when it is of the expected kind."""
        document = await self.document(url)
        value = parse(document)
        if not isinstance(value, kind):
            raise ValidationError(
                "type", f"{url} is a {type(value).__name__}, not what we expected"
            )
        return value, document


async def _read_page(
    reader: _Reader, page: OrderedCollection, raw: dict[str, Any], kinds: tuple[type, ...]
) -> _Page:
    out = _Page()
    raw_items = raw.get("orderedItems")
    raw_list = raw_items if isinstance(raw_items, list) else [raw_items]
    for index, item in enumerate(page.ordered_items):
        node = (
            raw_list[index] if index < len(raw_list) and isinstance(raw_list[index], dict) else None
        )
        if isinstance(item, str):
            try:
                item, node = await reader.typed(item, (Product, CalendarEntry))
            except (FetchError, ValidationError) as error:
                log.info("catalogue item skipped", extra={"item": item, "error": str(error)})
                out.failed += 1
                continue
        if not isinstance(item, Product | CalendarEntry) or not isinstance(item, kinds):
            out.refused += 1
            continue
        out.objects.append((item, location_of(node), image_of(node)))
    return out


async def _write_page(
    db: Database, actor: str, page: _Page, report: BackfillReport, now: datetime
) -> BackfillReport:
    report = replace(
        report,
        pages=report.pages + 1,
        seen=report.seen + page.refused + page.failed,
        refused=report.refused + page.refused,
        failed=report.failed + page.failed,
    )
    for outcome in await db.write(_store_page, actor, page.objects, now):
        report = report.counted(outcome)
    return report


def _store_page(
    session: Session,
    actor: str,
    objects: list[tuple[Product | CalendarEntry, str | None, ImageRef | None]],
    now: datetime,
) -> list[Outcome]:
    """A unit: one page's items into the mirror, as live deliveries are."""
    return [
        upsert_object_sync(
            session,
            obj,
            sender=actor,
            version=obj.updated or obj.published,
            now=now,
            location=location,
            image=image,
        )
        for obj, location, image in objects
    ]


async def backfill_catalog(
    db: Database,
    fetcher: Fetcher,
    auth: httpx.Auth | None,
    actor_iri: str,
    *,
    role: str | None = None,
    progress: Progress | None = None,
    max_pages: int = MAX_PAGES,
    max_items: int = MAX_ITEMS,
    clock: Clock = utcnow,
) -> BackfillReport:
    """Mirror `actor_iri`'s catalogue. `role` ("market"/"calendar") limits what we take
    to Products/CalendarEntries; `progress` is called after each page is committed."""
    reader = _Reader(fetcher, auth, actor_iri)
    kinds = KINDS.get(role, KINDS[None])
    report = BackfillReport(actor=actor_iri)
    try:
        actor, _ = await reader.typed(actor_iri, Actor)
        if actor.catalog is None:
            return replace(report, complete=True, error="the actor has no catalog")
        collection, raw = await reader.typed(actor.catalog, OrderedCollection)
        visited = {collection.id}
        following = collection.first or collection.next
        while True:
            page = await _read_page(reader, collection, raw, kinds)
            if collection.ordered_items or collection.is_page:
                report = await _write_page(db, actor_iri, page, report, clock())
                if progress is not None:
                    progress(report)
            following = collection.next if collection.is_page else following
            if following is None:
                return replace(report, complete=True)
            if following in visited:
                return replace(report, error=f"the catalog's pages loop back to {following}")
            if report.pages >= max_pages or report.seen >= max_items:
                return replace(
                    report, error=f"stopped after {report.pages} pages, {report.seen} items"
                )
            visited.add(following)
            collection, raw = await reader.typed(following, OrderedCollection)
    except (FetchError, ValidationError) as error:
        log.warning("catalogue backfill stopped", extra={"actor": actor_iri, "error": str(error)})
        return replace(report, error=str(error))
