"""The demo market's answers to the cart's orders: it claims stock as the calendar claims seats.

When the cart places an order naming our products (`Create` of an `Order`), the market
takes the units from its stock and answers `Accept`, or answers `Reject` with a
`summary` the shopper can read ("Sourdough loaf: only 1 left"). `OrderCancelled` puts
the units back, `OrderRefunded` puts back the refunded lines' units. Every change of
stock is announced to followers as an `Update` of the product in the same
transaction, so the cart's catalogue shows the new figure.

The handlers run inside the inbox worker's transaction: rows and `publish()` only.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from actor.incoming import ANY, IncomingActivity
from demo.bookings import quantities
from demo.models import DemoProduct, DemoSale
from demo.node import DemoNode, Site
from demo.pages import amount_of, money
from inbox.registry import HandlerRegistry
from outbox.publish import publish_sync
from vocab import builders
from vocab.model import Create, Order, OrderCancelled, OrderRefunded

log = logging.getLogger("rose_cart.demo.sales")


def _problems(
    order: Order, wanted: Counter[str], rows: dict[str, DemoProduct], site: Site
) -> list[str]:
    problems = []
    for item in order.items:
        product_id = site.local_id(item.ordered_item, "products")
        row = rows.get(product_id) if product_id is not None else None
        if product_id is None:
            continue
        if row is None or row.withdrawn:
            problems.append(f"{item.name or item.ordered_item} is no longer sold here")
        elif item.price.currency != row.currency or item.price.amount != amount_of(row.price_minor):
            problems.append(f"{row.name} now costs {money(row.price_minor, row.currency)}")
    for product_id, quantity in wanted.items():
        row = rows.get(product_id)
        if row is None or row.withdrawn or row.stock is None:
            continue
        if row.stock <= 0:
            problems.append(f"{row.name} is sold out")
        elif quantity > row.stock:
            problems.append(f"only {row.stock} of {row.name} left")
    return list(dict.fromkeys(problems))


# The market's Update of its products' new stock (demo.market.announce_stock).
AnnounceStock = Callable[[Session, Site, list[DemoProduct], datetime], None]


def answer_order(
    session: Session,
    site: Site,
    sender: str,
    order: Order,
    announce_stock: AnnounceStock,
    now: datetime,
) -> str | None:
    """Take the units and Accept, or Reject with why; None if the order names none of our
    products or was answered before. Returns the summary of a Reject, "" for an Accept."""
    wanted = quantities(site, order.items, "products")
    if not wanted:
        return None
    answered = session.execute(
        select(DemoSale.order_iri).where(DemoSale.order_iri == order.id).limit(1)
    )
    if answered.first() is not None:
        return None
    # Lock the products (PostgreSQL; SQLite has one writer) so two orders for the last
    # loaf are decided one after the other.
    locked = session.execute(
        select(DemoProduct).where(DemoProduct.id.in_(sorted(wanted))).with_for_update()
    )
    rows = {row.id: row for row in locked.scalars()}
    problems = _problems(order, wanted, rows, site)
    summary = "; ".join(problems)
    summary = summary[:1].upper() + summary[1:]
    for product_id, quantity in wanted.items():
        session.add(
            DemoSale(
                order_iri=order.id,
                product_id=product_id,
                ap_actor_id=sender,
                quantity=quantity,
                state="refused" if problems else "sold",
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
    for product_id, quantity in wanted.items():
        row = rows[product_id]
        if row.stock is not None:
            row.stock -= quantity
    session.flush()
    publish_sync(session, builders.accept(**envelope))
    announce_stock(session, site, [rows[p] for p in sorted(wanted)], now)
    return ""


def put_back(
    session: Session,
    site: Site,
    sender: str,
    order_iri: str,
    back: Counter[str] | None,
    announce_stock: AnnounceStock,
    now: datetime,
) -> None:
    """Units of a cancelled order (back=None: all it took) or of refunded lines go back."""
    sales = session.execute(
        select(DemoSale).where(
            DemoSale.order_iri == order_iri,
            DemoSale.ap_actor_id == sender,
            DemoSale.state == "sold",
        )
    )
    changed = []
    for sale in sales.scalars():
        returned = sale.quantity if back is None else min(back[sale.product_id], sale.quantity)
        if returned <= 0:
            continue
        sale.quantity -= returned
        sale.state = "returned" if sale.quantity == 0 else sale.state
        sale.updated_at = now
        row = session.get(DemoProduct, sale.product_id, with_for_update=True)
        if row is not None and row.stock is not None:
            row.stock += returned
            changed.append(row)
    if changed:
        session.flush()
        announce_stock(session, site, changed, now)


def register_sales_handlers(
    registry: HandlerRegistry, node: DemoNode, announce_stock: AnnounceStock
) -> None:
    site, cart = node.site, node.config.cart

    def trusted(delivery: IncomingActivity) -> bool:
        if cart is not None and delivery.ap_actor_id != cart:
            log.info("order message from a stranger ignored", extra={"ap_id": delivery.ap_id})
            return False
        return True

    def handle_create_order(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        order = delivery.activity.object
        if isinstance(order, Order) and trusted(delivery):
            if order.attributed_to == delivery.ap_actor_id:
                answer_order(session, site, delivery.ap_actor_id, order, announce_stock, now)

    def handle_order_cancelled(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        activity = delivery.activity
        if isinstance(activity, OrderCancelled) and trusted(delivery):
            sender = delivery.ap_actor_id
            put_back(session, site, sender, activity.object, None, announce_stock, now)

    def handle_order_refunded(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        activity = delivery.activity
        if isinstance(activity, OrderRefunded) and trusted(delivery):
            back = quantities(site, activity.items, "products")
            sender = delivery.ap_actor_id
            put_back(session, site, sender, activity.object, back, announce_stock, now)

    registry.register(Create, Order, handle_create_order)
    registry.register(OrderCancelled, ANY, handle_order_cancelled)
    registry.register(OrderRefunded, ANY, handle_order_refunded)
