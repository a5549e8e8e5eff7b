"""Reconciliation: the provider's word on a checkout moves the order, exactly once.

The webhook and the return page are only hints that something may have changed; both
call `reconcile`, which fetches the checkout from the provider (never trusting a
request body), compares reference, checkout id, amount and currency with the order,
and moves the state machine in one transaction:

- PAID and matching: pending -> paid, claims confirmed, `OrderPaid` published. If the
  order was already void (expired, failed, cancelled), the money came late: the order
  goes to refund_requested instead, and the next reconciler step refunds it.
- PAID but not matching: nothing moves; the order is flagged for the operator.
- EXPIRED, or still unpaid past `valid_until` (plus a grace for clock skew), or a
  checkout the provider no longer knows (404: it can never be paid): expired, claims
  released, `OrderCancelled` published. Nothing stays pending.
- FAILED is not final (the shopper may retry on the hosted page): only noted.

`reconcile_pending` is the background step: it reconciles pending orders (lost
webhooks), expires the ones whose time ran out, and carries out requested refunds
under a lease (a refund the provider refuses leaves the order needs_refund).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actor.identity import LocalActor
from cart.orders import moves
from cart.orders.models import ShopOrder
from cart.orders.orders import announce_paid_sync, announce_refunded_sync
from cart.orders.refund_safety import refund_left
from cart.orders.refunds import carry_out_partial, due_partial_refunds
from cart.orders.states import ClaimState, OrderStatus
from payments import Checkout, CheckoutStatus, PaymentError, PaymentProvider, ProviderUnavailable
from payments.exceptions import NotFound
from payments.provider import TransactionStatus
from store import Database
from store.held import outside_units
from store.lease import RELEASED, claim_statement, new_lease

log = logging.getLogger("rose_cart.cart.orders.reconcile")
EXPIRY_GRACE = timedelta(minutes=1)  # the provider's clock and ours may differ a little
REFUND_LEASE = timedelta(minutes=2)
POLL_AFTER = timedelta(minutes=2)  # lost-webhook polling starts this long after checkout
MAX_REFUND_ATTEMPTS = 5  # transient provider failures; then the operator takes over
EXPIRED_NOTE = "The time to pay ran out, so the order was cancelled."
VANISHED_NOTE = (
    "The payment page for this order no longer exists, so the order was cancelled. "
    "No payment was taken."
)


def mismatch(order: ShopOrder, checkout: Checkout) -> str | None:
    """What about the provider's checkout does not match the order, if anything."""
    problems = []
    if checkout.id != order.checkout_id:
        problems.append(f"checkout id {checkout.id!r} is not the order's {order.checkout_id!r}")
    if checkout.reference != order.public_id:
        problems.append(f"reference {checkout.reference!r} is not {order.public_id!r}")
    if checkout.currency != order.currency:
        problems.append(f"currency {checkout.currency} is not {order.currency}")
    if checkout.amount != order.total_amount:
        problems.append(f"amount {checkout.amount} is not {order.total_amount}")
    return "; ".join(problems) or None


def apply_checkout(
    session: Session,
    order_id: int,
    checkout: Checkout,
    local_actor: LocalActor,
    now: datetime,
) -> OrderStatus:
    """A unit: move the order as the fetched checkout says; the order's status after."""
    order = moves.reload(session, order_id)
    if order.provider_status != checkout.status.value:
        order.provider_status = checkout.status.value
    if checkout.status is CheckoutStatus.PAID:
        wrong = mismatch(order, checkout)
        if wrong is not None:
            if order.flag is None:
                order.flag = f"payment does not match the order: {wrong}"
                moves.record(session, order.id, order.status, "Payment under review", now)
                log.warning("payment mismatch", extra={"order": order.id, "detail": wrong})
            return OrderStatus(order.status)
        status = OrderStatus(order.status)
        if status is OrderStatus.PENDING:
            paid = moves.transition(
                session,
                order.id,
                OrderStatus.PAID,
                note="Payment received",
                now=now,
                paid_at=now,
                transaction_id=checkout.transaction_id,
            )
            if paid is not None:
                moves.move_claims(session, order.id, ClaimState.CONFIRMED)
                announce_paid_sync(session, paid, local_actor, now)
        elif status.is_void:
            moves.transition(
                session,
                order.id,
                OrderStatus.REFUND_REQUESTED,
                note="Payment arrived after the order was cancelled: it will be refunded",
                now=now,
                transaction_id=checkout.transaction_id,
            )
        return OrderStatus(moves.reload(session, order_id).status)
    if checkout.status is CheckoutStatus.EXPIRED or now > order.valid_until + EXPIRY_GRACE:
        return expire(session, order_id, local_actor, now, EXPIRED_NOTE)
    return OrderStatus(order.status)


def expire(
    session: Session, order_id: int, local_actor: LocalActor, now: datetime, note: str
) -> OrderStatus:
    """A unit: a pending order expires through the one void path; its status after."""
    if moves.reload(session, order_id).status == OrderStatus.PENDING:
        moves.void_order(
            session,
            order_id,
            OrderStatus.EXPIRED,
            local_actor,
            note=note,
            shopper_note=note,
            now=now,
        )
    return OrderStatus(moves.reload(session, order_id).status)


@dataclass(frozen=True)
class _Standing:
    """What reconcile needs to know of the order before it asks the provider."""

    checkout_id: str | None
    status: OrderStatus
    valid_until: datetime


def _standing(session: Session, order_id: int) -> _Standing:
    order = moves.reload(session, order_id)
    return _Standing(order.checkout_id, OrderStatus(order.status), order.valid_until)


async def reconcile(
    db: Database,
    provider: PaymentProvider,
    order_id: int,
    local_actor: LocalActor,
    *,
    now: datetime,
) -> OrderStatus:
    """Bring the order in line with the provider. Idempotent; safe to call concurrently.

    A read unit before the provider call and a write unit after it: nothing is held
    across the call. Raises the provider's PaymentError (e.g. ProviderUnavailable) when
    it cannot be asked; nothing changes then.
    """
    moment = now
    standing = await db.read(_standing, order_id)
    if standing.checkout_id is None:
        if standing.status is OrderStatus.PENDING and moment > standing.valid_until + EXPIRY_GRACE:
            return await db.write(expire, order_id, local_actor, moment, EXPIRED_NOTE)
        return standing.status
    try:
        outside_units("a call to the payment provider")
        checkout = await provider.fetch_checkout(standing.checkout_id)
    except NotFound:
        # The provider lost the checkout (a sandbox restart; SumUp purges old ones): it
        # can never be paid, so the order expires like any other.
        log.warning("checkout unknown to the provider", extra={"order": order_id})
        return await db.write(expire, order_id, local_actor, moment, VANISHED_NOTE)
    return await db.write(apply_checkout, order_id, checkout, local_actor, moment)


@dataclass
class StepReport:
    reconciled: int = 0
    refunded: int = 0
    needs_refund: int = 0
    errors: list[str] = field(default_factory=list)
    more: bool = False  # the step hit its limit: run it again at once

    def __bool__(self) -> bool:
        # service.loops.repeat runs a step again at once while it returns something true.
        return self.more


@dataclass(frozen=True)
class _RefundAsk:
    """What a leased refund asks the provider about, read in the unit that took the lease."""

    transaction_id: str | None
    checkout_id: str | None
    attempts: int
    paid: Decimal


def _lease_refund(session: Session, order_id: int, now: datetime) -> _RefundAsk | None:
    """A unit: take the refund's lease (None: another worker holds it, or it is done)."""
    statement = claim_statement(
        ShopOrder,
        new_lease(now, REFUND_LEASE),
        now=now,
        due=[ShopOrder.id == order_id, ShopOrder.status == OrderStatus.REFUND_REQUESTED.value],
        order_by=[ShopOrder.id],
        limit=1,
        returning=[ShopOrder.id],
        values={"refund_attempts": ShopOrder.refund_attempts + 1},
    )
    if not session.execute(statement).all():
        return None
    order = moves.reload(session, order_id)
    return _RefundAsk(
        order.transaction_id, order.checkout_id, order.refund_attempts, order.total_amount
    )


def _refund_outcome(
    session: Session,
    order_id: int,
    local_actor: LocalActor,
    now: datetime,
    failure: str | None,
    transient: bool,
) -> OrderStatus:
    """A unit: what the provider said about the refund, kept."""
    if failure is None:
        refunded = moves.transition(
            session, order_id, OrderStatus.REFUNDED, note="Refunded", now=now, **RELEASED
        )
        if refunded is not None:
            moves.move_claims(session, order_id, ClaimState.RELEASED)
            lines, rest = refund_left(session, order_id)
            announce_refunded_sync(
                session, refunded, local_actor, now, lines, rest, refunded.shopper_note
            )
        return OrderStatus.REFUNDED
    if transient:
        order = moves.reload(session, order_id)
        order.lease_token = order.lease_until = None
        return OrderStatus.REFUND_REQUESTED
    log.error("refund failed", extra={"order": order_id, "detail": failure})
    moves.transition(
        session,
        order_id,
        OrderStatus.NEEDS_REFUND,
        note="The refund did not go through; we are looking into it",
        now=now,
        **RELEASED,
        flag=f"refund failed: {failure}",
    )
    return OrderStatus.NEEDS_REFUND


async def carry_out_refund(
    db: Database,
    provider: PaymentProvider,
    order_id: int,
    local_actor: LocalActor,
    *,
    now: datetime,
) -> OrderStatus | None:
    """Refund a refund_requested order through the provider, under a lease so two
    reconcilers never refund twice. None when another worker holds it.

    Once the money is back, the claims are released and `OrderRefunded` naming every
    line tells the peers, in the same transaction: the calendar frees the seats. A unit
    takes the lease, the provider is asked with no unit open, a unit keeps the answer."""
    moment = now
    ask = await db.write(_lease_refund, order_id, moment)
    if ask is None:
        return None
    transaction_id = ask.transaction_id
    failure: str | None = None
    transient = False
    try:
        outside_units("a call to the payment provider")
        checkout = await provider.fetch_checkout(ask.checkout_id) if ask.checkout_id else None
        transaction_id = transaction_id or (checkout.transaction_id if checkout else None)
        done = False
        if (
            transaction_id
            and checkout
            and any(t.status == TransactionStatus.REFUNDED for t in checkout.transactions)
        ):
            # REFUNDED also means "in part": after a partial refund the rest is still
            # owed, so only the provider's refunded total says whether this one was made.
            outside_units("a call to the payment provider")
            seen = await provider.refunded_amount(transaction_id)
            done = seen is not None and seen >= ask.paid
        if not done:
            if transaction_id is None:
                raise PaymentError(f"order {order_id}: no paid transaction to refund")
            outside_units("a call to the payment provider")
            await provider.refund(transaction_id)
    except ProviderUnavailable as error:
        failure, transient = str(error), ask.attempts < MAX_REFUND_ATTEMPTS
    except PaymentError as error:
        failure = str(error)
    return await db.write(_refund_outcome, order_id, local_actor, moment, failure, transient)


@dataclass(frozen=True)
class _Due:
    pending: list[int]
    refunds: list[int]


def _due(session: Session, moment: datetime, poll_after: timedelta, limit: int) -> _Due:
    """A read unit: the pending orders old enough to ask about, and the refunds due."""
    pending = session.execute(
        select(ShopOrder.id)
        .where(
            ShopOrder.status == OrderStatus.PENDING.value,
            ShopOrder.flag.is_(None),
            ShopOrder.created_at <= moment - poll_after,
        )
        .order_by(ShopOrder.id)
        .limit(limit)
    ).scalars()
    refunds = session.execute(
        select(ShopOrder.id)
        .where(ShopOrder.status == OrderStatus.REFUND_REQUESTED.value)
        .order_by(ShopOrder.id)
        .limit(limit)
    ).scalars()
    return _Due(list(pending), list(refunds))


async def reconcile_pending(
    db: Database,
    provider: PaymentProvider,
    local_actor: LocalActor,
    *,
    now: datetime,
    limit: int = 200,
    poll_after: timedelta = POLL_AFTER,
) -> StepReport:
    """One reconciler step: pending orders (lost webhooks, expiry) and due refunds.

    A pending order is asked about only once it is `poll_after` old: before that its
    webhook or return page usually arrive, and each question costs a provider call.
    """
    moment = now
    report = StepReport()
    due = await db.read(_due, moment, poll_after, limit)
    pending, refunds = due.pending, due.refunds
    report.more = len(pending) == limit or len(refunds) == limit
    for order_id in pending:
        try:
            await reconcile(db, provider, order_id, local_actor, now=moment)
            report.reconciled += 1
        except PaymentError as error:
            report.errors.append(f"order {order_id}: {error}")
    for order_id in refunds:
        outcome = await carry_out_refund(db, provider, order_id, local_actor, now=moment)
        if outcome is OrderStatus.REFUNDED:
            report.refunded += 1
        elif outcome is OrderStatus.NEEDS_REFUND:
            report.needs_refund += 1
    partial = await db.read(due_partial_refunds, limit)
    report.more = report.more or len(partial) == limit
    for refund_id in partial:
        state = await carry_out_partial(db, provider, refund_id, local_actor, now=moment)
        report.refunded += state == "done"
        report.needs_refund += state == "failed"
    return report
