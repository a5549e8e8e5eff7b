"""Whom to reach about an order, and the mails its changes send.

The shopper gives a name, an e-mail address and optionally a phone number at checkout
(a logged-in shopper's form is prefilled from the account). They are kept on the order
only: `order_object` never puts them on the wire. Each change of an order that the
shopper should hear about queues exactly one mail in the transaction that makes the
change (`transition` moves an order once, so it queues once); mail/ sends it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cart.orders.models import ShopOrder
from cart.orders.states import OrderStatus
from mail.queue import insert_mail, is_address, mail_row

MAX_NAME = 200
MAX_PHONE = 40
# ASCII digits only: "²" and other scripts' digits are digits to `str.isdigit()`, not to
# a phone (vocab/numbers.py).
PHONE_CHARACTERS = frozenset("0123456789+-() .")

# The mail each status change sends ("placed" is the order's creation).
MAIL_FOR_STATUS = {
    OrderStatus.PAID.value: "order.paid",
    OrderStatus.CANCELLED.value: "order.cancelled",
    OrderStatus.EXPIRED.value: "order.expired",
    OrderStatus.FAILED.value: "order.failed",
    OrderStatus.REFUND_REQUESTED.value: "order.refund_requested",
    OrderStatus.REFUNDED.value: "order.refunded",
}


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str | None = None


class ContactProblem(ValueError):
    """What is wrong with the contact given, in words for the shopper."""


def read_contact(name: object, email: object, phone: object) -> Contact | None:
    """The contact from a checkout form; None when the form has none of it (an older
    form or a script: the order is placed without, and sends no mail). Raises
    ContactProblem when something given cannot be used."""
    texts = [v.strip() if isinstance(v, str) else "" for v in (name, email, phone)]
    given_name, given_email, given_phone = texts
    if not any(texts):
        return None
    if not given_name or len(given_name) > MAX_NAME:
        raise ContactProblem("Please give your name (up to 200 characters).")
    if not is_address(given_email):
        raise ContactProblem("Please give an e-mail address we can send your order to.")
    if given_phone and (
        len(given_phone) > MAX_PHONE or not all(c in PHONE_CHARACTERS for c in given_phone)
    ):
        raise ContactProblem("A phone number has digits, spaces and + - ( ) only.")
    return Contact(given_name, given_email, given_phone or None)


def queue_order_mail(session: Session, order: ShopOrder, kind: str, now: datetime) -> bool:
    """One mail about `order` to its contact, in the caller's transaction."""
    if not order.contact_email:
        return False
    return insert_mail(
        session, mail_row(kind=kind, to=order.contact_email, order_id=order.id, now=now)
    )


def queue_status_mail(session: Session, order: ShopOrder, status: str, now: datetime) -> bool:
    kind = MAIL_FOR_STATUS.get(status)
    return queue_order_mail(session, order, kind, now) if kind else False
