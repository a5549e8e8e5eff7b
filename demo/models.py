"""The demo's own tables, on their own MetaData.

They are not part of the service's schema, so they get no Alembic migration: a demo
actor creates them with `create_all` at start-up, beside the toolkit tables that the
store's migrations create (keys, inbox, outbox, remote actors). Money is kept in minor
units (pence), which SQLite stores exactly.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, MetaData, String, Text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store import utcnow
from store.base import NAMING, UTCDateTime


class DemoBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DemoProduct(DemoBase):
    __tablename__ = "demo_products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug, the IRI's last part
    shop: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    price_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    colour: Mapped[str] = mapped_column(String(16))  # the generated image's colour
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemoEntry(DemoBase):
    __tablename__ = "demo_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemoBooking(DemoBase):
    """Seats one order asked for on one entry, and what became of them."""

    __tablename__ = "demo_bookings"

    order_iri: Mapped[str] = mapped_column(String(2048), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ap_actor_id: Mapped[str] = mapped_column(String(2048))  # the cart that ordered
    order_number: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # ordered, confirmed, released, refused
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it was refused
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemoSale(DemoBase):
    """Units one order took of one product (the market's claim), and what became of them."""

    __tablename__ = "demo_sales"

    order_iri: Mapped[str] = mapped_column(String(2048), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ap_actor_id: Mapped[str] = mapped_column(String(2048))  # the cart that ordered
    quantity: Mapped[int] = mapped_column(Integer)  # still taken (a refund gives some back)
    state: Mapped[str] = mapped_column(String(16))  # sold, returned, refused
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def create_demo_tables(engine: AsyncEngine) -> None:
    """Create the demo tables that are missing; a no-op on later starts."""
    async with engine.begin() as connection:
        await connection.run_sync(DemoBase.metadata.create_all)
