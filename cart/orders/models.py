"""The order tables: orders, their items (a frozen snapshot), status history, checkout tokens.

An order never changes what was bought: each item copies the name, unit price,
currency, quantity, owner and kind from the mirror at checkout, so a later price
change or withdrawal does not rewrite history. `orders.id` is the sequence behind the
shopper-facing number (RA-000123): an identity on PostgreSQL and AUTOINCREMENT on
SQLite, so a number is never handed out twice even if rows were deleted. The order's
IRI uses a random `public_id` instead, which is also the payment reference.

`checkout_tokens` holds one row per cart page (owner + page): the current checkout
"generation". Checkout locks that row first, so two tabs or a double submit of the
same page cart serialise on it and the second finds the first's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cart.catalog.models import IRI, DecimalText
from store import Base, utcnow
from store.base import UTCDateTime
from store.lease import Leased
from vocab.numbers import parse_natural

ORDER_NUMBER_PREFIX = "RA-"


def order_number(order_id: int) -> str:
    return f"{ORDER_NUMBER_PREFIX}{order_id:06d}"


def order_id_from_number(number: str) -> int | None:
    digits = number[len(ORDER_NUMBER_PREFIX) :] if number.startswith(ORDER_NUMBER_PREFIX) else ""
    return parse_natural(digits, max_digits=12)


class ShopOrder(Leased, Base):
    __tablename__ = "orders"
    # The packing list reads one page's orders by the slot they chose.
    __table_args__ = (
        Index("ix_orders_packing", "page_key", "fulfilment_key"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    ap_id: Mapped[str] = mapped_column(String(IRI), unique=True)
    # Whose order: the cart owner at checkout (exactly one is set).
    cart_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    page_key: Mapped[str] = mapped_column(String(40))
    page_ap_id: Mapped[str | None] = mapped_column(String(IRI), nullable=True)
    page_name: Mapped[str] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(String(IRI), nullable=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[Decimal] = mapped_column(DecimalText)
    checkout_token: Mapped[str] = mapped_column(String(64), unique=True)
    # The provider's side: set once the hosted checkout exists.
    checkout_id: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    checkout_url: Mapped[str | None] = mapped_column(String(IRI), nullable=True)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    provider_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    transaction_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # For the operator: a payment that did not match the order, a refund that failed.
    flag: Mapped[str | None] = mapped_column(Text, nullable=True)
    # For the shopper: why the order failed or was cancelled.
    shopper_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    refund_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Whom to reach about it, as given at checkout: stays here, never on the wire.
    contact_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    contact_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # How it is handed over, as chosen at checkout from what the page offered (a frozen
    # copy, cart.catalog.fulfilment): kind "pickup" or "delivery", the slot's key, the
    # page's IRI for it, its name, place (pickup) or area (delivery), window and fee
    # (in the order's currency, part of total_amount). The address is the shopper's:
    # kept here, never on the wire. None for orders placed with no choice to make.
    fulfilment_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fulfilment_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    fulfilment_id: Mapped[str | None] = mapped_column(String(IRI), nullable=True)
    fulfilment_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    fulfilment_place: Mapped[str | None] = mapped_column(Text, nullable=True)
    fulfilment_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fulfilment_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fulfilment_fee: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    delivery_address: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def number(self) -> str:
        return order_number(self.id)


class ShopOrderItem(Base):
    __tablename__ = "order_items"
    # cart.orders.stock counts a product's unanswered claims at every checkout, from
    # this index alone (covering: migration 0023).
    __table_args__ = (
        Index("ix_order_items_held", "item_ap_id", "claim_state", "order_id", "quantity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_ap_id: Mapped[str] = mapped_column(String(IRI))
    ap_actor_id: Mapped[str] = mapped_column(String(IRI), index=True)  # who sells it
    kind: Mapped[str] = mapped_column(String(16))  # "product" | "entry"
    name: Mapped[str] = mapped_column(Text)
    unit_amount: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    claim_state: Mapped[str | None] = mapped_column(String(16), nullable=True)  # entries only
    # Entries only: when the class is, and the venue's zone to show it in.
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)


@dataclass(slots=True)
class PlacedLine:
    """A line of the order checkout has just inserted, as its Create(Order) states it
    (plain: an ORM object built only to be read back cost ~5 % of the unit)."""

    item_ap_id: str
    ap_actor_id: str
    name: str
    unit_amount: Decimal
    currency: str
    quantity: int


# What an order's activities read of one of its lines.
OrderLine = ShopOrderItem | PlacedLine


class OrderStatusChange(Base):
    __tablename__ = "order_status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class CheckoutToken(Base):
    __tablename__ = "checkout_tokens"

    owner_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    page_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderRefund(Base):
    """A refund asked of a paid order: a partial one (carried out from here), or the
    record of a whole one (state `whole`: the order itself moves)."""

    __tablename__ = "order_refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[str] = mapped_column(Text)  # JSON [[order_item_id, quantity], ...]
    reason: Mapped[str] = mapped_column(Text)  # shown to the shopper
    requested_by: Mapped[str] = mapped_column(Text)  # the operator's eyes only
    state: Mapped[str] = mapped_column(String(16), index=True)  # requested, done, failed, whole
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
