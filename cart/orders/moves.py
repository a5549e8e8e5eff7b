"""An order's moves as plain functions on a sync `Session`: for units of work and inbox handlers.

`transition` is the only way an order's status changes: a conditional UPDATE ("... WHERE
status IN (the states the machine allows this move from)"), so when two callers race
exactly one moves the order and the other learns it was already done. Claims move the
same way (`move_claims`). Each change is recorded in `order_status_history` and, where
peers must hear of it, announced through the transactional outbox in the same
transaction (`announce`). The inbox worker runs these directly in its unit (the claim
handlers, cart/orders/claims.py); cart/orders/orders.py offers them to async callers not
yet converted, through `run_sync`, so there is one copy of each rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from actor.identity import LocalActor
from cart.exceptions import NotFound
from cart.orders.contact import queue_status_mail
from cart.orders.models import OrderLine, OrderStatusChange, ShopOrder, ShopOrderItem
from cart.orders.states import CLAIM, ORDER, ClaimState, OrderStatus
from outbox.publish import new_activity_id, publish_sync
from store import direct
from store.exceptions import IllegalTransition
from vocab import builders


class OrderNotFound(NotFound):
    default_message = "We could not find that order."


_NEW_CHANGE = insert(cast(Table, OrderStatusChange.__table__))


def record(session: Session, order_id: int, status: str, note: str | None, now: datetime) -> None:
    """One line of the order's history (a Core INSERT: checkout waits on it)."""
    values = {"order_id": order_id, "status": status, "at": now, "note": note}
    direct.execute(session, _NEW_CHANGE, values)


def reload(session: Session, order_id: int) -> ShopOrder:
    query = select(ShopOrder).where(ShopOrder.id == order_id)
    order = session.execute(query.execution_options(populate_existing=True)).scalar()
    if order is None:
        raise OrderNotFound()
    return order


def order_by_ap_id(session: Session, ap_id: str) -> ShopOrder | None:
    return session.execute(select(ShopOrder).where(ShopOrder.ap_id == ap_id)).scalar()


def items_of(session: Session, order_id: int) -> tuple[ShopOrderItem, ...]:
    query = select(ShopOrderItem).where(ShopOrderItem.order_id == order_id)
    return tuple(session.execute(query.order_by(ShopOrderItem.position)).scalars())


def transition(
    session: Session,
    /,
    order_id: int,
    target: OrderStatus,
    *,
    note: str | None = None,
    now: datetime,
    **changes: Any,
) -> ShopOrder | None:
    """Move the order to `target` (setting `changes` too), exactly once.

    Returns the order when this call made the move; None when the order already is
    in `target` (another caller won the race). Raises IllegalTransition when the
    machine does not allow the move from where the order is.
    """
    result = session.execute(
        update(ShopOrder)
        .where(ShopOrder.id == order_id, ShopOrder.status.in_(ORDER.sources_for(target)))
        .values(status=target.value, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        record(session, order_id, target.value, note, now)
        moved = reload(session, order_id)
        queue_status_mail(session, moved, target.value, now)
        return moved
    current = reload(session, order_id).status
    if current == target.value:
        return None
    raise IllegalTransition(ORDER.name, current, target.value)


def move_claims(
    session: Session,
    order_id: int,
    target: ClaimState,
    *,
    owner: str | None = None,
) -> int:
    """Move every claim of the order (of one calendar when `owner` is given) that the
    claim machine lets reach `target`; returns how many moved. Claims already past
    that point are left alone: a late Accept does not undo a release."""
    query = (
        update(ShopOrderItem)
        .where(
            ShopOrderItem.order_id == order_id,
            ShopOrderItem.claim_state.in_(CLAIM.sources_for(target)),
        )
        .values(claim_state=target.value)
        .execution_options(synchronize_session=False)
    )
    if owner is not None:
        query = query.where(ShopOrderItem.ap_actor_id == owner)
    result = session.execute(query)
    return int(result.rowcount)  # type: ignore[attr-defined]


def addressing(items: Iterable[OrderLine], local_actor: LocalActor) -> tuple[list[str], list[str]]:
    return builders.order_addressing(
        followers=local_actor.followers, owners=[item.ap_actor_id for item in items]
    )


def announce(
    session: Session,
    /,
    order: ShopOrder,
    local_actor: LocalActor,
    now: datetime,
    build: Callable[..., dict[str, Any]],
    **fields: Any,
) -> None:
    """Publish `build(...)` about the order, addressed as every order activity is."""
    to, cc = addressing(items_of(session, order.id), local_actor)
    document = build(
        actor=local_actor.id,
        order_id=order.ap_id,
        to=to,
        cc=cc,
        activity_id=new_activity_id(local_actor),
        published=now.replace(microsecond=0),
        **fields,
    )
    publish_sync(session, document, now=now)


def announce_cancelled(
    session: Session,
    order: ShopOrder,
    local_actor: LocalActor,
    now: datetime,
    summary: str | None = None,
) -> None:
    announce(session, order, local_actor, now, builders.order_cancelled, summary=summary)


def void_order(
    session: Session,
    order_id: int,
    target: OrderStatus,
    local_actor: LocalActor,
    *,
    note: str,
    shopper_note: str | None = None,
    summary: str | None = None,
    now: datetime,
) -> ShopOrder | None:
    """pending -> expired/cancelled/failed: release the claims and publish OrderCancelled,
    once. Returns the order if this call voided it."""
    changes: dict[str, Any] = {}
    if shopper_note is not None:
        changes["shopper_note"] = shopper_note
    order = transition(session, order_id, target, note=note, now=now, **changes)
    if order is None:
        return None
    move_claims(session, order_id, ClaimState.RELEASED)
    announce_cancelled(session, order, local_actor, now, summary or note)
    return order
