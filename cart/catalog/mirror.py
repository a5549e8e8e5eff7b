"""The catalogue mirror: writing what peers tell us, and reading it for shoppers.

Writes (`upsert_object`, `withdraw_object`) run in the caller's transaction (the inbox
worker's unit, as `upsert_object_sync` / `withdraw_object_sync` on a sync session, or a
backfill page's) and return an `Outcome` instead of raising for what a
peer may legitimately get wrong: an older version than the one we hold (STALE), an
object it does not own (REFUSED). Reads return frozen views that carry `Money` and the
reason an item cannot be bought now, computed against the clock the caller passes.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from actor.origin import same_origin
from cart.catalog.fulfilment import encode
from cart.catalog.images import ImageRef, note_image
from cart.catalog.indexing import index_words, place
from cart.catalog.models import ENTRY, PRODUCT, CatalogItem, CatalogPage, ItemRow, key_for
from cart.catalog.page_details import PAGES_CHANNEL
from cart.money import Money
from store import wake
from vocab.model import CalendarEntry, CatalogObject, Page

log = logging.getLogger("rose_cart.cart.catalog.mirror")
MAX_LOCATION = 500


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    STALE = "stale"  # older than what we hold (or than its withdrawal): ignored
    REFUSED = "refused"  # not the sender's to change: ignored
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"  # a Delete of something we never held


@dataclass(frozen=True)
class PageView:
    ap_id: str
    key: str
    name: str  # the peer's name, else its url, else its IRI: always something to show
    url: str | None


@dataclass(frozen=True)
class ItemView:
    ap_id: str
    key: str
    kind: str  # "product" | "entry"
    ap_actor_id: str
    name: str
    summary: str | None
    url: str | None
    price: Money
    page: PageView | None
    stock: int | None
    start_time: datetime | None
    end_time: datetime | None
    location: str | None
    entry_state: str | None
    time_zone: str | None  # the venue's zone; None: the shop's default
    withdrawn: bool
    unavailable_reason: str | None  # None: can be bought now
    capacity: int | None = None  # an entry's seats in all, when its venue says
    image: str | None = None  # the digest of our copy of its picture (/images/<digest>)
    image_alt: str | None = None

    @property
    def is_entry(self) -> bool:
        return self.kind == ENTRY

    @property
    def purchasable(self) -> bool:
        return self.unavailable_reason is None

    @property
    def max_quantity(self) -> int | None:
        """The most one cart may hold: the seats or stock left, when the peer gives them."""
        return self.stock


@dataclass(frozen=True)
class CatalogSection:
    """One page's offer; `page` is None for items the peer gave no page."""

    page: PageView | None
    items: tuple[ItemView, ...]


def unavailable_reason(item: ItemRow, now: datetime, *, counting_stock: bool = True) -> str | None:
    """Why this item cannot be bought at `now`, in words for the shopper; None if it can.

    `counting_stock=False` leaves the stock out (lines put back from a cancelled order:
    the stock still counts what that order held)."""
    if item.withdrawn_at is not None:
        return "No longer offered."
    if item.kind == ENTRY:
        if item.available is False or item.entry_state not in (None, "available"):
            return "No longer available."
        if item.start_time is not None and item.start_time <= now:
            return "This event has already started."
    elif item.available is False:
        return "Not available at the moment."
    if counting_stock and item.stock == 0:
        return "Sold out."
    return None


def owned_by(obj: CatalogObject, sender: str) -> bool:
    """The object's id is on the sender's origin and it is attributed to the sender."""
    return same_origin(obj.id, sender) and obj.attributed_to == sender


def location_of(node: Mapping[str, Any] | None) -> str | None:
    """An entry's place, read leniently from the raw object: a name string or a Place's name.

    Our vocabulary has no term of its own for it; AS2's `location` is what calendars send.
    """
    if node is None:
        return None
    value = node.get("location")
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, str) and value.strip():
        return value.strip()[:MAX_LOCATION]
    return None


def speaks_for_page(page_id: str, sender: str) -> bool:
    """Whether `sender` may say what the page is called and where it is: only its own origin.

    In the co-op, pages belong to the blog service; markets and calendars reference
    them. A peer's copy of a page on another origin is believed for nothing: the page is
    dereferenced at its own origin instead (cart/catalog/page_details.py).
    """
    return same_origin(page_id, sender)


def _upsert_page(session: Session, page: Page, now: datetime, sender: str) -> None:
    own = speaks_for_page(page.id, sender)
    if not own and (page.name is not None or page.url is not None):
        log.info(
            "page details from another origin not taken",
            extra={"page": page.id, "sender": sender},
        )
    # How the page hands things over: believed, like its name, only from its own origin.
    fulfilment = encode(page.fulfilment) if own and page.fulfilment is not None else None
    row = session.get(CatalogPage, page.id)
    if row is None:
        session.add(
            CatalogPage(
                ap_id=page.id,
                key=key_for(page.id),
                # A foreign page starts nameless; the page-details job fetches its own copy.
                name=page.name if own else None,
                url=page.url if own else None,
                fulfilment=fulfilment,
                updated_at=now,
            )
        )
        session.flush()  # the item's foreign key needs the page first
        if not own or page.name is None:  # nameless: the page-details job reads it
            wake(session, PAGES_CHANNEL)
        return
    if not own:
        return
    # A bare reference says nothing about the name: keep what we know.
    if page.name is not None and page.name != row.name:
        row.name, row.updated_at = page.name, now
    if page.url is not None and page.url != row.url:
        row.url, row.updated_at = page.url, now
    if fulfilment is not None and fulfilment != row.fulfilment:
        row.fulfilment, row.updated_at = fulfilment, now


def _is_stale(row: CatalogItem, version: datetime | None) -> bool:
    if row.updated_at is None:
        return False
    if version is None or version < row.updated_at:
        return True
    # Reinstating a withdrawn item takes a version strictly after the withdrawal.
    return row.withdrawn_at is not None and version <= row.withdrawn_at


async def upsert_object(
    session: AsyncSession,
    obj: CatalogObject,
    *,
    sender: str,
    version: datetime | None,
    now: datetime,
    location: str | None = None,
    image: ImageRef | None = None,
) -> Outcome:
    """`upsert_object_sync` in an async session's transaction."""
    return await session.run_sync(
        upsert_object_sync,
        obj,
        sender=sender,
        version=version,
        now=now,
        location=location,
        image=image,
    )


def upsert_object_sync(
    session: Session,
    obj: CatalogObject,
    *,
    sender: str,
    version: datetime | None,
    now: datetime,
    location: str | None = None,
    image: ImageRef | None = None,
) -> Outcome:
    """Create or update the mirror of a peer's Product/CalendarEntry.

    `version` orders changes (the object's `updated`, else its activity's `published`);
    None (a backfilled object without timestamps) only fills what we do not hold yet.
    """
    if not owned_by(obj, sender):
        log.warning(
            "catalogue object not owned by its sender", extra={"ap_id": obj.id, "sender": sender}
        )
        return Outcome.REFUSED
    kind = ENTRY if isinstance(obj, CalendarEntry) else PRODUCT
    row = session.get(CatalogItem, obj.id, with_for_update=True)
    if row is not None and (row.ap_actor_id != sender or row.kind != kind):
        log.warning("catalogue object held for another owner or kind", extra={"ap_id": obj.id})
        return Outcome.REFUSED
    if row is not None and _is_stale(row, version):
        return Outcome.STALE
    if obj.page is not None:
        _upsert_page(session, obj.page, now, sender)
    outcome = Outcome.UPDATED
    renamed = row is None or row.name != obj.name
    if row is None:
        row = CatalogItem(ap_id=obj.id, key=key_for(obj.id), kind=kind, ap_actor_id=sender)
        outcome = Outcome.CREATED
    row.page_ap_id = obj.page.id if obj.page is not None else None
    row.name = obj.name
    row.summary = obj.summary
    row.url = obj.url
    row.price_amount = obj.price.amount
    row.price_currency = obj.price.currency
    row.available = obj.available
    row.stock = obj.stock
    if isinstance(obj, CalendarEntry):
        row.start_time, row.end_time = obj.start_time, obj.end_time
        row.entry_state = obj.entry_state
        row.location = location
        row.time_zone = obj.time_zone
        row.capacity = obj.capacity
    row.updated_at = version if version is not None else row.updated_at
    row.received_at = now
    row.withdrawn_at = None
    place(row)
    if outcome is Outcome.CREATED:
        session.add(row)
    session.flush()
    if renamed:
        index_words(session, row)
    note_image(session, row.ap_id, image, now)  # fetched later, not here
    return outcome


async def withdraw_object(
    session: AsyncSession, ap_id: str, *, sender: str, at: datetime
) -> Outcome:
    """`withdraw_object_sync` in an async session's transaction."""
    return await session.run_sync(withdraw_object_sync, ap_id, sender=sender, at=at)


def withdraw_object_sync(session: Session, ap_id: str, *, sender: str, at: datetime) -> Outcome:
    """The owner deleted it: keep the row (lines refer to it) but mark it withdrawn."""
    row = session.get(CatalogItem, ap_id, with_for_update=True)
    if row is None:
        return Outcome.UNKNOWN
    if row.ap_actor_id != sender:
        log.warning("Delete of a catalogue object by another actor", extra={"ap_id": ap_id})
        return Outcome.REFUSED
    if row.withdrawn_at is None:
        # Whatever we held is gone, even a version stamped after this Delete.
        moment = max(at, row.updated_at) if row.updated_at is not None else at
        row.withdrawn_at = moment
        row.updated_at = moment
        session.flush()
    return Outcome.WITHDRAWN


def page_view(row: CatalogPage) -> PageView:
    return PageView(
        ap_id=row.ap_id, key=row.key, name=row.name or row.url or row.ap_id, url=row.url
    )


def item_view(row: ItemRow, page: CatalogPage | None, now: datetime) -> ItemView:
    return item_view_on(row, page_view(page) if page is not None else None, now)


def item_view_on(row: ItemRow, page: PageView | None, now: datetime) -> ItemView:
    """The view of an item row (ORM or Core) on the page already viewed."""
    return ItemView(
        ap_id=row.ap_id,
        key=row.key,
        kind=row.kind,
        ap_actor_id=row.ap_actor_id,
        name=row.name,
        summary=row.summary,
        url=row.url,
        price=Money(row.price_amount, row.price_currency),
        page=page,
        stock=row.stock,
        capacity=row.capacity,
        image=row.image_digest,
        image_alt=row.image_alt,
        start_time=row.start_time,
        end_time=row.end_time,
        location=row.location,
        entry_state=row.entry_state,
        time_zone=row.time_zone,
        withdrawn=row.withdrawn_at is not None,
        unavailable_reason=unavailable_reason(row, now),
    )


def _with_pages() -> Any:
    return select(CatalogItem, CatalogPage).outerjoin(
        CatalogPage, CatalogPage.ap_id == CatalogItem.page_ap_id
    )


def items_by_id_sync(session: Session, ap_ids: set[str], now: datetime) -> dict[str, ItemView]:
    """Views of these items (withdrawn ones too), by IRI; unknown ids are left out."""
    if not ap_ids:
        return {}
    rows = session.execute(_with_pages().where(CatalogItem.ap_id.in_(ap_ids)))
    return {item.ap_id: item_view(item, page, now) for item, page in rows}


async def items_by_id(
    session: AsyncSession, ap_ids: set[str], now: datetime
) -> dict[str, ItemView]:
    """`items_by_id_sync` in an async session."""
    return await session.run_sync(items_by_id_sync, ap_ids, now)


async def get_item(session: AsyncSession, ap_id: str, now: datetime) -> ItemView | None:
    return (await items_by_id(session, {ap_id}, now)).get(ap_id)


def get_page_by_key_sync(session: Session, key: str) -> PageView | None:
    row = session.execute(select(CatalogPage).where(CatalogPage.key == key)).scalar()
    return page_view(row) if row is not None else None


async def get_page_by_key(session: AsyncSession, key: str) -> PageView | None:
    return await session.run_sync(get_page_by_key_sync, key)


async def list_catalog(
    session: AsyncSession, now: datetime, *, page_key: str | None = None
) -> tuple[CatalogSection, ...]:
    """What is on offer (withdrawn items left out; unavailable ones shown, flagged),
    grouped by page, pages by name; `page_key` narrows it to one page."""
    query = _with_pages().where(CatalogItem.withdrawn_at.is_(None))
    if page_key is not None:
        query = query.where(CatalogPage.key == page_key)
    sections: dict[str | None, tuple[PageView | None, list[ItemView]]] = {}
    for item, page in await session.execute(query):
        view = item_view(item, page, now)
        key = page.ap_id if page is not None else None
        sections.setdefault(key, (view.page, []))[1].append(view)
    ordered = sorted(
        sections.values(),
        key=lambda entry: (entry[0] is None, entry[0].name.casefold() if entry[0] else ""),
    )
    return tuple(
        CatalogSection(page=page, items=tuple(sorted(items, key=_sort_key)))
        for page, items in ordered
    )


def _sort_key(item: ItemView) -> tuple[bool, str, str]:
    # Products first, by name; then entries, soonest first.
    start = item.start_time.isoformat() if item.start_time is not None else ""
    return (item.is_entry, start, item.name.casefold())
