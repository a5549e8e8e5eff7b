"""A partial refund is made once, whatever crashes: the intent first, the provider's books after.

SumUp's refund call (`POST /v1.0/merchants/{code}/payments/{id}/refunds`) takes no
idempotency key, and a process can die between the provider's 201 and our COMMIT. So:

- the refund is an `order_refunds` row (its id the stable reference) before anything is
  sent; `claim_partial` leases it and counts the attempt in a committed unit, and only
  then is the provider asked. One refund of an order is in flight at a time: a later one
  waits until every earlier one is done or failed, so the provider's total for the
  payment tells the in-doubt one apart;
- an attempt after the first (the last one died, or lost the provider's answer) first
  asks the provider how much of the payment has gone back (`refunded_amount`, SumUp's
  transaction events of type REFUND) and compares it with our books
  (`made_before`): what our done refunds add up to means "not made yet", that plus this
  refund means "made: record it", anything else is left to the operator, unrefunded;
- the lease (two minutes) outlasts the provider calls (ten seconds each), so a takeover
  never overlaps a call still in flight.

Once a refund is recorded, a line refunded in full has its claim released
(`release_refunded_lines`); the peers hear of it by the `OrderRefunded` naming the lines.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from cart.money import Money
from cart.orders.models import OrderRefund, ShopOrder, ShopOrderItem
from cart.orders.states import CLAIM, ClaimState
from payments import PaymentError, PaymentProvider
from store.held import outside_units

REQUESTED, DONE = "requested", "done"


def lines_of(refund: OrderRefund) -> list[tuple[int, int]]:
    """(order item id, quantity) refunded by this refund."""
    return [(int(item_id), int(quantity)) for item_id, quantity in json.loads(refund.lines)]


@dataclass(frozen=True)
class PartialAsk:
    """One leased attempt at a partial refund, with what our books say went back before."""

    refund_id: int
    order_id: int
    transaction_id: str | None
    amount: Decimal
    currency: str
    attempts: int  # this one included: 1 means nothing can have been sent before
    refunded_before: Decimal


def _done_amount(session: Session, order_id: int) -> Decimal:
    amounts = session.execute(
        select(OrderRefund.amount).where(
            OrderRefund.order_id == order_id, OrderRefund.state == DONE
        )
    ).scalars()
    return sum(amounts, Decimal(0))


def claim_partial(
    session: Session, refund_id: int, now: datetime, lease: timedelta
) -> PartialAsk | None:
    """Lease a requested refund (None: another worker holds it, or an earlier refund of
    the same order is still in flight) and count the attempt; committed before any call."""
    earlier = aliased(OrderRefund)
    waiting_behind = exists().where(
        earlier.order_id == OrderRefund.order_id,
        earlier.state == REQUESTED,
        earlier.id < OrderRefund.id,
    )
    claimed = session.execute(
        update(OrderRefund)
        .where(
            OrderRefund.id == refund_id,
            OrderRefund.state == REQUESTED,
            or_(OrderRefund.lease_until.is_(None), OrderRefund.lease_until < now),
            ~waiting_behind,
        )
        .values(lease_until=now + lease, attempts=OrderRefund.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    refund = session.get(OrderRefund, refund_id, populate_existing=True)
    assert refund is not None  # noqa: S101 - claimed just now
    order = session.get(ShopOrder, refund.order_id)
    assert order is not None  # noqa: S101 - a refund belongs to an order
    return PartialAsk(
        refund_id=refund_id,
        order_id=order.id,
        transaction_id=order.transaction_id,
        amount=refund.amount,
        currency=refund.currency,
        attempts=refund.attempts,
        refunded_before=_done_amount(session, order.id),
    )


async def made_before(provider: PaymentProvider, ask: PartialAsk) -> bool:
    """Whether an earlier attempt's refund reached the provider, from its books and ours.

    Raises PaymentError when they do not add up either way: the operator looks first."""
    assert ask.transaction_id is not None  # noqa: S101 - checked by the caller
    outside_units("a call to the payment provider")
    seen = await provider.refunded_amount(ask.transaction_id)
    if seen is None:
        raise PaymentError("the provider cannot say how much of the payment was refunded")
    if seen == ask.refunded_before + ask.amount:
        return True
    if seen == ask.refunded_before:
        return False
    raise PaymentError(
        f"the provider shows {seen} refunded where our books expect {ask.refunded_before} "
        f"before this refund of {ask.amount}: check the payment before refunding again"
    )


def _refunded_quantities(session: Session, order_id: int) -> Counter[int]:
    """order item id -> quantity that done partial refunds gave back."""
    refunded: Counter[int] = Counter()
    done = session.execute(
        select(OrderRefund).where(OrderRefund.order_id == order_id, OrderRefund.state == DONE)
    ).scalars()
    for refund in done:
        for item_id, quantity in lines_of(refund):
            refunded[item_id] += quantity
    return refunded


def release_refunded_lines(session: Session, order_id: int) -> int:
    """Release the claims of the lines that done refunds gave back in full; how many moved.

    A line refunded in part keeps its claim (a claim is per line): the peer restocks or
    frees the refunded quantity from the `OrderRefunded` it was sent."""
    refunded = _refunded_quantities(session, order_id)
    items = session.execute(
        select(ShopOrderItem.id, ShopOrderItem.quantity).where(ShopOrderItem.order_id == order_id)
    ).all()
    whole = [item_id for item_id, quantity in items if refunded[item_id] >= quantity]
    if not whole:
        return 0
    result = session.execute(
        update(ShopOrderItem)
        .where(
            ShopOrderItem.id.in_(whole),
            ShopOrderItem.claim_state.in_(CLAIM.sources_for(ClaimState.RELEASED)),
        )
        .values(claim_state=ClaimState.RELEASED.value)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def refund_left(session: Session, order_id: int) -> tuple[list[tuple[ShopOrderItem, int]], Money]:
    """What a refund of "all that is left" gives back: each line less what done partial
    refunds took, and the amount paid less theirs (the `OrderRefunded` of a whole refund
    names only these, so a peer never releases a line twice)."""
    order = session.get(ShopOrder, order_id)
    assert order is not None  # noqa: S101 - the caller holds it
    taken = _refunded_quantities(session, order_id)
    items = session.execute(
        select(ShopOrderItem)
        .where(ShopOrderItem.order_id == order_id)
        .order_by(ShopOrderItem.position)
    ).scalars()
    lines = [(item, item.quantity - taken[item.id]) for item in items]
    left = order.total_amount - _done_amount(session, order_id)
    return [(item, n) for item, n in lines if n > 0], Money(left, order.currency)
