"""The shopper's own data: download it all as JSON, or delete the account.

`/account` shows both. The export holds the account and every order placed from it,
with the contact given and the lines. Deleting asks for the password again, then, in
one unit of work: the orders stay for the co-op's accounts but are anonymised (no
account, no cart, no name, e-mail or phone), mails still queued for the account or its
address are dropped, its cart lines and sessions go, and the account row is deleted.
Each page reads or writes in units of work and holds no database session; the password
is checked with argon2 before the deleting unit (cart/web/reauth.py).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response
from starlette.routing import Route

from cart.basket.carts import CartLine
from cart.identity.accounts import Account
from cart.identity.sessions import ShopperSession, log_out_sync
from cart.money import Money
from cart.orders.handover import handover_of
from cart.orders.models import ShopOrder, ShopOrderItem
from cart.web.account_settings_routes import account_context
from cart.web.reauth import password_confirmed, reauth_unit_form
from cart.web.visit import Page, ShopperVisit, error_page, redirect, unit_page
from mail.models import OutgoingMail


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _handover(order: ShopOrder) -> dict[str, Any] | None:
    chosen = handover_of(order)
    if chosen is None:
        return None
    return {
        "kind": chosen.kind,
        "name": chosen.name,
        "place": chosen.place,
        "from": _when(chosen.start),
        "until": _when(chosen.end),
        "fee": chosen.fee.plain() if chosen.fee is not None else None,
        "address": chosen.address,
    }


@unit_page
async def account_page(visit: ShopperVisit) -> Page | Response:
    if visit.account is None:
        return redirect(visit, "/login?next=/account")
    return Page("account.html", await account_context(visit), title="Your account")


def _orders_of(session: Session, account_id: int) -> list[dict[str, Any]]:
    orders = session.execute(
        select(ShopOrder).where(ShopOrder.account_id == account_id).order_by(ShopOrder.id)
    ).scalars()
    out = []
    for order in orders:
        items = session.execute(
            select(ShopOrderItem)
            .where(ShopOrderItem.order_id == order.id)
            .order_by(ShopOrderItem.position)
        ).scalars()
        out.append(
            {
                "number": order.number,
                "placed": _when(order.created_at),
                "status": order.status,
                "shop": order.page_name,
                "total": Money(order.total_amount, order.currency).plain(),
                "currency": order.currency,
                "contact": {
                    "name": order.contact_name,
                    "email": order.contact_email,
                    "phone": order.contact_phone,
                },
                "handover": _handover(order),
                "items": [
                    {
                        "name": item.name,
                        "quantity": item.quantity,
                        "unit_price": Money(item.unit_amount, item.currency).plain(),
                        "starts": _when(item.start_time),
                    }
                    for item in items
                ],
            }
        )
    return out


def _document(session: Session, account_id: int) -> dict[str, Any] | None:
    """A read unit: everything the export holds, or None for an account gone meanwhile."""
    account = session.get(Account, account_id)
    if account is None:
        return None
    return {
        "account": {
            "email": account.email,
            "role": account.role,
            "created": _when(account.created_at),
        },
        "orders": _orders_of(session, account.id),
    }


@unit_page
async def export(visit: ShopperVisit) -> Page | Response:
    if visit.account is None:
        return redirect(visit, "/login?next=/account")
    document = await visit.read(_document, visit.account.id)
    if document is None:
        return redirect(visit, "/login?next=/account")
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",
        },
    )


def _erase(session: Session, account_id: int, shopper: ShopperSession) -> ShopperSession | None:
    """A unit: the account's orders anonymised, its queued mails, cart lines and sessions
    gone, and the account deleted; None (nothing changed) for an account gone already."""
    account = session.get(Account, account_id)
    if account is None:
        return None
    session.execute(
        update(ShopOrder)
        .where(ShopOrder.account_id == account.id)
        .values(
            account_id=None,
            cart_id=None,
            contact_name=None,
            contact_email=None,
            contact_phone=None,
            delivery_address=None,
        )
    )
    session.execute(
        delete(OutgoingMail).where(
            OutgoingMail.status == "queued",
            or_(OutgoingMail.account_id == account.id, OutgoingMail.to_address == account.email),
        )
    )
    session.execute(delete(CartLine).where(CartLine.account_id == account.id))
    anonymous = log_out_sync(session, shopper)
    session.delete(account)
    return anonymous


async def erase(visit: ShopperVisit, form: FormData) -> Response | Page:
    if visit.account is None:
        return redirect(visit, "/login?next=/account")
    good = password_confirmed(visit)  # checked before any unit here (web/reauth.py)
    anonymous = await visit.write(_erase, visit.account.id, visit.shopper) if good else None
    if anonymous is None:
        return error_page(
            "Password needed",
            "That password is not right, so nothing was deleted.",
            403,
            back_href="/account",
            back_label="Go back and try again",
        )
    visit.rotate(anonymous, None)
    visit.flash.append("Your account is deleted. Orders you placed are kept without your name.")
    return redirect(visit, "/")


def my_data_routes() -> list[Route]:
    return [
        Route("/account", account_page, methods=["GET"]),
        Route("/account/export", export, methods=["GET"]),
        Route("/account/delete", reauth_unit_form(erase), methods=["POST"]),
    ]
