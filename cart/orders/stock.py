"""Stock at checkout: the market's last figure, less what our own orders hold unanswered.

A market's stock reaches us as a number in its last `Update` of the product. Between
our `Create(Order)` and the market's answer, that number does not yet count our order,
so two shoppers could both buy the last loaf. At checkout we therefore subtract, from
the mirrored stock, the quantities of our own pending and paid orders that the market
has not answered yet (claim `requested`) and that were placed after that figure was
published. Once the market answers, its `Accept` comes with a new figure (the demo
market's does), and a `Reject` releases the claim: either way we stop counting it.

Timeout policy for a market that never answers (an older peer): its orders go ahead
as before (no answer is not a refusal), and their quantities count against its stock
until it publishes a newer figure, or for `UNANSWERED_FOR` at most (by then its
operator has counted the sale by hand).

Race safety: `place_order` writes the checkout-token row before anything is read, so
on SQLite checkouts are serialised by the database's one writer (the figures read with
the cart's lines are current); on PostgreSQL the product rows are locked here
(`FOR UPDATE`, in IRI order, so two checkouts never wait on each other in a circle) and
their figures read again before the held quantities are counted.

The count: on SQLite each product row keeps it (`held_unanswered`), maintained by
triggers on every write to orders, their items and the product's figure (migration
0025), so a checkout reads one row a product however many orders a silent market left
unanswered. A figure older than UNANSWERED_FOR is counted by the query instead, which
also drops the orders past that age. On PostgreSQL, and for those old figures, the
count is one query on an index of order items by item and claim state that also holds
each line's order and quantity (SQLite reads no order line, only its order).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from cart.basket.totals import LineView
from cart.catalog.models import PRODUCT, CatalogItem
from cart.orders.models import ShopOrder, ShopOrderItem
from cart.orders.states import ClaimState, OrderStatus
from store import direct

UNANSWERED_FOR = timedelta(hours=24)
HOLDING = (OrderStatus.PENDING.value, OrderStatus.PAID.value)


_ITEM_TABLE = cast(Table, ShopOrderItem.__table__)
_ORDER_TABLE = cast(Table, ShopOrder.__table__)
_MIRROR_TABLE = cast(Table, CatalogItem.__table__)
_ITEMS, _ORDERS, _MIRROR = _ITEM_TABLE.c, _ORDER_TABLE.c, _MIRROR_TABLE.c
# Core, built once per process: checkout runs it on every order with a stock figure.
# The products come first (the IN is on their key): SQLite then walks each product's
# unanswered items once, instead of looking the product up again for every item
# (measured on 2,000 such items: 5.6 ms -> 1.9 ms a query).
_HELD = (
    select(_MIRROR.ap_id, func.sum(_ITEMS.quantity))
    .select_from(_MIRROR_TABLE)
    .join(_ITEM_TABLE, _ITEMS.item_ap_id == _MIRROR.ap_id)
    .join(_ORDER_TABLE, _ORDERS.id == _ITEMS.order_id)
    .where(
        _MIRROR.ap_id.in_(bindparam("ap_ids", expanding=True)),
        _ITEMS.claim_state == ClaimState.REQUESTED.value,
        _ORDERS.status.in_(HOLDING),
        _ORDERS.created_at >= func.coalesce(_MIRROR.updated_at, _MIRROR.received_at),
        _ORDERS.created_at >= bindparam("since"),
    )
    .group_by(_MIRROR.ap_id)
)


# SQLite: the running counts of the products whose figure is recent enough that every
# order counted since it is within UNANSWERED_FOR.
_KEPT = select(_MIRROR.ap_id, _MIRROR.held_unanswered).where(
    _MIRROR.ap_id.in_(bindparam("ap_ids", expanding=True)),
    func.coalesce(_MIRROR.updated_at, _MIRROR.received_at) >= bindparam("since"),
)


def held_unanswered(session: Session, ap_ids: Sequence[str], now: datetime) -> Counter[str]:
    """Per product IRI: quantities our orders hold that its market has not answered yet,
    placed after the figure we mirror (and within UNANSWERED_FOR)."""
    since = now - UNANSWERED_FOR
    held: Counter[str] = Counter()
    wanted = list(ap_ids)
    if session.get_bind().dialect.name == "sqlite":
        kept = direct.rows(session, _KEPT, {"ap_ids": wanted, "since": since})
        held.update({ap_id: int(count) for ap_id, count in kept if count})
        found = {ap_id for ap_id, _ in kept}
        wanted = [ap_id for ap_id in wanted if ap_id not in found]
    if wanted:
        held.update(counted_held(session, wanted, now))
    return held


def counted_held(session: Session, ap_ids: Sequence[str], now: datetime) -> Counter[str]:
    """The same figure as `held_unanswered`, always by the query (what the running count
    must equal)."""
    rows = direct.rows(session, _HELD, {"ap_ids": list(ap_ids), "since": now - UNANSWERED_FOR})
    return Counter({ap_id: int(held) for ap_id, held in rows})


def short_lines(
    session: Session, lines: Sequence[LineView], now: datetime
) -> list[tuple[LineView, int]]:
    """The product lines that want more than is left once our unanswered orders are
    counted, each with what is left (0: sold out)."""
    stock = {line.item.ap_id: line.item.stock for line in lines if line.item.kind == PRODUCT}
    counted = sorted(ap_id for ap_id, figure in stock.items() if figure)
    if not counted:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # Lock the products, then read their figures again: they may have moved while
        # we waited for another checkout's lock.
        locked = session.execute(
            select(CatalogItem.ap_id, CatalogItem.stock)
            .where(CatalogItem.ap_id.in_(counted))
            .order_by(CatalogItem.ap_id)
            .with_for_update()
        )
        stock.update({ap_id: figure for ap_id, figure in locked})
    held = held_unanswered(session, counted, now)
    left = {ap_id: max(0, (stock[ap_id] or 0) - held[ap_id]) for ap_id in counted}
    return [
        (line, left[line.item.ap_id])
        for line in lines
        if line.item.ap_id in left and line.quantity > left[line.item.ap_id]
    ]
