"""The catalogue mirror's tables: what market and calendar peers offer, as they last told us.

Rows are never deleted: a withdrawn product keeps its row (with `withdrawn_at`) because
cart lines and, later, order items refer to it. `updated_at` is the version of the
peer's object we hold (its `updated`, else the activity's `published`); an older
version arriving later is ignored. `key` is a short URL-safe digest of the IRI, for
web addresses that should not carry a peer's whole IRI.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from store import Base, utcnow
from store.base import UTCDateTime
from store.lease import Leased

IRI = 2048
# Byte order on both engines ("C" on PostgreSQL, SQLite's default), so a prefix is a
# range of the index and keyset paging agrees with ORDER BY.
SORTABLE = String(160).with_variant(String(160, collation="C"), "postgresql")
WORD = String(48).with_variant(String(48, collation="C"), "postgresql")
PRODUCT = "product"
ENTRY = "entry"


def key_for(ap_id: str) -> str:
    """A stable, URL-safe, 32-character handle for an IRI (page or item)."""
    return hashlib.sha256(ap_id.encode()).hexdigest()[:32]


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as its text ("3.50").

    SQLite has no decimal type (SQLAlchemy would round-trip through float and warn);
    text keeps every digit the peer sent, identically on both engines.
    """

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"a DecimalText column takes a Decimal, not {type(value).__name__}")
        return format(value, "f")

    def process_result_value(self, value: str | None, dialect: object) -> Decimal | None:
        return None if value is None else Decimal(value)


class ItemRow(Protocol):
    """What a view of an item reads from its row: a `CatalogItem`, or a Core row that
    selected these columns (cart.catalog.rows), so a hot read needs no ORM objects."""

    ap_id: str
    key: str
    kind: str
    ap_actor_id: str
    name: str
    summary: str | None
    url: str | None
    price_amount: Decimal
    price_currency: str
    available: bool | None
    stock: int | None
    capacity: int | None
    start_time: datetime | None
    end_time: datetime | None
    location: str | None
    entry_state: str | None
    time_zone: str | None
    withdrawn_at: datetime | None
    image_digest: str | None
    image_alt: str | None


class CatalogPage(Base):
    """The shop or venue a product or entry belongs to (a peer's `Page`)."""

    __tablename__ = "catalog_pages"

    ap_id: Mapped[str] = mapped_column(String(IRI), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    url: Mapped[str | None] = mapped_column(String(IRI), nullable=True)
    # How its owner hands things over (cart.catalog.fulfilment): JSON, None if unsaid.
    fulfilment: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogItem(Base):
    """A `Product` (kind "product") or `CalendarEntry` (kind "entry") from its owner."""

    __tablename__ = "catalog_items"
    # A shelf (one page's items in display order) is read a screenful at a time.
    __table_args__ = (Index("ix_catalog_items_shelf", "page_key", "sort_key", "key"),)

    ap_id: Mapped[str] = mapped_column(String(IRI), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    ap_actor_id: Mapped[str] = mapped_column(String(IRI), index=True)
    page_ap_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalog_pages.ap_id"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    url: Mapped[str | None] = mapped_column(String(IRI), nullable=True)
    price_amount: Mapped[Decimal] = mapped_column(DecimalText)
    price_currency: Mapped[str] = mapped_column(String(3))
    # None: the peer did not say (a product is then on sale; see catalog.availability).
    available: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # SQLite only: what our orders placed since the figure hold unanswered, kept by
    # triggers (migration 0025; cart.orders.stock reads it). 0 on PostgreSQL.
    held_unanswered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An entry's seats in all (its `stock` is the seats left); None: the venue did not say.
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    location: Mapped[str | None] = mapped_column(Text, nullable=True)
    entry_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the venue's
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The picture the peer names (AS2 `image`), its alt text, and the digest of our copy
    # once fetched (cart/catalog/images.py): None until then, or when it was refused.
    image_url: Mapped[str | None] = mapped_column(String(IRI), nullable=True)
    image_alt: Mapped[str | None] = mapped_column(Text, nullable=True)
    image_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Kept by cart.catalog.shelf.index_item on every write: the key of the page ("" for
    # none) and the position on its shelf (products by name, then entries by start).
    page_key: Mapped[str] = mapped_column(String(32), default="")
    sort_key: Mapped[str] = mapped_column(SORTABLE, default="")


class CatalogWord(Base):
    """One word of an item's name, for the catalogue's search box (prefix matches)."""

    __tablename__ = "catalog_words"
    # By item: replacing an item's words, and checking a second word of a query.
    __table_args__ = (Index("ix_catalog_words_item", "item_key", "word"),)

    word: Mapped[str] = mapped_column(WORD, primary_key=True)
    item_key: Mapped[str] = mapped_column(ForeignKey("catalog_items.key"), primary_key=True)


class CatalogImage(Base):
    """Our copy of a peer's picture, served from our origin at /images/<digest>.

    Only PNG, JPEG, WebP and GIF, recognised by their first bytes, at most 2 MiB
    (cart/catalog/image_fetch.py). `unused_since` is set by the clean-up loop when no
    item on offer shows it; the row goes IMAGE_GRACE after that (cart/catalog/images.py).
    """

    __tablename__ = "catalog_images"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256, hex
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unused_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CatalogImageFetch(Leased, Base):
    """A picture to fetch for an item: written with the item, taken by the image worker."""

    __tablename__ = "catalog_image_fetches"

    item_ap_id: Mapped[str] = mapped_column(ForeignKey("catalog_items.ap_id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(IRI))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)  # stored, or why not
