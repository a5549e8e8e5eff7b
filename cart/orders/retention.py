"""Retention for what anonymous checkouts leave behind.

An order keeps the contact the shopper gave at checkout (name, e-mail, phone, a delivery
address) and, for a
guest, the anonymous cart id (their cookie's cart) and the provider's hosted-page URL.
Orders that were never paid (expired, cancelled, failed) are kept as records (peers were
told about them and may dereference them), but after ``UNPAID_KEEP`` their contact, their
link to the anonymous cart and the payment URL are cleared: nobody is owed anything.
Checkout tokens of anonymous carts (one row per page cart that ever checked out) go after
the same time: the anonymous cart itself is purged by then.
The clean-up loop runs ``forget_unpaid`` with the cart purge.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from cart.orders.models import CheckoutToken, ShopOrder
from cart.orders.states import OrderStatus

UNPAID_KEEP = timedelta(days=30)
VOID = tuple(status.value for status in OrderStatus if status.is_void)


def forget_unpaid(session: Session, older_than: timedelta = UNPAID_KEEP, *, now: datetime) -> int:
    """Forget who placed old unpaid orders and drop old anonymous checkout tokens; returns
    how many rows changed."""
    cutoff = now - older_than
    unlinked = session.execute(
        update(ShopOrder)
        .where(
            ShopOrder.status.in_(VOID),
            or_(
                ShopOrder.cart_id.is_not(None),
                ShopOrder.contact_name.is_not(None),
                ShopOrder.contact_email.is_not(None),
                ShopOrder.contact_phone.is_not(None),
                ShopOrder.delivery_address.is_not(None),
            ),
            ShopOrder.updated_at < cutoff,
        )
        .values(
            cart_id=None,
            checkout_url=None,
            contact_name=None,
            contact_email=None,
            contact_phone=None,
            delivery_address=None,
        )
        .execution_options(synchronize_session=False)
    )
    tokens = session.execute(
        delete(CheckoutToken)
        .where(CheckoutToken.owner_key.like("c:%"), CheckoutToken.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(unlinked.rowcount) + int(tokens.rowcount)  # type: ignore[attr-defined]
