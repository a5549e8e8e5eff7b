"""Catalogue objects as peers send them, and a mirror filled through the real write path.

The suite's factories: any folder builds products, calendar entries, pages and money
here instead of spelling the objects out, and `offer` puts them in the mirror the way an
inbox delivery would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from cart.catalog.mirror import Outcome, upsert_object
from vocab.model import CalendarEntry, Fulfilment, MonetaryAmount, Page, Product

MARKET = "https://market.example/actor"
CALENDAR = "https://calendar.example/actor"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# Each page on the origin of the peer that offers it: a peer's word about a page counts
# only there (docs/protocol.md, ownership); tests of foreign pages say so themselves.
BAKERY = Page(
    id="https://market.example/pages/bakery",
    name="The Bakery",
    url="https://market.example/bakery",
)
VENUE = Page(id="https://calendar.example/pages/hall", name="Village Hall")


def money(amount: str, currency: str = "GBP") -> MonetaryAmount:
    return MonetaryAmount(amount=Decimal(amount), currency=currency)


# How the bakery may hand things over (docs/protocol.md, fulfilment): a Saturday stall
# (08:00 to 11:00 in London, years ahead of any test's clock) and a bike with a fee.
SATURDAY_PICKUP = Fulfilment(
    kind="Pickup",
    id=f"{BAKERY.id}#saturday",
    name="Saturday stall",
    location="Market hall",
    start_time=datetime(2030, 7, 6, 7, tzinfo=UTC),
    end_time=datetime(2030, 7, 6, 10, tzinfo=UTC),
)
BIKE_DELIVERY = Fulfilment(
    kind="Delivery", id=f"{BAKERY.id}#bike", name="Bike", area="Ring road", fee=money("2.50")
)


def product(
    number: int = 42,
    *,
    name: str = "Sourdough loaf",
    price: str = "3.50",
    currency: str = "GBP",
    page: Page | None = BAKERY,
    stock: int | None = None,
    available: bool | None = True,
    updated: datetime | None = None,
    owner: str = MARKET,
) -> Product:
    origin = owner.rsplit("/", 1)[0]
    return Product(
        id=f"{origin}/products/{number}",
        attributed_to=owner,
        name=name,
        price=money(price, currency),
        page=page,
        stock=stock,
        available=available,
        updated=updated,
    )


def entry(
    number: int = 9,
    *,
    name: str = "Bread class",
    price: str = "25.00",
    page: Page | None = VENUE,
    start: datetime = NOW + timedelta(days=4),
    state: str | None = "available",
    updated: datetime | None = None,
    seats: int | None = None,
) -> CalendarEntry:
    return CalendarEntry(
        id=f"https://calendar.example/entries/{number}",
        attributed_to=CALENDAR,
        name=name,
        price=money(price),
        page=page,
        start_time=start,
        end_time=start + timedelta(hours=2),
        entry_state=state,
        updated=updated,
        stock=seats,
    )


async def offer(session: AsyncSession, obj: Product | CalendarEntry, *, at: datetime = NOW) -> str:
    """Put an object in the mirror as its owner's Create would; returns its IRI."""
    outcome = await upsert_object(session, obj, sender=obj.attributed_to, version=at, now=at)
    assert outcome in (Outcome.CREATED, Outcome.UPDATED), outcome
    return obj.id
