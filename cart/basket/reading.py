"""Reading a cart: its lines checked against the mirror as it is now, and the badge's count.

Each takes the caller's session and the `CartOwner`; one Core statement each, built once
per kind of owner.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from cart.basket.carts import CartOwner
from cart.basket.lines import LINES
from cart.basket.totals import CartView, LineSnapshot, build_cart_view
from cart.catalog.rows import ITEMS, PAGES, item_select, item_view_of
from cart.money import Money
from store import direct


@functools.cache
def _cart_query(owner_column: str, lock: bool) -> Select[Any]:
    """An owner's lines with their items and pages (an owner of one kind): built once,
    bound to `:owner` at each view."""
    query = (
        item_select(
            LINES.c.id.label("line_id"),
            LINES.c.quantity.label("line_quantity"),
            LINES.c.unit_amount.label("line_amount"),
            LINES.c.currency.label("line_currency"),
            LINES.c.added_at.label("line_added_at"),
            # What the page row says of its hand-over, so the cart page's checkout forms
            # need no second statement (`view_cart_with_pages_sync`).
            PAGES.c.fulfilment.label("page_fulfilment"),
            joined=LINES.join(ITEMS, ITEMS.c.ap_id == LINES.c.item_ap_id),
        )
        .where(LINES.c[owner_column] == bindparam("owner"))
        .order_by(LINES.c.id)
    )
    return query.with_for_update(of=LINES) if lock else query


def view_cart_sync(
    session: Session, owner: CartOwner, *, now: datetime, lock: bool = False
) -> CartView:
    """The owner's cart, every line checked against the mirror as it is now (a unit).

    One Core statement: the lines joined to their items and pages. `lock=True`
    (checkout) holds the owner's lines (FOR UPDATE on PostgreSQL) until the transaction
    ends, so a second tab cannot change them meanwhile.
    """
    return view_cart_with_pages_sync(session, owner, now=now, lock=lock)[0]


PageSays = dict[str, tuple[str | None, str | None]]


def view_cart_with_pages_sync(
    session: Session, owner: CartOwner, *, now: datetime, lock: bool = False
) -> tuple[CartView, PageSays]:
    """`view_cart_sync`, and what each of its pages' rows says: by page key, the page's
    own name (None if unsaid) and its kept hand-over (`cart.orders.handover.offers_on`),
    read by the same statement."""
    snapshots, items, says = [], {}, {}
    query = _cart_query(owner.column, lock)
    for row in direct.fields(session, query, {"owner": owner.owner_id}):
        snapshots.append(
            LineSnapshot(
                id=row.line_id,
                item_ap_id=row.ap_id,
                quantity=row.line_quantity,
                unit_price=Money(row.line_amount, row.line_currency),
                added_at=row.line_added_at,
            )
        )
        items[row.ap_id] = item_view_of(row, now)
        if row.page_handle is not None:
            says[row.page_handle] = (row.page_name, row.page_fulfilment)
    return build_cart_view(owner, snapshots, items), says


async def view_cart(
    session: AsyncSession, owner: CartOwner, *, now: datetime, lock: bool = False
) -> CartView:
    """`view_cart_sync` in an async session."""
    return await session.run_sync(lambda sync: view_cart_sync(sync, owner, now=now, lock=lock))


def cart_item_count_sync(session: Session, owner: CartOwner) -> int:
    """How many things are in the cart (sum of quantities): the badge, one cheap query."""
    (total,) = direct.rows(session, _count_query(owner.column), {"owner": owner.owner_id})[0]
    return int(total)


@functools.cache
def _count_query(owner_column: str) -> Select[Any]:
    quantities = func.coalesce(func.sum(LINES.c.quantity), 0)
    return select(quantities).where(LINES.c[owner_column] == bindparam("owner"))


async def cart_item_count(session: AsyncSession, owner: CartOwner) -> int:
    return await session.run_sync(cart_item_count_sync, owner)
