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
on SQLite checkouts are serialised by the database's one writer; on PostgreSQL the
product rows are locked here (`FOR UPDATE`, in IRI order, so two checkouts never wait
on each other in a circle) before their held quantities are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cart.basket.totals import LineView
from cart.catalog.models import PRODUCT, CatalogItem
from cart.orders.models import ShopOrder, ShopOrderItem
from cart.orders.states import ClaimState, OrderStatus

UNANSWERED_FOR = timedelta(hours=24)
HOLDING = (OrderStatus.PENDING.value, OrderStatus.PAID.value)


async def held_unanswered(
    session: AsyncSession, items: Sequence[CatalogItem], now: datetime
) -> Counter[str]:
    """Per product IRI: quantities our orders hold that its market has not answered yet,
    placed after the figure we mirror (and within UNANSWERED_FOR)."""
    held: Counter[str] = Counter()
    for item in items:
        since = max(item.updated_at or item.received_at, now - UNANSWERED_FOR)
        query = (
            select(func.coalesce(func.sum(ShopOrderItem.quantity), 0))
            .join(ShopOrder, ShopOrder.id == ShopOrderItem.order_id)
            .where(
                ShopOrderItem.item_ap_id == item.ap_id,
                ShopOrderItem.claim_state == ClaimState.REQUESTED.value,
                ShopOrder.status.in_(HOLDING),
                ShopOrder.created_at >= since,
            )
        )
        held[item.ap_id] = int((await session.execute(query)).scalar_one())
    return held


async def short_lines(
    session: AsyncSession, lines: Sequence[LineView], now: datetime
) -> list[tuple[LineView, int]]:
    """The product lines that want more than is left once our unanswered orders are
    counted, each with what is left (0: sold out)."""
    counted = sorted(
        {line.item.ap_id for line in lines if line.item.kind == PRODUCT and line.item.stock}
    )
    if not counted:
        return []
    rows = await session.execute(
        select(CatalogItem)
        .where(CatalogItem.ap_id.in_(counted))
        .order_by(CatalogItem.ap_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    items = list(rows.scalars())
    held = await held_unanswered(session, items, now)
    left = {item.ap_id: max(0, (item.stock or 0) - held[item.ap_id]) for item in items}
    return [
        (line, left[line.item.ap_id])
        for line in lines
        if line.item.ap_id in left and line.quantity > left[line.item.ap_id]
    ]
