"""Refunds the operator asks for: the whole order, or some lines or an amount, with a reason.

`request_refund` (the admin page and `rose-cart orders refund` both call it) checks the
ask against what is left to refund and records it in the caller's transaction:

- all that was paid, with no earlier partial refund: the order itself moves to
  refund_requested and the reconciler refunds it (cart.orders.reconcile), releasing
  every claim and publishing `OrderRefunded` naming every line;
- anything less: an `order_refunds` row; the order stays paid. `carry_out_partial`
  asks the provider for that amount under a lease, then records it and publishes
  `OrderRefunded` naming the refunded lines (the peers release those seats or restock
  those units) in one transaction; made once across crashes
  (cart/orders/refund_safety.py), releasing the claims of lines refunded in full.

The reason is the shopper's to read (order page, history, the peers' `summary`); who
pressed the button is kept for the operator only (`requested_by`, the log).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from actor.identity import LocalActor
from cart.exceptions import CartError
from cart.money import Money
from cart.orders import moves
from cart.orders.models import OrderRefund, ShopOrderItem
from cart.orders.orders import (
    announce_refunded_sync,
    get_order,
    items_of,
    record,
    total_of,
    transition,
)
from cart.orders.refund_safety import (
    PartialAsk,
    claim_partial,
    lines_of,
    made_before,
    release_refunded_lines,
)
from cart.orders.states import ClaimState, OrderStatus
from payments import PaymentError, PaymentProvider, ProviderUnavailable
from store import Database
from store.held import outside_units
from vocab.money import finer_than_the_currency, format_amount

log = logging.getLogger("rose_cart.cart.orders.refunds")
MAX_REASON = 300
DEFAULT_REASON = "Refunded by the shop."
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
WHOLE = "whole"  # an order_refunds row that only records a whole refund's who and why
REFUNDABLE = frozenset({OrderStatus.PAID.value, OrderStatus.NEEDS_REFUND.value})


class NotRefundable(CartError):
    default_message = "That refund cannot be made."


@dataclass(frozen=True)
class RefundAsk:
    """What the operator asks: lines by position (1-based) and quantity, or an amount;
    neither: all that is left to refund."""

    reason: str
    lines: Mapping[int, int] = field(default_factory=dict)
    amount: Decimal | None = None


@dataclass(frozen=True)
class RefundShown:
    """A refund as the order pages show it (`by` on the operator's pages only)."""

    amount: Money
    lines: tuple[tuple[str, int], ...]  # (name, quantity)
    reason: str
    state: str
    by: str


def partial_refunds_sync(session: Session, order_id: int) -> list[OrderRefund]:
    """The order's partial refunds, oldest first."""
    query = select(OrderRefund).where(OrderRefund.order_id == order_id).order_by(OrderRefund.id)
    return list(session.execute(query).scalars())


async def partial_refunds(session: AsyncSession, order_id: int) -> list[OrderRefund]:
    return await session.run_sync(partial_refunds_sync, order_id)


def refunds_shown_sync(session: Session, order_id: int) -> list[RefundShown]:
    """A unit: the order's partial refunds as the shopper reads them."""
    names = {item.id: item.name for item in moves.items_of(session, order_id)}
    query = select(OrderRefund).where(OrderRefund.order_id == order_id).order_by(OrderRefund.id)
    return [
        RefundShown(
            Money(refund.amount, refund.currency),
            tuple((names.get(item_id, "?"), quantity) for item_id, quantity in lines_of(refund)),
            refund.reason,
            refund.state,
            refund.requested_by,
        )
        for refund in session.execute(query).scalars()
    ]


async def refunds_shown(session: AsyncSession, order_id: int) -> list[RefundShown]:
    return await session.run_sync(refunds_shown_sync, order_id)


def _clean_reason(reason: str) -> str:
    text = " ".join(reason.split()) or DEFAULT_REASON
    if len(text) > MAX_REASON:
        raise NotRefundable(f"Please keep the reason under {MAX_REASON} characters.")
    return text


def _wanted(ask: RefundAsk, items: Sequence[ShopOrderItem], left: Counter[int]) -> Counter[int]:
    """order item id -> quantity refunded, checked against what is left of each line."""
    by_position = {position: item for position, item in enumerate(items, start=1)}
    wanted: Counter[int] = Counter()
    for position, quantity in ask.lines.items():
        item = by_position.get(position)
        if item is None:
            raise NotRefundable(f"The order has no line {position}.")
        if quantity < 0 or quantity > left[item.id]:
            raise NotRefundable(f"{item.name}: at most {left[item.id]} can still be refunded.")
        if quantity:
            wanted[item.id] = quantity
    return wanted


async def request_refund(
    session: AsyncSession, order_id: int, ask: RefundAsk, *, by: str, now: datetime
) -> Money:
    """Record the refund (see the module docstring); the amount to be refunded.

    Raises NotRefundable, with words for the operator, and changes nothing then."""
    moment = now
    reason = _clean_reason(ask.reason)
    order = await get_order(session, order_id)
    if order.status not in REFUNDABLE:
        raise NotRefundable(f"Order {order.number} is not paid, so there is nothing to refund.")
    items = await items_of(session, order_id)
    earlier = [
        r for r in await partial_refunds(session, order_id) if r.state not in ("failed", WHOLE)
    ]
    left = Counter({item.id: item.quantity for item in items})
    for done in earlier:
        for item_id, quantity in lines_of(done):
            left[item_id] -= quantity
    money_left = total_of(order).amount - sum((r.amount for r in earlier), Decimal(0))
    if money_left <= 0:
        raise NotRefundable(f"Order {order.number} has already been refunded in full.")
    everything = not ask.lines and ask.amount is None  # all that is left
    wanted = +left if everything else _wanted(ask, items, left)
    unit = {item.id: item.unit_amount for item in items}
    amount = (
        money_left
        if everything
        else ask.amount
        if ask.amount is not None
        else sum((unit[item_id] * quantity for item_id, quantity in wanted.items()), Decimal(0))
    )
    if finer_than_the_currency(amount, order.currency):
        raise NotRefundable(
            f"{format_amount(amount)} has more decimals than {order.currency} has, "
            "so it cannot be paid back."
        )
    giving = Money(Money(amount, order.currency).quantized(), order.currency)
    if not giving.amount > 0 or giving.amount > money_left:
        raise NotRefundable(
            f"A refund must be more than 0 and at most {Money(money_left, order.currency)}."
        )
    log.info("refund requested", extra={"order": order.id, "by": by, "amount": str(giving)})
    if not earlier and giving.amount == total_of(order).amount:
        moved = await transition(
            session,
            order_id,
            OrderStatus.REFUND_REQUESTED,
            note=f"Refund requested: {reason}",
            shopper_note=f"Your payment is being refunded in full: {reason}",
            now=moment,
        )
        if moved is None:
            raise NotRefundable(f"Order {order.number} changed meanwhile; look at it again.")
        state = WHOLE  # a record of who asked and why; the order itself is refunded
    else:
        state = "requested"
    session.add(
        OrderRefund(
            order_id=order_id,
            amount=giving.amount,
            currency=order.currency,
            lines=json.dumps(sorted(wanted.items())),
            reason=reason,
            requested_by=by,
            state=state,
            attempts=0,
            created_at=moment,
        )
    )
    if state == WHOLE:
        return giving
    await record(session, order_id, order.status, f"Refund of {giving} requested: {reason}", moment)
    return giving


def due_partial_refunds(session: Session, limit: int) -> list[int]:
    """A read unit: the partial refunds asked for and not carried out yet."""
    query = select(OrderRefund.id).where(OrderRefund.state == "requested")
    return list(session.execute(query.order_by(OrderRefund.id).limit(limit)).scalars())


async def carry_out_partial(
    db: Database,
    provider: PaymentProvider,
    refund_id: int,
    local_actor: LocalActor,
    *,
    now: datetime,
) -> str | None:
    """Ask the provider for one requested partial refund; its state after, or None when
    another worker holds it or an earlier refund of the order goes first. Done: history,
    `OrderRefunded` for its lines, and the claims of lines refunded in full released.
    Made once across crashes (cart/orders/refund_safety.py)."""
    moment = now
    ask = await db.write(claim_partial, refund_id, moment, LEASE)
    if ask is None:
        return None
    failure, transient = None, False
    try:
        if ask.transaction_id is None:
            raise PaymentError(f"refund {refund_id}: the order has no paid transaction")
        # A later attempt asks the provider's books first: the last one may have got the
        # money back and died before it could say so.
        if ask.attempts == 1 or not await made_before(provider, ask):
            outside_units("a call to the payment provider")
            await provider.refund(ask.transaction_id, ask.amount, currency=ask.currency)
    except ProviderUnavailable as error:
        failure, transient = str(error), ask.attempts < MAX_ATTEMPTS
    except PaymentError as error:
        failure = str(error)
    return await db.write(_partial_outcome, ask, failure, transient, local_actor, moment)


def _partial_outcome(
    session: Session,
    ask: PartialAsk,
    failure: str | None,
    transient: bool,
    local_actor: LocalActor,
    now: datetime,
) -> str:
    """A unit: what the provider said about the partial refund, kept; its state after."""
    refund = session.get(OrderRefund, ask.refund_id, populate_existing=True)
    assert refund is not None  # noqa: S101 - rows are never deleted
    if refund.state != "requested":
        return refund.state  # a worker that took over has recorded it
    refund.lease_until = None
    if transient:
        return refund.state
    order = moves.reload(session, refund.order_id)
    money = Money(ask.amount, ask.currency)
    if failure is not None:
        log.error("partial refund failed", extra={"refund": refund.id, "detail": failure})
        refund.state, refund.failure = "failed", failure
        order.flag = f"partial refund of {money} failed: {failure}"
        return refund.state
    refund.state, refund.done_at = "done", now
    moves.record(session, order.id, order.status, f"Refunded {money}: {refund.reason}", now)
    items = {item.id: item for item in moves.items_of(session, order.id)}
    lines = [(items[item_id], quantity) for item_id, quantity in lines_of(refund)]
    announce_refunded_sync(session, order, local_actor, now, lines, money, refund.reason)
    release_refunded_lines(session, order.id)
    _refunded_in_full(session, order.id, now)
    return refund.state


def _refunded_in_full(session: Session, order_id: int, now: datetime) -> None:
    """Partial refunds that add up to all that was paid leave the order refunded."""
    order = moves.reload(session, order_id)
    done = [r.amount for r in partial_refunds_sync(session, order_id) if r.state == "done"]
    if sum(done, Decimal(0)) >= total_of(order).amount and order.status == OrderStatus.PAID:
        moves.transition(session, order_id, OrderStatus.REFUNDED, note="Refunded in full", now=now)
        moves.move_claims(session, order_id, ClaimState.RELEASED)
