"""Claims over federation: a calendar's or market's Accept or Reject of one of our orders.

Our `Create(Order)` asks each calendar and market that owns an item in the order to
hold it (seats, stock). The peer answers with an `Accept` or a `Reject` whose `object`
is the order's IRI:

- Accept: that peer's items in the order are claimed (confirmed if already paid).
- Reject before payment: the order fails, no money is taken, the shopper is shown the
  peer's `summary`, and `OrderCancelled` releases the other claims.
- Reject after payment: the order goes to refund_requested and `OrderCancelled` is
  published. The refund itself needs the network, which a handler must not use
  (it runs in the inbox worker's transaction), so the reconciler step carries it out.

A peer that never answers (an older market) does not hold the order up: it can be paid
as before, and cart.orders.stock counts its unanswered quantities against the mirrored
stock (docs/protocol.md, "Claims"). The inbox hands an Accept or Reject here only when
its object is the IRI of one of our orders and the sender owns an item in it
(`AnsweredOrder`); any other answer for an order is logged and ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Self

from sqlalchemy import select
from sqlalchemy.orm import Session

from actor.identity import LocalActor
from actor.incoming import Handler, HandlerRegistrar, IncomingActivity, Referent
from actor.roles import PeerRole
from cart.orders.models import ShopOrder, ShopOrderItem
from cart.orders.moves import (
    announce_cancelled,
    move_claims,
    order_by_ap_id,
    record,
    transition,
    void_order,
)
from cart.orders.states import ClaimState, OrderStatus
from vocab.model import Accept, Reject

log = logging.getLogger("rose_cart.cart.orders.claims")
CALENDAR, MARKET = PeerRole.CALENDAR, PeerRole.MARKET
MAX_SUMMARY = 300


@dataclass(frozen=True)
class AnsweredOrder(Referent):
    """One of our orders, answered by a peer that owns an item in it."""

    order: ShopOrder

    @classmethod
    def find(cls, session: Session, incoming: IncomingActivity) -> Self | None:
        target = incoming.activity.object
        if not isinstance(target, str):
            return None  # an embedded Follow: never an order
        order = order_by_ap_id(session, target)
        if order is None:
            return None
        owns = (
            session.execute(
                select(ShopOrderItem.id)
                .where(
                    ShopOrderItem.order_id == order.id,
                    ShopOrderItem.ap_actor_id == incoming.ap_actor_id,
                )
                .limit(1)
            )
        ).scalar()
        if owns is None:
            log.warning(
                "answer for an order from an actor owning none of its items",
                extra={"ap_id": incoming.ap_id, "order": order.id},
            )
            return None
        return cls(order)


def _reason(summary: str | None) -> str:
    text = " ".join((summary or "").split())[:MAX_SUMMARY]
    return text or "The seller could not take this order."


def make_claim_handlers(local_actor: LocalActor) -> tuple[Handler, Handler]:
    """`(handle_accept_order, handle_reject_order)`, at the worker's `now`."""

    def handle_accept_order(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        order = delivery.referent.order
        moved = move_claims(session, order.id, ClaimState.CLAIMED, owner=delivery.ap_actor_id)
        if moved and order.status == OrderStatus.PAID:
            move_claims(session, order.id, ClaimState.CONFIRMED, owner=delivery.ap_actor_id)
        if moved:
            record(session, order.id, order.status, "Accepted by the seller", now)

    def handle_reject_order(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        activity: Reject = delivery.activity
        order = delivery.referent.order
        sender = delivery.ap_actor_id
        reason = _reason(activity.summary)
        note = f"{order.page_name} could not take your order: {reason}"
        move_claims(session, order.id, ClaimState.REJECTED, owner=sender)
        status = OrderStatus(order.status)
        if status is OrderStatus.PENDING:
            void_order(
                session,
                order.id,
                OrderStatus.FAILED,
                local_actor,
                note=note,
                shopper_note=note + " No payment was taken.",
                summary=reason,
                now=now,
            )
        elif status is OrderStatus.PAID:
            refunding = transition(
                session,
                order.id,
                OrderStatus.REFUND_REQUESTED,
                note=note + " Your payment will be refunded.",
                shopper_note=note + " Your payment will be refunded.",
                now=now,
            )
            if refunding is not None:
                move_claims(session, order.id, ClaimState.RELEASED)
                announce_cancelled(session, refunding, local_actor, now, reason)
        else:
            log.info("Reject for an order that is %s", status, extra={"order": order.id})

    return handle_accept_order, handle_reject_order


def register_claim_handlers(registry: HandlerRegistrar, *, local_actor: LocalActor) -> None:
    """Accept/Reject of one of our orders, from calendar and market peers (called once by
    service/)."""
    accept, reject = make_claim_handlers(local_actor)
    registry.register(Accept, AnsweredOrder, accept, senders={CALENDAR, MARKET})
    registry.register(Reject, AnsweredOrder, reject, senders={CALENDAR, MARKET})
