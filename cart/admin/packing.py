"""Packing lists: what to hand to whom, per shop or venue and per pickup slot or delivery.

`/admin/packing` lists, for each page with paid orders, the ways they are handed over
(each pickup slot, each delivery, and "none chosen" for orders placed without a choice)
with how many orders each has; each links to `/admin/packing.csv?page=KEY&slot=SLOT`:
every line of those paid orders with the customer, contact, delivery address and fee,
sorted by customer, which a volunteer prints on market morning (without `slot`, the
whole page, slot by slot). Slots are the keys orders kept at checkout
(cart.orders.handover); the rows come from the orders, never from the page as it is now,
so a slot the page has since dropped still shows what was sold for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response
from starlette.routing import Route

from cart.admin.access import admin_page
from cart.admin.exports import MAX_ROWS, as_csv, download
from cart.money import Money
from cart.orders.handover import handover_of
from cart.orders.models import ShopOrder, ShopOrderItem
from cart.orders.states import OrderStatus
from cart.web.visit import Page, Visit

NONE = "none"  # the slot of orders placed with no choice to make


@dataclass(frozen=True)
class Slot:
    page_key: str
    page_name: str
    key: str  # the order's fulfilment_key, or NONE
    kind: str | None
    name: str | None
    place: str | None
    start: datetime | None
    end: datetime | None
    orders: int

    @property
    def label(self) -> str:
        if self.kind is None:
            return "No pickup or delivery chosen"
        return f"{'Delivery' if self.kind == 'delivery' else 'Pickup'}: {self.name or ''}"


def packing_slots(session: Session) -> list[Slot]:
    """A unit: each page's slots with paid orders, pages by name, slots by time."""
    paid = ShopOrder.status == OrderStatus.PAID.value
    query = (
        select(
            ShopOrder.page_key,
            func.max(ShopOrder.page_name),
            ShopOrder.fulfilment_key,
            func.max(ShopOrder.fulfilment_kind),
            func.max(ShopOrder.fulfilment_name),
            func.max(ShopOrder.fulfilment_place),
            func.min(ShopOrder.fulfilment_start),
            func.max(ShopOrder.fulfilment_end),
            func.count(ShopOrder.id),
        )
        .where(paid)
        .group_by(ShopOrder.page_key, ShopOrder.fulfilment_key)
        .limit(MAX_ROWS)
    )
    slots = [
        Slot(page, page_name, key or NONE, kind, name, place, start, end, count)
        for page, page_name, key, kind, name, place, start, end, count in session.execute(query)
    ]
    return sorted(slots, key=lambda s: (s.page_name, s.start is None, s.start or 0, s.label))


def packing_rows(
    session: Session, page_key: str, slot: str | None
) -> Sequence[tuple[ShopOrder, ShopOrderItem]]:
    """A unit: the paid orders' lines of one page (and one slot), by slot and customer."""
    query = (
        select(ShopOrder, ShopOrderItem)
        .join(ShopOrderItem, ShopOrderItem.order_id == ShopOrder.id)
        .where(ShopOrder.page_key == page_key, ShopOrder.status == OrderStatus.PAID.value)
    )
    if slot == NONE:
        query = query.where(ShopOrder.fulfilment_key.is_(None))
    elif slot:
        query = query.where(ShopOrder.fulfilment_key == slot)
    query = query.order_by(
        ShopOrder.fulfilment_start,
        ShopOrder.fulfilment_key,
        ShopOrder.contact_name,
        ShopOrder.id,
        ShopOrderItem.position,
    ).limit(MAX_ROWS)
    return [(order, item) for order, item in session.execute(query).all()]


HEADER = (
    "handover",
    "where",
    "window_utc",
    "customer",
    "email",
    "phone",
    "deliver_to",
    "order",
    "item",
    "when",
    "quantity",
    "line_total",
    "delivery_fee",
)


def _row(order: ShopOrder, item: ShopOrderItem, first_line: bool) -> list[object]:
    handover = handover_of(order)
    window = ""
    if handover is not None and handover.start is not None:
        window = handover.start.isoformat()
        window += f"/{handover.end.isoformat()}" if handover.end is not None else ""
    return [
        f"{handover.label}: {handover.name}" if handover else "",
        handover.place if handover else "",
        window,
        order.contact_name,
        order.contact_email,
        order.contact_phone,
        handover.address if handover and handover.is_delivery else "",
        order.number,
        item.name,
        item.start_time.isoformat() if item.start_time else "",
        item.quantity,
        (Money(item.unit_amount, item.currency) * item.quantity).plain(),
        # The fee once per order, on its first line, so a column sum is the takings.
        handover.fee.plain() if first_line and handover and handover.fee else "",
    ]


@admin_page
async def packing_csv(visit: Visit) -> Response:
    params = visit.request.query_params
    page_key, slot = params.get("page", "")[:40], params.get("slot", "")[:32] or None
    pairs = await visit.session.run_sync(packing_rows, page_key, slot)
    seen: set[int] = set()
    rows = []
    for order, item in pairs:
        rows.append(_row(order, item, order.id not in seen))
        seen.add(order.id)
    name = f"packing-{page_key or 'none'}{'-' + slot if slot else ''}.csv"
    return download(as_csv(HEADER, rows), name)


@admin_page
async def packing_page(visit: Visit) -> Page:
    slots = await visit.session.run_sync(packing_slots)
    return Page("admin/packing.html", {"slots": slots}, title="Packing lists")


def packing_routes() -> list[Route]:
    return [
        Route("/admin/packing", packing_page, methods=["GET"]),
        Route("/admin/packing.csv", packing_csv, methods=["GET"]),
    ]
