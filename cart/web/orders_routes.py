"""The shopper's orders: the list, one order with its items, totals and history, and
cancelling an unpaid one."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actor.negotiation import wants_activity_json
from cart.basket.carts import CartOwner
from cart.exceptions import NotFound
from cart.orders.cancel import cancel_unpaid
from cart.orders.orders import (
    OrderDetail,
    order_by_public_id_sync,
    shopper_order_sync,
    shopper_orders_sync,
    total_of,
)
from cart.orders.refunds import RefundShown, refunds_shown_sync
from cart.orders.states import OrderStatus
from cart.web.order_links import LinkExpired, LinkInvalid
from cart.web.order_objects import order_document
from cart.web.shop import owner_of, with_badge
from cart.web.visit import Page, ShopperVisit, redirect, unit_form, unit_page

# What each status means for the shopper, and what to do next.
STATUS_TEXT = {
    OrderStatus.PENDING: "Waiting for payment",
    OrderStatus.PAID: "Paid",
    OrderStatus.EXPIRED: "Cancelled: not paid in time",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.FAILED: "Not placed",
    OrderStatus.REFUND_REQUESTED: "Being refunded",
    OrderStatus.REFUNDED: "Refunded",
    OrderStatus.NEEDS_REFUND: "Refund delayed: we are on it",
}


class LinkNotValid(NotFound):
    default_message = "This link does not open an order: it may have been cut short or changed."


def status_text(status: str) -> str:
    return STATUS_TEXT.get(OrderStatus(status), status)


@unit_page
async def orders_list(visit: ShopperVisit) -> Page:
    found, count = await visit.read(
        with_badge, visit.shopper, shopper_orders_sync, owner_of(visit.shopper)
    )
    rows = [(order, status_text(order.status), total_of(order)) for order in found]
    return Page("orders.html", {"rows": rows}, title="Your orders", item_count=count)


def _shown(session: Session, detail: OrderDetail) -> tuple[OrderDetail, list[RefundShown]]:
    return detail, refunds_shown_sync(session, detail.order.id)


def _own_order(
    session: Session, owner: CartOwner, number: str
) -> tuple[OrderDetail, list[RefundShown]]:
    """A unit: the shopper's order and its refunds as shown."""
    return _shown(session, shopper_order_sync(session, owner, number))


def _linked_order(session: Session, public_id: str) -> tuple[OrderDetail, list[RefundShown]]:
    """A unit: the order a checked link names and its refunds as shown."""
    return _shown(session, order_by_public_id_sync(session, public_id))


@unit_page
async def order_page(visit: ShopperVisit) -> Page:
    number = visit.request.path_params["number"]
    (detail, refunds), count = await visit.read(
        with_badge, visit.shopper, _own_order, owner_of(visit.shopper), number
    )
    return Page(
        "order_detail.html",
        {"detail": detail, "status_text": status_text, "refunds": refunds},
        title=f"Order {detail.number}",
        item_count=count,
    )


@unit_form
async def cancel(visit: ShopperVisit, form: FormData) -> Response:
    """`POST /orders/{number}/cancel`: the shopper calls off an unpaid order, in one unit."""
    number = visit.request.path_params["number"]
    actor = visit.request.app.state.actor
    owner = owner_of(visit.shopper)
    done = await visit.write(cancel_unpaid, owner, number, actor, now=visit.now)
    visit.flash.append(f"Order {done.number} is cancelled and its items are back in your cart.")
    visit.flash.extend(f"Not put back: {line}" for line in done.not_restored)
    return redirect(visit, f"/orders/{done.number}")


@unit_page
async def linked_order_page(visit: ShopperVisit) -> Page:
    """/orders/link/{token}: the order a mail's signed link names, for whoever holds it."""
    try:
        public_id = visit.config.links.public_id_from(visit.request.path_params["token"])
    except LinkExpired:
        raise LinkNotValid(
            "This link has expired. Log in to see your orders, or ask the shop."
        ) from None
    except LinkInvalid:
        raise LinkNotValid() from None
    (detail, refunds), count = await visit.read(with_badge, visit.shopper, _linked_order, public_id)
    return Page(
        "order_detail.html",
        {"detail": detail, "status_text": status_text, "by_link": True, "refunds": refunds},
        title=f"Order {detail.number}",
        item_count=count,
    )


async def order(request: Request) -> Response:
    """/orders/{x}: the shopper's page, or the order as AS2 for a peer that asks for it."""
    if wants_activity_json(request.headers.get("accept")) == "as2":
        return await order_document(request)
    return await order_page(request)


def orders_routes() -> list[Route]:
    return [
        Route("/orders", orders_list, methods=["GET"]),
        Route("/orders/{number}", order, methods=["GET"]),
        Route("/orders/{number}/cancel", cancel, methods=["POST"]),
        Route("/orders/link/{token}", linked_order_page, methods=["GET"]),
    ]
