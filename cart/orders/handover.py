"""How an order is handed over: the shopper's choice at checkout, kept on the order.

The page offers Pickups and Deliveries (cart.catalog.fulfilment, docs/protocol.md);
checkout sends the key of the one chosen and, for a delivery, the address. `settle`
checks the choice against what the page offers now, in the checkout's unit of work (the
fee comes from the catalogue, never from the form), and `keep` copies it onto the new
order and adds the fee to the total that is charged. The address is the shopper's: it
stays on the order, like the contact, and never crosses the wire; the choice itself
(which slot, which area, what fee) is published with the order so the page's owner can
pack for it. `handover_of` is what the order page, the mails and the admin show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cart.basket.totals import PageCart
from cart.catalog.fulfilment import (
    DELIVERY,
    PICKUP,
    DefaultFulfilment,
    Option,
    choose,
    offered,
    offered_by,
)
from cart.exceptions import CartError
from cart.money import Money
from cart.orders.models import ShopOrder
from vocab.model import Fulfilment, MonetaryAmount

MAX_ADDRESS = 500


class HandoverProblem(CartError):
    """The choice of pickup or delivery cannot be used; the message is for the shopper."""


@dataclass(frozen=True)
class HandoverAsked:
    """What the checkout form said: the option's key and, for a delivery, the address."""

    key: str | None
    address: str | None
    default: DefaultFulfilment


@dataclass(frozen=True)
class Handover:
    """An order's handover as people read it."""

    key: str
    kind: str
    name: str
    place: str | None
    start: datetime | None
    end: datetime | None
    fee: Money | None
    address: str | None

    @property
    def is_delivery(self) -> bool:
        return self.kind == DELIVERY

    @property
    def label(self) -> str:
        return "Delivery" if self.is_delivery else "Pickup"


def read_address(value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    return text or None


def settle(
    session: Session, asked: HandoverAsked, page_key: str, currency: str, now: datetime
) -> tuple[Option | None, str | None]:
    """The option chosen (None when the page offers none) and the delivery address.

    Raises HandoverProblem when the page offers options and none of them was chosen,
    or a delivery has no usable address. A unit function: reads the page's row."""
    options = offered(session, page_key, now, asked.default, currency=currency)
    if not options:
        return None, None
    option = choose(options, asked.key)
    if option is None:
        raise HandoverProblem("Please choose how you will get your order: pickup or delivery.")
    if option.kind != DELIVERY:
        return option, None
    if asked.address is None or len(asked.address) > MAX_ADDRESS:
        raise HandoverProblem(
            f"Please give the address to deliver to (up to {MAX_ADDRESS} characters)."
        )
    return option, asked.address


def offers_on(
    pages: Iterable[PageCart],
    said: dict[str, tuple[str | None, str | None]],
    default: DefaultFulfilment,
    now: datetime,
) -> dict[str, tuple[Option, ...]]:
    """The choices each page cart's checkout form shows (for those that can), from the
    page rows already read (`said`: by key, the page's name and kept hand-over, as
    `view_cart_with_pages_sync` gives them; a page without a row gets the default)."""
    return {
        page.key: offered_by(
            *said.get(page.key, (None, None)), now, default, currency=page.subtotals[0].currency
        )
        for page in pages
        if page.can_check_out and len(page.subtotals) == 1
    }


def keep(order: ShopOrder, option: Option | None, address: str | None) -> None:
    """Copy the choice onto a new order and add its fee to the total charged."""
    if option is None:
        return
    order.fulfilment_kind, order.fulfilment_key = option.kind, option.key[:32]
    order.fulfilment_id, order.fulfilment_name = option.id, option.name
    order.fulfilment_place = option.place
    order.fulfilment_start, order.fulfilment_end = option.start, option.end
    order.delivery_address = address if option.kind == DELIVERY else None
    if option.fee is not None and option.fee.amount > 0:
        fee = Money(option.fee.amount, order.currency)  # offered() checked the currency
        order.fulfilment_fee = fee.quantized()
        order.total_amount = (Money(order.total_amount, order.currency) + fee).quantized()


def handover_of(order: ShopOrder) -> Handover | None:
    if order.fulfilment_kind not in (PICKUP, DELIVERY) or order.fulfilment_key is None:
        return None
    fee = order.fulfilment_fee
    return Handover(
        key=order.fulfilment_key,
        kind=order.fulfilment_kind,
        name=order.fulfilment_name or "",
        place=order.fulfilment_place,
        start=order.fulfilment_start,
        end=order.fulfilment_end,
        fee=Money(fee, order.currency) if fee is not None else None,
        address=order.delivery_address,
    )


def wire_fulfilment(order: ShopOrder) -> Fulfilment | None:
    """The choice as the order carries it over the wire: no address, no person."""
    chosen = handover_of(order)
    if chosen is None:
        return None
    return Fulfilment(
        kind="Delivery" if chosen.is_delivery else "Pickup",
        id=order.fulfilment_id,
        name=chosen.name or None,
        location=None if chosen.is_delivery else chosen.place,
        area=chosen.place if chosen.is_delivery else None,
        start_time=chosen.start,
        end_time=chosen.end,
        fee=MonetaryAmount(amount=chosen.fee.amount, currency=chosen.fee.currency)
        if chosen.fee is not None
        else None,
    )
