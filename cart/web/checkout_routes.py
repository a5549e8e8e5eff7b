"""Checkout, the payment return page and SumUp's webhook.

- `POST /cart/page/{page}/checkout` (CSRF checked): places the order in one unit of
  work (`visit.write`: no request session is held; on SQLite it runs on the writer
  thread and commits with its batch), then (after it has committed, never while
  holding a lock) creates the hosted checkout and sends the browser there with a 303.
  A shop without a payment provider answers 503 before anything; new orders are
  counted per cart and per client address (`cart.web.quotas`), and over the quota the
  answer is 429 with nothing placed.
- `GET /checkout/return?order=RA-…`: SumUp sends the browser here. It reconciles with
  the provider first (coalesced and rate-limited per order: `cart.web.provider_calls`)
  and then says what happened and what to do next.
- `POST /webhooks/sumup`: no CSRF (SumUp posts it) and no trust in the body: it only
  names a checkout, which is then fetched from the provider (same limits; inside the
  window 429, and SumUp retries). A checkout that is not ours is answered 2xx without
  calling anybody.

What these routes need at run time is on `app.state`: `db`, `settings` (`base_url`),
`actor` (the LocalActor) and `payment_provider` (a `payments.PaymentProvider`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from actor.identity import LocalActor
from cart.basket.carts import CartOwner
from cart.identity.sessions import COOKIE_NAME, ShopperSession, signed_in_sync
from cart.orders.checkout import (
    CheckoutProblem,
    PlacedOrder,
    owner_key,
    place_order,
)
from cart.orders.contact import Contact, ContactProblem, read_contact
from cart.orders.handover import HandoverAsked, read_address
from cart.orders.models import ShopOrder, order_id_from_number
from cart.orders.orders import (
    order_id_by_checkout_id_sync,
    shopper_order_id_sync,
    shopper_order_sync,
)
from cart.orders.payment import PaymentLinks, start_payment
from cart.web.config import NOTICE_COOKIE, web_config
from cart.web.provider_calls import provider_calls
from cart.web.quotas import CHECKOUT_ADDRESS, CHECKOUT_CART, client_address, too_many
from cart.web.shop import owner_of, with_badge
from cart.web.visit import Page, ShopperVisit, redirect, unit_form, unit_page
from payments import PaymentError, parse_webhook
from payments.unconfigured import NotConfigured
from store import Database
from store.throttle import Check, Throttled, record, wait_for

log = logging.getLogger("rose_cart.cart.orders.checkout")
MAX_WEBHOOK_BYTES = 64 * 1024
TOKEN_FIELD = "checkout_token"  # noqa: S105 - a form field's name


def _text(value: object) -> str | None:
    return value[:64] if isinstance(value, str) and value else None


def _links(request: Request) -> PaymentLinks:
    return PaymentLinks(request.app.state.settings.base_url)


def _with_notices(request: Request, response: Response, messages: list[str]) -> Response:
    config = web_config(request)
    response.set_cookie(
        NOTICE_COOKIE,
        config.encode_notices(messages),
        max_age=300,
        path="/",
        httponly=True,
        secure=config.secure,
        samesite="lax",
    )
    return response


async def _go_and_pay(
    request: Request, order_id: int, number: str, placed: Response, new: ShopOrder | None = None
) -> Response:
    """After the order is committed: to the provider's hosted page, or to the order page
    with the reason when paying cannot start now. `new`: the order this request has just
    created, as its unit returned it (not read back)."""
    state = request.app.state
    try:
        now = web_config(request).clock()
        url = await start_payment(
            state.db, state.payment_provider, order_id, _links(request), now=now, placed=new
        )
    except PaymentError as error:
        log.warning("could not start payment", extra={"order": order_id, "detail": str(error)})
        answer = RedirectResponse(f"/orders/{number}", status_code=303)
        return _with_notices(request, answer, [error.shopper_message])
    answer = RedirectResponse(url, status_code=303)
    for name, value in placed.raw_headers:
        if name == b"set-cookie":  # a session cookie the unit of work had to send
            answer.raw_headers.append((name, value))
    return answer


@dataclass(frozen=True)
class _Order:
    """What one checkout submit asks for, handed to its unit of work."""

    owner: CartOwner
    page_key: str
    token: str  # "" when the form had none
    checks: list[Check]
    actor: LocalActor
    contact: Contact | ContactProblem | None
    handover: HandoverAsked
    now: datetime


def _place(session: Session, asked: _Order) -> PlacedOrder | Throttled | ContactProblem:
    """The checkout's unit of work, in one hop: the quotas, then the token and the order.

    The quota is checked before anything is placed (over it: Throttled, nothing written)
    and a new order is counted in the same transaction that holds it.
    """
    over = wait_for(session, asked.checks, asked.now)
    if over is not None:
        return over
    if isinstance(asked.contact, ContactProblem):
        return asked.contact
    result = place_order(
        session,
        asked.owner,
        asked.page_key,
        asked.token,
        asked.actor,
        contact=asked.contact,
        handover=asked.handover,
        now=asked.now,
    )
    if result.created:
        record(session, asked.checks, asked.now)
    return result


async def checkout(request: Request) -> Response:
    provider = request.app.state.payment_provider
    if isinstance(provider, NotConfigured):
        # Cheap and first: a shop that cannot take money places no order at all.
        raise HTTPException(503, provider.shopper_message)
    key = request.path_params["page"]
    placed: dict[str, Any] = {}

    async def place(visit: ShopperVisit, form: FormData) -> Response:
        owner = owner_of(visit.shopper)
        submitted = form.get(TOKEN_FIELD)
        # Each new order is a row, a Create(Order) to every follower and a provider
        # checkout: counted per cart and per address, checked before any of that work.
        checks = [(CHECKOUT_CART, owner_key(owner)), (CHECKOUT_ADDRESS, client_address(request))]
        try:
            contact: Contact | ContactProblem | None = read_contact(
                form.get("name"), form.get("email"), form.get("phone")
            )
        except ContactProblem as problem:
            contact = problem
        handover = HandoverAsked(
            _text(form.get("handover")),
            read_address(form.get("address")),
            web_config(request).fulfilment_default,
        )
        order = _Order(
            owner,
            key,
            submitted if isinstance(submitted, str) else "",
            checks,
            request.app.state.actor,
            contact,
            handover,
            visit.now,
        )
        try:
            result = await visit.write(_place, order)
        except CheckoutProblem as problem:
            visit.flash.append("Your order was not placed. Please check these first:")
            visit.flash.extend(
                f"{p.name}: {p.message}" if p.name else p.message for p in problem.problems
            )
            return redirect(visit, f"/cart/page/{key}")
        if isinstance(result, Throttled):
            raise too_many(result)
        if isinstance(result, ContactProblem):
            visit.flash.append(f"Your order was not placed. {result}")
            return redirect(visit, f"/cart/page/{key}")
        placed.update(id=result.order.id, number=result.order.number)
        if result.created:  # a new order: what to ask the provider for is known
            placed["new"] = result.order
        return redirect(visit, f"/orders/{result.order.number}")

    response = await unit_form(place)(request)
    if "id" not in placed:
        return response
    return await _go_and_pay(request, placed["id"], placed["number"], response, placed.get("new"))


async def pay_again(request: Request) -> Response:
    """`POST /orders/{number}/pay`: back to the hosted page for a pending order."""
    number = request.path_params["number"]
    found: dict[str, Any] = {}

    async def check(visit: ShopperVisit, form: FormData) -> Response:
        detail = await visit.read(shopper_order_sync, owner_of(visit.shopper), number)
        found["id"] = detail.order.id
        return redirect(visit, f"/orders/{number}")

    response = await unit_form(check)(request)
    if "id" not in found:
        return response
    return await _go_and_pay(request, found["id"], number, response)


def _owned_order_id_sync(
    session: Session, shopper: ShopperSession, now: datetime, number: str
) -> int | None:
    """A unit: the order `number` when it is the cookie's shopper's."""
    if shopper.account_id is not None:
        shopper = signed_in_sync(session, shopper, now)
    return shopper_order_id_sync(session, owner_of(shopper), number)


async def _owned_order_id(request: Request, number: str) -> int | None:
    """One read unit, and none for a request with no session cookie (no order is
    anybody's without one)."""
    config = web_config(request)
    shopper = config.cookies.decode(request.cookies.get(COOKIE_NAME))
    if shopper is None:
        return None
    db: Database = request.app.state.db
    return await db.read(_owned_order_id_sync, shopper, config.clock(), number)


@unit_page
async def _return_page(visit: ShopperVisit) -> Page:
    number = visit.request.query_params.get("order", "")
    detail, count = await visit.read(
        with_badge, visit.shopper, shopper_order_sync, owner_of(visit.shopper), number
    )
    return Page(
        "checkout_return.html", {"detail": detail}, title=f"Order {detail.number}", item_count=count
    )


async def checkout_return(request: Request) -> Response:
    number = request.query_params.get("order", "")
    order_id = await _owned_order_id(request, number) if order_id_from_number(number) else None
    if order_id is not None:
        # Skipped inside the window: the page shows what we know ("still processing" at
        # worst); the webhook or the reconciler catches up.
        now = web_config(request).clock()
        await provider_calls(request.app.state).reconcile(request.app.state, order_id, now)
    return await _return_page(request)


async def sumup_webhook(request: Request) -> Response:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            return Response(status_code=413)
    notice = parse_webhook(body)
    if notice is None:
        return Response(status_code=204)  # SumUp asks us to ignore events we do not know
    state = request.app.state
    order_id = await state.db.read(order_id_by_checkout_id_sync, notice.checkout_id)
    if order_id is None:
        return Response(status_code=204)
    outcome = await provider_calls(state).reconcile(state, order_id, web_config(request).clock())
    if isinstance(outcome, Throttled):
        raise too_many(outcome)  # SumUp retries later; the reconciler covers us anyway
    if outcome is not None:
        return Response(status_code=503)  # SumUp retries; the reconciler covers us anyway
    return Response(status_code=204)


def checkout_routes() -> list[Route]:
    """Mount these before `cart_routes()`: they replace its placeholder checkout."""
    return [
        Route("/cart/page/{page}/checkout", checkout, methods=["POST"]),
        Route("/checkout/return", checkout_return, methods=["GET"]),
        Route("/orders/{number}/pay", pay_again, methods=["POST"]),
        Route("/webhooks/sumup", sumup_webhook, methods=["POST"]),
    ]
