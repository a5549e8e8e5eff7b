"""Admin pages about orders: search, detail with status history, and the refund action.

A refund (whole, or some lines or an amount, always with a reason the shopper sees:
cart.orders.refunds) is recorded in the request's transaction, then, once that has
committed, asked of the payment provider right away in a background task so the
operator sees the outcome on the next reload; if that attempt cannot finish, the
reconciler loop retries it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from actor.identity import LocalActor
from cart.admin import queries
from cart.admin.access import REAUTH_MESSAGE, admin_action, admin_page
from cart.orders.models import ShopOrder, order_id_from_number
from cart.orders.orders import OrderNotFound, get_order, order_detail, total_of
from cart.orders.reconcile import carry_out_refund
from cart.orders.refunds import (
    REFUNDABLE,
    NotRefundable,
    RefundAsk,
    carry_out_partial,
    partial_refunds_sync,
    refunds_shown,
    request_refund,
)
from cart.orders.states import OrderStatus
from cart.web.orders_routes import status_text
from cart.web.reauth import password_confirmed
from cart.web.visit import Page, Visit, redirect
from payments import PaymentProvider
from store import Clock, Database
from store.exceptions import IllegalTransition
from vocab.money import parse_amount
from vocab.numbers import parse_natural

log = logging.getLogger("rose_cart.admin")


@admin_page
async def orders_page(visit: Visit) -> Page:
    text = visit.request.query_params.get("q", "")[:320]
    status = visit.request.query_params.get("status", "")[:24]
    found = await visit.session.run_sync(queries.search_orders, text, status)
    context = {
        "orders": found,
        "q": text,
        "status": status,
        "statuses": [s.value for s in OrderStatus],
        "total_of": total_of,
        "status_text": status_text,
        "pages": sorted({(o.page_key, o.page_name) for o in found}, key=lambda p: p[1]),
        "query": urlencode({"q": text, "status": status}),
    }
    return Page("admin/orders.html", context, title="Orders")


async def _order(visit: Visit, number: str) -> ShopOrder:
    order_id = order_id_from_number(number)
    if order_id is None:
        raise OrderNotFound()
    return await get_order(visit.session, order_id)


async def _order_page(visit: Visit, number: str, **extra: Any) -> Page:
    order = await _order(visit, number)
    detail = await order_detail(visit.session, order)
    context = {
        "detail": detail,
        "refundable": detail.order.status in REFUNDABLE,
        "refunds": await refunds_shown(visit.session, order.id),
        "status_text": status_text,
        "reauth_error": None,
        "refund_form": {},
        **extra,
    }
    return Page("admin/order.html", context, title=f"Order {detail.number}")


@admin_page
async def order_page(visit: Visit) -> Page:
    return await _order_page(visit, visit.request.path_params["number"])


def _requested_refunds(session: Session, order_id: int) -> list[int]:
    """A read unit: the order's partial refunds still to ask the provider for."""
    return [r.id for r in partial_refunds_sync(session, order_id) if r.state == "requested"]


async def _refund_now(
    db: Database, provider: PaymentProvider, order_id: int, local_actor: LocalActor, clock: Clock
) -> None:
    try:
        await carry_out_refund(db, provider, order_id, local_actor, now=clock())
        due = await db.read(_requested_refunds, order_id)
        for refund_id in due:
            await carry_out_partial(db, provider, refund_id, local_actor, now=clock())
    except Exception:  # the reconciler tries again; the operator sees refund_requested
        log.exception("refund attempt from the admin page failed", extra={"order": order_id})


@admin_action
async def refund(visit: Visit, form: FormData) -> Response | Page:
    number = visit.request.path_params["number"]
    back = f"/admin/orders/{number}"
    if not password_confirmed(visit):
        # Back to the form as it was filled in, saying why (403: the audit log says refused).
        page = await _order_page(
            visit,
            number,
            reauth_error=REAUTH_MESSAGE,
            refund_form={k: str(v)[:300] for k, v in form.multi_items() if k != "password"},
        )
        page.status = 403
        return page
    order = await _order(visit, number)
    order_id = order.id
    who = visit.account.email if visit.account else "an operator"
    try:
        ask = _refund_ask(form)
        giving = await request_refund(visit.session, order_id, ask, by=who, now=visit.now)
    except (NotRefundable, IllegalTransition) as error:
        visit.flash.append(str(error) if isinstance(error, NotRefundable) else "Order changed.")
        return redirect(visit, back)
    visit.flash.append(
        f"Refund of {giving} for order {number} requested from the payment provider. "
        "Reload to see whether it went through."
    )
    response = redirect(visit, back)
    state = visit.request.app.state
    provider = getattr(state, "payment_provider", None)
    if provider is not None:
        response.background = BackgroundTask(
            _refund_now, state.db, provider, order_id, state.actor, visit.config.clock
        )
    return response


def _refund_ask(form: FormData) -> RefundAsk:
    """The refund form: `line-N` quantities, or an `amount`, and a `reason`."""
    lines: dict[int, int] = {}
    for name, value in form.multi_items():
        if not name.startswith("line-") or not str(value).strip():
            continue
        line = parse_natural(name[5:])
        if line is None:  # never read as "no lines": that would refund the whole order
            raise NotRefundable(f"{name[:40]!r} is not a line of this order.")
        text = str(value).strip()
        quantity = parse_natural(text, max_digits=6)
        if quantity is None:
            raise NotRefundable(f"{text[:40]!r} is not a quantity.")
        lines[line] = quantity
    amount_text = str(form.get("amount", "")).strip().lstrip("£")
    amount = parse_amount(amount_text) if amount_text else None
    if amount_text and amount is None:
        raise NotRefundable(f"{amount_text[:40]!r} is not an amount; write it like 12.50.")
    return RefundAsk(reason=str(form.get("reason", "")), lines=lines, amount=amount)


def order_routes() -> list[Route]:
    return [
        Route("/admin/orders", orders_page, methods=["GET"]),
        Route("/admin/orders/{number}", order_page, methods=["GET"]),
        Route("/admin/orders/{number}/refund", refund, methods=["POST"]),
    ]
