"""The demo calendar: bookable entries on a venue page, and its answers to the cart's orders.

When the cart places an order naming our entries (`Create` of an `Order`), the calendar
holds the seats and answers `Accept`, or answers `Reject` with a `summary` the shopper
can read ("Pottery taster is full"). `OrderPaid` confirms the seats, `OrderCancelled`
releases them, `OrderRefunded` gives back the seats of the refunded lines. Each change
of the seats left is announced to followers as an `Update` of the entry, so the cart's
catalogue shows what is left. `demo.bookings` keeps which order holds which seats.

The handlers run inside the inbox worker's transaction: they read and write rows and
`publish()` (which only writes rows too); no network I/O happens here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from actor.incoming import ANY, IncomingActivity
from demo.bookings import (
    HOLDING,
    move_bookings,
    problems_with,
    quantities,
    release_refunded,
    seats_taken,
)
from demo.catalog import announce_sync, catalog_document, item_document, item_node, page_number
from demo.handover import VENUE_FULFILMENT
from demo.models import DemoBooking, DemoEntry
from demo.node import DemoNode, NodeConfig, Site
from demo.pages import amount_of, minor_units, render
from inbox.registry import HandlerRegistry
from outbox.publish import publish_sync
from vocab import builders
from vocab.model import (
    CalendarEntry,
    Create,
    MonetaryAmount,
    Order,
    OrderCancelled,
    OrderPaid,
    OrderRefunded,
    Page,
)

log = logging.getLogger("rose_cart.demo.calendar")
VENUES = {"old-school": "The Old School Hall"}
VENUE_ZONE = ZoneInfo("Europe/London")  # published on each entry as rose:timeZone


@dataclass(frozen=True)
class Seed:
    id: str
    name: str
    summary: str
    place: str
    days_ahead: int
    start: time
    hours: int
    capacity: int
    price: str


SEEDS = (
    Seed(
        "bread-class",
        "Bread class",
        "Sourdough from starter to loaf.",
        "The kitchen",
        5,
        time(10),
        3,
        8,
        "25.00",
    ),
    Seed(
        "jam-workshop",
        "Jam-making workshop",
        "Autumn fruit, bring a jar.",
        "The kitchen",
        6,
        time(14),
        2,
        6,
        "18.00",
    ),
    Seed(
        "supper-club",
        "Harvest supper club",
        "Four courses from the market.",
        "The main hall",
        9,
        time(19),
        3,
        20,
        "30.00",
    ),
    Seed(
        "pottery",
        "Pottery taster",
        "Two wheels only: book early.",
        "The studio",
        12,
        time(11),
        2,
        2,
        "35.00",
    ),
)


def entry_iri(site: Site, entry_id: str) -> str:
    return site.iri(f"entries/{entry_id}")


def venue_page(site: Site, venue: str) -> Page:
    url = site.iri(f"venues/{venue}")
    return Page(id=url, name=VENUES.get(venue, venue), url=url, fulfilment=VENUE_FULFILMENT)


def entry_value(site: Site, row: DemoEntry, left: int) -> CalendarEntry:
    return CalendarEntry(
        id=entry_iri(site, row.id),
        attributed_to=site.actor_id,
        name=row.name,
        summary=row.summary or None,
        url=venue_page(site, row.venue).url,
        page=venue_page(site, row.venue),
        price=MonetaryAmount(amount=amount_of(row.price_minor), currency=row.currency),
        start_time=row.starts_at,
        end_time=row.ends_at,
        entry_state="available",
        time_zone=VENUE_ZONE.key,
        available=True,
        stock=left,
        capacity=row.capacity,
        published=row.published_at,
        updated=row.updated_at,
    )


def entry_extras(row: DemoEntry) -> dict[str, Any]:
    venue = VENUES.get(row.venue, row.venue)
    return {"location": {"type": "Place", "name": f"{row.place}, {venue}"}}


async def seed_calendar(session: AsyncSession, site: Site, now: datetime) -> None:
    """The demo entries, dated from the first start so they are always ahead of us."""
    if (await session.execute(select(DemoEntry.id).limit(1))).first() is not None:
        return
    today = now.astimezone(VENUE_ZONE).date()
    for seed in SEEDS:
        # The class is at its hour in the venue's zone, whatever the season.
        day = today + timedelta(days=seed.days_ahead)
        starts = datetime.combine(day, seed.start, tzinfo=VENUE_ZONE).astimezone(UTC)
        session.add(
            DemoEntry(
                id=seed.id,
                venue="old-school",
                name=seed.name,
                summary=seed.summary,
                place=seed.place,
                starts_at=starts,
                ends_at=starts + timedelta(hours=seed.hours),
                capacity=seed.capacity,
                price_minor=minor_units(Decimal(seed.price)),
                currency="GBP",
            )
        )


async def entries(session: AsyncSession) -> list[tuple[DemoEntry, int]]:
    """Every entry with its seats left, soonest first."""
    rows = (await session.execute(select(DemoEntry).order_by(DemoEntry.starts_at))).scalars()
    taken = await session.run_sync(seats_taken)
    return [(row, row.capacity - taken[row.id]) for row in rows]


def _announce_seats(session: Session, site: Site, entry_ids: set[str], now: datetime) -> None:
    taken = seats_taken(session, sorted(entry_ids))
    for entry_id in sorted(entry_ids):
        row = session.get(DemoEntry, entry_id)
        if row is None:
            continue
        row.updated_at = now
        value = entry_value(site, row, row.capacity - taken[entry_id])
        announce_sync(session, site, "Update", value, entry_extras(row))


def answer_order(
    session: Session, site: Site, sender: str, order: Order, now: datetime
) -> str | None:
    """Hold the seats and Accept, or Reject with why; None if the order names none of ours
    or was answered before. Returns the summary of a Reject, "" for an Accept."""
    wanted = quantities(site, order.items, "entries")
    if not wanted:
        return None
    answered = session.execute(
        select(DemoBooking.order_iri).where(DemoBooking.order_iri == order.id).limit(1)
    )
    if answered.first() is not None:
        return None  # the same order again under another activity id: answered already
    # Lock the entries (PostgreSQL; SQLite has one writer anyway) so two orders for the
    # last seat are decided one after the other.
    locked = session.execute(
        select(DemoEntry).where(DemoEntry.id.in_(sorted(wanted))).with_for_update()
    )
    rows = {row.id: row for row in locked.scalars()}
    taken = seats_taken(session, sorted(rows))
    left = {entry_id: row.capacity - taken[entry_id] for entry_id, row in rows.items()}
    problems = problems_with(order, wanted, rows, left, site)
    summary = "; ".join(problems)
    summary = summary[:1].upper() + summary[1:]
    for entry_id, quantity in wanted.items():
        session.add(
            DemoBooking(
                order_iri=order.id,
                entry_id=entry_id,
                ap_actor_id=sender,
                order_number=order.order_number,
                quantity=quantity,
                state="refused" if problems else "ordered",
                summary=summary or None,
                updated_at=now,
            )
        )
    envelope: dict[str, Any] = {
        "actor": site.actor_id,
        "object": order.id,
        "to": [sender],
        "activity_id": site.new_activity_id(),
        "published": now,
    }
    if problems:
        publish_sync(session, builders.reject(**envelope, summary=summary))
        return summary
    session.flush()
    publish_sync(session, builders.accept(**envelope))
    _announce_seats(session, site, set(wanted), now)
    return ""


def register_calendar_handlers(registry: HandlerRegistry, node: DemoNode) -> None:
    site, cart = node.site, node.config.cart

    def trusted(delivery: IncomingActivity) -> bool:
        if cart is not None and delivery.ap_actor_id != cart:
            log.info("order message from a stranger ignored", extra={"ap_id": delivery.ap_id})
            return False
        return True

    def handle_create_order(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        order = delivery.activity.object
        if not isinstance(order, Order) or not trusted(delivery):
            return
        if order.attributed_to != delivery.ap_actor_id:
            log.info("an order placed by someone else ignored", extra={"ap_id": delivery.ap_id})
            return
        answer_order(session, site, delivery.ap_actor_id, order, now)

    def handle_order_paid(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        activity = delivery.activity
        if isinstance(activity, OrderPaid) and trusted(delivery):
            move_bookings(
                session, delivery.ap_actor_id, activity.object, ("ordered",), "confirmed", now
            )

    def handle_order_cancelled(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        activity = delivery.activity
        if isinstance(activity, OrderCancelled) and trusted(delivery):
            released = move_bookings(
                session, delivery.ap_actor_id, activity.object, HOLDING, "released", now
            )
            if released:
                session.flush()
                _announce_seats(session, site, released, now)

    def handle_order_refunded(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        activity = delivery.activity
        if isinstance(activity, OrderRefunded) and trusted(delivery):
            released = release_refunded(session, site, delivery.ap_actor_id, activity, now)
            if released:
                session.flush()
                _announce_seats(session, site, released, now)

    registry.register(Create, Order, handle_create_order)
    registry.register(OrderRefunded, ANY, handle_order_refunded)
    registry.register(OrderPaid, ANY, handle_order_paid)
    registry.register(OrderCancelled, ANY, handle_order_cancelled)


# -- routes --------------------------------------------------------------------------------


def _site(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


async def catalog(request: Request) -> Response:
    site, page = _site(request), page_number(request)
    async with request.app.state.db.sessions() as session:
        rows = await entries(session)
    items = [item_node(entry_value(site, row, left), entry_extras(row)) for row, left in rows]
    return catalog_document(site, items, page)


async def entry(request: Request) -> Response:
    site, entry_id = _site(request), request.path_params["id"]
    async with request.app.state.db.sessions() as session:
        row = await session.get(DemoEntry, entry_id)
        if row is None:
            raise HTTPException(404, "no such entry")
        taken = await session.run_sync(seats_taken, [entry_id])
    return item_document(entry_value(site, row, row.capacity - taken[entry_id]), entry_extras(row))


async def venue(request: Request) -> Response:
    name = request.path_params.get("venue", "old-school")
    if name not in VENUES:
        raise HTTPException(404, "no such venue")
    async with request.app.state.db.sessions() as session:
        rows = [(row, left) for row, left in await entries(session) if row.venue == name]
    return render(
        "venue.html", actor=request.app.state.actor, venue=VENUES[name], rows=rows, when=_when
    )


async def entry_states(request: Request) -> Response:
    """Each entry's seats and every booking's state: what the calendar's keeper watches."""
    async with request.app.state.db.sessions() as session:
        rows = await entries(session)
        bookings = (
            (await session.execute(select(DemoBooking).order_by(DemoBooking.updated_at.desc())))
            .scalars()
            .all()
        )
    by_entry: dict[str, list[DemoBooking]] = {}
    for booking in bookings:
        by_entry.setdefault(booking.entry_id, []).append(booking)
    return render(
        "entries.html", actor=request.app.state.actor, rows=rows, bookings=by_entry, when=_when
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(VENUE_ZONE).strftime("%a %d %b, %H:%M %Z")


def calendar_routes() -> list[BaseRoute]:
    return [
        Route("/", venue, methods=["GET"]),
        Route("/venues/{venue}", venue, methods=["GET"]),
        Route("/entries", entry_states, methods=["GET"]),
        Route("/entries/{id}", entry, methods=["GET"]),
        Route("/catalog", catalog, methods=["GET"]),
    ]


def calendar_node(config: NodeConfig) -> DemoNode:
    return DemoNode(config, calendar_routes(), register_calendar_handlers, seed_calendar)
