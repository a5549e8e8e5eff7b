"""How the demo's pages hand over what is bought: the `fulfilment` they publish.

docs/protocol.md: a page lists its Pickups (place and time window) and Deliveries (area
and fee); the cart offers them at checkout and keeps the shopper's choice (and address)
to itself. The bakery has one market-stall pickup each Saturday morning; the greengrocer
adds a bike delivery for a fee; the calendar's venue publishes an empty list (a class
needs no handing over, so checkout asks nothing). Windows are in the venue's zone and
move with the calendar: the next Saturday (and its follower) from the given moment.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from store import utcnow
from vocab.model import Fulfilment, MonetaryAmount

ZONE = ZoneInfo("Europe/London")
SATURDAY = 5


def _saturdays(now: datetime, count: int) -> list[datetime]:
    local = now.astimezone(ZONE).date()
    ahead = (SATURDAY - local.weekday()) % 7 or 7
    return [
        datetime.combine(local + timedelta(days=ahead + 7 * week), time(), ZONE)
        for week in range(count)
    ]


def _stall(page_iri: str, day: datetime) -> Fulfilment:
    opens, closes = day.replace(hour=8), day.replace(hour=11)
    return Fulfilment(
        kind="Pickup",
        id=f"{page_iri}#pickup-{day:%Y-%m-%d}",
        name=f"Market stall, Saturday {day:%-d %B}",
        location="Market hall, High Street",
        start_time=opens,
        end_time=closes,
    )


def shop_fulfilment(
    page_iri: str, shop: str, now: datetime | None = None
) -> tuple[Fulfilment, ...]:
    moment = now or utcnow()
    options = [_stall(page_iri, day) for day in _saturdays(moment, 2)]
    if shop == "greengrocer":
        options.append(
            Fulfilment(
                kind="Delivery",
                id=f"{page_iri}#delivery",
                name="Bike delivery, Friday afternoon",
                area="Within the ring road",
                fee=MonetaryAmount(amount=Decimal("2.50"), currency="GBP"),
            )
        )
    return tuple(options)


VENUE_FULFILMENT: tuple[Fulfilment, ...] = ()  # a class is attended, not collected
