"""Start paying for an order: create (or reuse) its hosted checkout at the provider.

The network call happens between two units of work (a read, then a write), never
inside one: the SQLite write lock and PostgreSQL row locks are not held while SumUp
thinks. The
checkout reference is the order's random `public_id`, so creating is idempotent at the
provider (a 409 DUPLICATED_CHECKOUT is answered by reusing the checkout; the client
does that) and a reference can never collide with another instance's orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, bindparam, or_, update
from sqlalchemy.orm import Session

from cart.orders.models import ShopOrder
from cart.orders.moves import OrderNotFound
from cart.orders.states import OrderStatus
from payments import Checkout, PaymentError, PaymentProvider, UnableToTakePayment
from store import Database, direct
from store.held import outside_units


@dataclass(frozen=True)
class PaymentLinks:
    """Where the provider sends its webhook, and where the shopper's browser returns."""

    base_url: str

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/webhooks/sumup"

    def return_url(self, order: ShopOrder) -> str:
        return f"{self.base_url.rstrip('/')}/checkout/return?order={order.number}"


@dataclass(frozen=True)
class _Asked:
    """What the provider is asked for one order's hosted checkout."""

    reference: str
    amount: Decimal
    currency: str
    description: str
    valid_until: datetime
    return_url: str


def _payable(session: Session, order_id: int, links: PaymentLinks, now: datetime) -> str | _Asked:
    """A read unit: the order's hosted page when it has one, else what to ask for."""
    order = session.get(ShopOrder, order_id)
    if order is None:
        raise OrderNotFound()
    return _asked_for(order, links, now)


def _asked_for(order: ShopOrder, links: PaymentLinks, now: datetime) -> str | _Asked:
    """The order's hosted page when it has one, else what to ask the provider for."""
    if order.status != OrderStatus.PENDING:
        raise UnableToTakePayment(
            f"Order {order.number} is {order.status.replace('_', ' ')}, "
            "so there is nothing to pay.",
            f"start_payment on order {order.id} in status {order.status}",
        )
    if order.valid_until <= now:
        raise UnableToTakePayment(
            "The time to pay for this order has run out. Please check out again.",
            f"start_payment on order {order.id} past valid_until",
        )
    if order.checkout_id and order.checkout_url:
        return order.checkout_url
    return _Asked(
        order.public_id,
        order.total_amount,
        order.currency,
        f"Order {order.number}: {order.page_name}"[:255],
        order.valid_until,
        links.return_url(order),
    )


_ORDERS = cast(Table, ShopOrder.__table__)
# Built once, bound per call: an ORM UPDATE cost a tenth of the writer thread per checkout.
_KEEP = (
    update(_ORDERS)
    .where(
        _ORDERS.c.id == bindparam("b_order"),
        or_(_ORDERS.c.checkout_id.is_(None), _ORDERS.c.checkout_id == bindparam("b_checkout")),
    )
    .values(
        checkout_id=bindparam("b_checkout"),
        checkout_url=bindparam("b_url"),
        provider_status=bindparam("b_status"),
        updated_at=bindparam("b_now", type_=_ORDERS.c.updated_at.type),
    )
)


def _keep_checkout(session: Session, order_id: int, checkout: Checkout, now: datetime) -> None:
    """A write unit: the provider's checkout on the order (the first one kept stands)."""
    direct.execute(
        session,
        _KEEP,
        {
            "b_order": order_id,
            "b_checkout": checkout.id,
            "b_url": checkout.hosted_checkout_url,
            "b_status": checkout.status.value,
            "b_now": now,
        },
    )


async def start_payment(
    db: Database,
    provider: PaymentProvider,
    order_id: int,
    links: PaymentLinks,
    *,
    now: datetime,
    placed: ShopOrder | None = None,
) -> str:
    """The hosted checkout URL to send the shopper to.

    Raises UnableToTakePayment (its `shopper_message` is for the shopper) when the order
    can no longer be paid, and the provider's PaymentErrors otherwise. A read unit
    before the provider call and a write unit after it; nothing is held across the call.
    `placed`: the order as the unit that has just created it returned it (no hosted
    checkout yet), so the read unit is skipped.
    """
    if placed is not None:
        asked = _asked_for(placed, links, now)
    else:
        asked = await db.read(_payable, order_id, links, now)
    if isinstance(asked, str):
        return asked
    outside_units("a call to the payment provider")
    checkout = await provider.create_checkout(
        reference=asked.reference,
        amount=asked.amount,
        currency=asked.currency,
        description=asked.description,
        return_url=links.webhook_url,
        redirect_url=asked.return_url,
        valid_until=asked.valid_until,
    )
    if checkout.reference != asked.reference or not checkout.hosted_checkout_url:
        raise PaymentError(
            f"provider checkout {checkout.id} has reference {checkout.reference!r} "
            f"and hosted URL {checkout.hosted_checkout_url!r}; expected reference "
            f"{asked.reference!r}"
        )
    await db.write(_keep_checkout, order_id, checkout, now)
    return checkout.hosted_checkout_url
