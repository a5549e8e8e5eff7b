"""Admin pages about orders: search, detail with status history, and the refund action.

A refund moves the order to `refund_requested` in the request's transaction (the same
state the reconciler carries out), then, once that has committed, asks the payment
provider right away in a background task so the operator sees the outcome on the next
reload; if that attempt cannot finish, the reconciler loop retries it.
"""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from actor.identity import LocalActor
from cart.admin import queries
from cart.admin.guard import admin_action, admin_page, confirm_password, reauth_failed
from cart.orders.models import ShopOrder, order_id_from_number
from cart.orders.orders import OrderNotFound, get_order, order_detail, total_of, transition
from cart.orders.reconcile import carry_out_refund
from cart.orders.states import OrderStatus
from cart.web.orders_routes import status_text
from cart.web.visit import Page, Visit, redirect
from store import Database, utcnow
from store.exceptions import IllegalTransition

log = logging.getLogger("rose_cart.admin")
# Money was taken and not given back. Void orders reach refund_requested on their own
# (the reconciler sees a late payment); an operator refunds only these two.
REFUNDABLE = frozenset({OrderStatus.PAID.value, OrderStatus.NEEDS_REFUND.value})


@admin_page
async def orders_page(visit: Visit) -> Page:
    text = visit.request.query_params.get("q", "")[:320]
    status = visit.request.query_params.get("status", "")[:24]
    found = await queries.search_orders(visit.session, text, status)
    context = {
        "orders": found,
        "q": text,
        "status": status,
        "statuses": [s.value for s in OrderStatus],
        "total_of": total_of,
        "status_text": status_text,
    }
    return Page("admin/orders.html", context, title="Orders")


async def _order(visit: Visit, number: str) -> ShopOrder:
    order_id = order_id_from_number(number)
    if order_id is None:
        raise OrderNotFound()
    return await get_order(visit.session, order_id)


@admin_page
async def order_page(visit: Visit) -> Page:
    number = visit.request.path_params["number"]
    order = await _order(visit, number)
    detail = await order_detail(visit.session, order)
    context = {
        "detail": detail,
        "refundable": detail.order.status in REFUNDABLE,
        "status_text": status_text,
    }
    return Page("admin/order.html", context, title=f"Order {detail.number}")


async def _refund_now(
    db: Database, provider: object, order_id: int, local_actor: LocalActor
) -> None:
    try:
        await carry_out_refund(db, provider, order_id, local_actor)  # type: ignore[arg-type]
    except Exception:  # the reconciler tries again; the operator sees refund_requested
        log.exception("refund attempt from the admin page failed", extra={"order": order_id})


@admin_action
async def refund(visit: Visit, form: FormData) -> Response | Page:
    number = visit.request.path_params["number"]
    back = f"/admin/orders/{number}"
    if not await confirm_password(visit, form):
        return reauth_failed(back)
    order = await _order(visit, number)
    order_id = order.id
    if order.status not in REFUNDABLE:
        visit.flash.append(f"Order {number} is not paid, so there is nothing to refund.")
        return redirect(visit, back)
    try:
        moved = await transition(
            visit.session,
            order_id,
            OrderStatus.REFUND_REQUESTED,
            note="Refund issued by the shop",  # who: the audit log (cart/admin/audit.py)
            now=utcnow(),
        )
    except IllegalTransition:
        moved = None
    if moved is None:
        visit.flash.append(f"Order {number} changed meanwhile; look at its status again.")
        return redirect(visit, back)
    visit.flash.append(
        f"Refund of order {number} requested from the payment provider. Reload to see "
        "whether it went through."
    )
    response = redirect(visit, back)
    state = visit.request.app.state
    provider = getattr(state, "payment_provider", None)
    if provider is not None:
        response.background = BackgroundTask(_refund_now, state.db, provider, order_id, state.actor)
    return response


def order_routes() -> list[Route]:
    return [
        Route("/admin/orders", orders_page, methods=["GET"]),
        Route("/admin/orders/{number}", order_page, methods=["GET"]),
        Route("/admin/orders/{number}/refund", refund, methods=["POST"]),
    ]
