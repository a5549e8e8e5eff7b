"""The demo calendar's bookings: which seats each order holds, and why one cannot have them.

A booking is one order's seats on one entry. It holds seats while `ordered` or
`confirmed`; `released` (cancelled, refunded) and `refused` hold none. A partial refund
gives back some of a booking's seats and leaves the rest held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from demo.models import DemoBooking, DemoEntry
from demo.node import Site
from demo.pages import amount_of, money
from vocab.model import Order, OrderItem, OrderRefunded

HOLDING = ("ordered", "confirmed")  # booking states that take a seat


def quantities(site: Site, items: Iterable[OrderItem], collection: str) -> Counter[str]:
    """How many of each of our `{collection}/{slug}` items the lines name; others' left out."""
    wanted: Counter[str] = Counter()
    for item in items:
        slug = site.local_id(item.ordered_item, collection)
        if slug is not None:
            wanted[slug] += item.quantity
    return wanted


def seats_taken(session: Session, entry_ids: list[str] | None = None) -> Counter[str]:
    query = (
        select(DemoBooking.entry_id, func.sum(DemoBooking.quantity))
        .where(DemoBooking.state.in_(HOLDING))
        .group_by(DemoBooking.entry_id)
    )
    if entry_ids is not None:
        query = query.where(DemoBooking.entry_id.in_(entry_ids))
    return Counter({entry_id: int(taken) for entry_id, taken in session.execute(query)})


def problems_with(
    order: Order, wanted: Counter[str], rows: dict[str, DemoEntry], left: dict[str, int], site: Site
) -> list[str]:
    """Why this order cannot have its seats, in words for the shopper; empty if it can."""
    problems = []
    for item in order.items:
        entry_id = site.local_id(item.ordered_item, "entries")
        if entry_id is None:
            continue  # a product or another calendar's entry: not ours to judge
        row = rows.get(entry_id)
        if row is None:
            problems.append(f"{item.name or item.ordered_item} is not offered here")
            continue
        if item.price.currency != row.currency or item.price.amount != amount_of(row.price_minor):
            problems.append(f"{row.name} now costs {money(row.price_minor, row.currency)}")
    for entry_id, quantity in wanted.items():
        row = rows.get(entry_id)
        if row is None:
            continue
        if left[entry_id] <= 0:
            problems.append(f"{row.name} is full")
        elif quantity > left[entry_id]:
            seats = "seat" if left[entry_id] == 1 else "seats"
            problems.append(f"only {left[entry_id]} {seats} left for {row.name}")
    return list(dict.fromkeys(problems))


def move_bookings(
    session: Session,
    sender: str,
    order_iri: str,
    states: tuple[str, ...],
    target: str,
    now: datetime,
) -> set[str]:
    rows = session.execute(
        select(DemoBooking).where(
            DemoBooking.order_iri == order_iri,
            DemoBooking.ap_actor_id == sender,
            DemoBooking.state.in_(states),
        )
    )
    moved = set()
    for booking in rows.scalars():
        booking.state, booking.updated_at = target, now
        moved.add(booking.entry_id)
    return moved


def release_refunded(
    session: Session, site: Site, sender: str, refund: OrderRefunded, now: datetime
) -> set[str]:
    """Give back the seats of the refunded lines (a partial refund gives back some)."""
    back = quantities(site, refund.items, "entries")
    if not back:
        return set()
    rows = session.execute(
        select(DemoBooking).where(
            DemoBooking.order_iri == refund.object,
            DemoBooking.ap_actor_id == sender,
            DemoBooking.entry_id.in_(sorted(back)),
            DemoBooking.state.in_(HOLDING),
        )
    )
    moved = set()
    for booking in rows.scalars():
        if back[booking.entry_id] >= booking.quantity:
            booking.state = "released"
        else:
            booking.quantity -= back[booking.entry_id]
        booking.updated_at = now
        moved.add(booking.entry_id)
    return moved
