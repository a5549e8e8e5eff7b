"""The shopper cancels an unpaid order: its lines go back in the cart, its peers are told.

Before, an unpaid order could only be left to expire (30 minutes), holding the seats
it asked for all that time. `cancel_unpaid` voids a pending order through the one void
path (`void_order`: claims released, `OrderCancelled` published in this transaction)
and puts its lines back in the shopper's cart, so changing one's mind costs nothing.

If the shopper pays on the provider's hosted page after cancelling, the reconciler
sees money on a void order and refunds it (cart.orders.reconcile), as for any late
payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from actor.identity import LocalActor
from cart.basket.carts import CartOwner
from cart.basket.lines import restore_line_sync
from cart.exceptions import CartError
from cart.orders import moves
from cart.orders.orders import shopper_order_sync
from cart.orders.states import OrderStatus

CANCELLED_NOTE = "You cancelled this order. No payment was taken."


class NotCancellable(CartError):
    default_message = "This order can no longer be cancelled."


@dataclass(frozen=True)
class Cancelled:
    number: str
    not_restored: tuple[str, ...]  # "name: why", for lines that could not go back


def cancel_unpaid(
    session: Session,
    owner: CartOwner,
    number: str,
    local_actor: LocalActor,
    *,
    now: datetime,
) -> Cancelled:
    """A unit: cancel the shopper's own pending order; raises OrderNotFound (not theirs)
    or NotCancellable (paid, or already void), and then nothing it did is kept."""
    moment = now
    detail = shopper_order_sync(session, owner, number)
    if detail.status is not OrderStatus.PENDING:
        raise NotCancellable(
            f"Order {detail.number} is {detail.status.value.replace('_', ' ')}, "
            "so it cannot be cancelled."
        )
    voided = moves.void_order(
        session,
        detail.order.id,
        OrderStatus.CANCELLED,
        local_actor,
        note="Cancelled by the shopper",
        shopper_note=CANCELLED_NOTE,
        summary="Cancelled by the shopper",
        now=moment,
    )
    if voided is None:
        raise NotCancellable()
    not_restored = []
    for item in moves.items_of(session, detail.order.id):
        why = restore_line_sync(session, owner, item.item_ap_id, item.quantity, moment)
        if why is not None:
            not_restored.append(f"{item.name}: {why}")
    return Cancelled(detail.number, tuple(not_restored))
