"""Orders after checkout: reading them, moving their state machine, announcing changes.

`transition` is the only way an order's status changes. It is a conditional UPDATE
("... WHERE status IN (the states the machine allows this move from)"), so when two
callers race (two webhooks, a webhook and the return page) exactly one moves the order
and the other learns it was already done; a move the machine does not declare raises
`IllegalTransition`. Claims on calendar entries move the same way (`move_claims`).
The rules themselves are sync functions in cart/orders/moves.py; this module runs them
for async callers through `run_sync`.

Every change is written to `order_status_history` for the shopper's order page, and
announced (Create / OrderPaid / OrderCancelled) through the transactional outbox in
the same transaction: to our followers, cc every actor that owns an item (docs/protocol.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from actor.identity import LocalActor
from cart.basket.carts import CartOwner
from cart.money import Money
from cart.orders import moves
from cart.orders.handover import wire_fulfilment
from cart.orders.models import (
    OrderLine,
    OrderStatusChange,
    ShopOrder,
    ShopOrderItem,
    order_id_from_number,
)
from cart.orders.moves import OrderNotFound, addressing
from cart.orders.states import ClaimState, OrderStatus
from outbox.publish import new_activity_id, publish_sync
from store.exceptions import IllegalTransition
from vocab import builders
from vocab.model import MonetaryAmount, Order, OrderItem, Page


@dataclass(frozen=True)
class OrderDetail:
    """An order as its pages show it."""

    order: ShopOrder
    items: tuple[ShopOrderItem, ...]
    history: tuple[OrderStatusChange, ...]

    @property
    def number(self) -> str:
        return self.order.number

    @property
    def status(self) -> OrderStatus:
        return OrderStatus(self.order.status)

    @property
    def total(self) -> Money:
        return Money(self.order.total_amount, self.order.currency)

    def payable(self, now: datetime) -> bool:
        """Pending and still in its payment window at `now`: the pages offer to pay only then."""
        return self.status is OrderStatus.PENDING and self.order.valid_until > now

    def unit_price(self, item: ShopOrderItem) -> Money:
        return Money(item.unit_amount, item.currency)

    def line_total(self, item: ShopOrderItem) -> Money:
        return Money(item.unit_amount, item.currency) * item.quantity


def total_of(order: ShopOrder) -> Money:
    return Money(order.total_amount, order.currency)


async def record(
    session: AsyncSession, order_id: int, status: str, note: str | None, now: datetime
) -> None:
    await session.run_sync(moves.record, order_id, status, note, now)


async def transition(
    session: AsyncSession,
    order_id: int,
    target: OrderStatus,
    *,
    note: str | None = None,
    now: datetime,
    **changes: Any,
) -> ShopOrder | None:
    """`moves.transition`: move the order to `target` exactly once (None: it already was)."""
    return await session.run_sync(moves.transition, order_id, target, note=note, now=now, **changes)


async def move_claims(
    session: AsyncSession,
    order_id: int,
    target: ClaimState,
    *,
    owner: str | None = None,
) -> int:
    """`moves.move_claims`: how many of the order's claims moved to `target`."""
    return await session.run_sync(moves.move_claims, order_id, target, owner=owner)


async def get_order(session: AsyncSession, order_id: int) -> ShopOrder:
    order = await session.get(ShopOrder, order_id)
    if order is None:
        raise OrderNotFound()
    return order


def order_id_by_checkout_id_sync(session: Session, checkout_id: str) -> int | None:
    """A unit: the id of the order a provider checkout belongs to, or None (not ours)."""
    query = select(ShopOrder.id).where(ShopOrder.checkout_id == checkout_id)
    return session.execute(query).scalar()


def shopper_order_id_sync(session: Session, owner: CartOwner, number: str) -> int | None:
    """A unit: the id of the shopper's own order by its number, or None (no such order,
    or another shopper's), without reading its items."""
    order_id = order_id_from_number(number)
    order = session.get(ShopOrder, order_id) if order_id is not None else None
    return order.id if order is not None and _matches(order, owner) else None


def _owned_by(owner: CartOwner) -> Any:
    if owner.cart_id is not None:
        return ShopOrder.cart_id == owner.cart_id
    return ShopOrder.account_id == owner.account_id


async def items_of(session: AsyncSession, order_id: int) -> tuple[ShopOrderItem, ...]:
    return await session.run_sync(moves.items_of, order_id)


def order_detail_sync(session: Session, order: ShopOrder) -> OrderDetail:
    """A unit: the order with its items and its history of status changes."""
    history = session.execute(
        select(OrderStatusChange)
        .where(OrderStatusChange.order_id == order.id)
        .order_by(OrderStatusChange.id)
    ).scalars()
    return OrderDetail(order, moves.items_of(session, order.id), tuple(history))


async def order_detail(session: AsyncSession, order: ShopOrder) -> OrderDetail:
    return await session.run_sync(order_detail_sync, order)


def order_by_public_id_sync(session: Session, public_id: str) -> OrderDetail:
    """A unit: the order a signed link names (the link was checked: no owner to match)."""
    query = select(ShopOrder).where(ShopOrder.public_id == public_id)
    order = session.execute(query).scalar()
    if order is None:
        raise OrderNotFound()
    return order_detail_sync(session, order)


async def order_by_public_id(session: AsyncSession, public_id: str) -> OrderDetail:
    return await session.run_sync(order_by_public_id_sync, public_id)


def shopper_order_sync(session: Session, owner: CartOwner, number: str) -> OrderDetail:
    """A unit: the shopper's own order by its number; another shopper's raises
    OrderNotFound."""
    order_id = order_id_from_number(number)
    order = session.get(ShopOrder, order_id) if order_id is not None else None
    if order is None or not _matches(order, owner):
        raise OrderNotFound()
    return order_detail_sync(session, order)


async def shopper_order(session: AsyncSession, owner: CartOwner, number: str) -> OrderDetail:
    return await session.run_sync(shopper_order_sync, owner, number)


def _matches(order: ShopOrder, owner: CartOwner) -> bool:
    if owner.cart_id is not None:
        return order.cart_id == owner.cart_id
    return order.account_id == owner.account_id


def shopper_orders_sync(
    session: Session, owner: CartOwner, *, limit: int = 100
) -> tuple[ShopOrder, ...]:
    """A unit: the shopper's orders, newest first."""
    query = select(ShopOrder).where(_owned_by(owner)).order_by(ShopOrder.id.desc()).limit(limit)
    return tuple(session.execute(query).scalars())


async def shopper_orders(
    session: AsyncSession, owner: CartOwner, *, limit: int = 100
) -> tuple[ShopOrder, ...]:
    return await session.run_sync(shopper_orders_sync, owner, limit=limit)


def adopt_orders(session: Session, anonymous_cart_id: str, account_id: int) -> int:
    """At login, the orders placed from the anonymous cart become the account's too
    (call beside `cart.basket.carts.adopt_cart`). Idempotent; returns how many moved."""
    result = session.execute(
        update(ShopOrder)
        .where(ShopOrder.cart_id == anonymous_cart_id)
        .values(cart_id=None, account_id=account_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(ShopOrder.status, func.count()).group_by(ShopOrder.status))
    return {status: int(count) for status, count in rows.all()}


# -- what we announce -----------------------------------------------------------------------


def _wire_money(amount: Money) -> MonetaryAmount:
    return MonetaryAmount(amount=amount.quantized(), currency=amount.currency)


def _wire_item(item: OrderLine, quantity: int) -> OrderItem:
    price = _wire_money(Money(item.unit_amount, item.currency))
    return OrderItem(ordered_item=item.item_ap_id, quantity=quantity, price=price, name=item.name)


def order_object(order: ShopOrder, items: Sequence[OrderLine], local_actor: LocalActor) -> Order:
    page = (
        Page(id=order.page_ap_id, name=order.page_name, url=order.page_url)
        if order.page_ap_id
        else None
    )
    return Order(
        id=order.ap_id,
        attributed_to=local_actor.id,
        order_number=order.number,
        order_status=OrderStatus(order.status).wire,
        items=tuple(_wire_item(item, item.quantity) for item in items),
        total=_wire_money(total_of(order)),
        page=page,
        published=order.created_at.replace(microsecond=0),
        fulfilment=wire_fulfilment(order),
    )


def announce_created_sync(
    session: Session,
    order: ShopOrder,
    items: Sequence[OrderLine],
    local_actor: LocalActor,
    now: datetime,
) -> None:
    to, cc = addressing(items, local_actor)
    publish_sync(
        session,
        builders.create(
            actor=local_actor.id,
            object=order_object(order, items, local_actor),
            to=to,
            cc=cc,
            activity_id=new_activity_id(local_actor),
            published=now.replace(microsecond=0),
        ),
        now=now,
    )


async def announce_created(
    session: AsyncSession,
    order: ShopOrder,
    items: Sequence[OrderLine],
    local_actor: LocalActor,
    now: datetime,
) -> None:
    """`announce_created_sync` in an async session."""
    await session.run_sync(announce_created_sync, order, items, local_actor, now)


def announce_paid_sync(
    session: Session, order: ShopOrder, local_actor: LocalActor, now: datetime
) -> None:
    """OrderPaid about the order, in the unit that moved it to paid."""
    moves.announce(
        session,
        order,
        local_actor,
        now,
        builders.order_paid,
        payment_reference=order.checkout_id or order.public_id,
        total=_wire_money(total_of(order)),
    )


async def announce_cancelled(
    session: AsyncSession,
    order: ShopOrder,
    local_actor: LocalActor,
    now: datetime,
    summary: str | None = None,
) -> None:
    await session.run_sync(moves.announce_cancelled, order, local_actor, now, summary)


def announce_refunded_sync(
    session: Session,
    order: ShopOrder,
    local_actor: LocalActor,
    now: datetime,
    refunded: Sequence[tuple[ShopOrderItem, int]],
    amount: Money,
    summary: str | None = None,
) -> None:
    """OrderRefunded: `amount` went back, for `refunded` (line, quantity) pairs; the
    peers that own those lines release or restock them."""
    moves.announce(
        session,
        order,
        local_actor,
        now,
        builders.order_refunded,
        total=_wire_money(amount),
        items=[_wire_item(item, quantity) for item, quantity in refunded],
        summary=summary,
    )


async def void_order(
    session: AsyncSession,
    order_id: int,
    target: OrderStatus,
    local_actor: LocalActor,
    *,
    note: str,
    shopper_note: str | None = None,
    summary: str | None = None,
    now: datetime,
) -> ShopOrder | None:
    """`moves.void_order`: pending -> expired/cancelled/failed, claims released and
    OrderCancelled published, once. Returns the order if this call voided it."""
    return await session.run_sync(
        moves.void_order,
        order_id,
        target,
        local_actor,
        note=note,
        shopper_note=shopper_note,
        summary=summary,
        now=now,
    )


__all__ = [
    "IllegalTransition",
    "adopt_orders",
    "OrderDetail",
    "OrderNotFound",
    "announce_cancelled",
    "announce_created",
    "announce_paid_sync",
    "announce_refunded_sync",
    "get_order",
    "move_claims",
    "order_id_by_checkout_id_sync",
    "order_detail",
    "order_object",
    "shopper_order",
    "shopper_order_id_sync",
    "shopper_orders",
    "transition",
    "void_order",
]
