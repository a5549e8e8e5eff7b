"""Cart lines: add, change quantity, accept a new price, remove, and take them out at
checkout (reading a cart is `cart.basket.reading`).

Every function takes the caller's session (one unit of work per request) and the
`CartOwner` from the shopper's session. A line id that is not the owner's raises
`LineNotFound` before anything is changed, so another shopper's ids behave exactly like
ids that never existed. A calendar entry is in a cart at most once, with quantity 1;
a product's quantity is bounded by its stock when the market gives one. When we hold
back from what the shopper asked, the returned `LineChange.notice` says so.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Delete, Select, Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from cart.basket.carts import CartLine, CartOwner
from cart.catalog.mirror import unavailable_reason
from cart.catalog.models import ENTRY, CatalogItem, ItemRow
from cart.catalog.rows import ITEM_COLUMNS, ITEMS
from cart.exceptions import InvalidQuantity, ItemNotAvailable, ItemNotFound, LineNotFound
from store import direct

MAX_QUANTITY = 999
LINES = cast(Table, CartLine.__table__)


@dataclass(frozen=True)
class LineChange:
    line_id: int | None  # None when the line is gone (quantity set to 0)
    quantity: int
    notice: str | None = None  # what we did differently from what was asked, for the shopper
    item_name: str | None = None  # the item's, when the change loaded it (add)
    item_key: str | None = None


def _check_quantity(quantity: int, minimum: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity()
    if quantity < minimum or quantity > MAX_QUANTITY:
        raise InvalidQuantity(f"Please choose a quantity from {minimum} to {MAX_QUANTITY}.")


def _limit(item: ItemRow) -> int | None:
    return item.stock  # seats left for an entry, units left for a product


def _bounded(item: ItemRow, wanted: int) -> tuple[int, str | None]:
    limit = _limit(item)
    if limit is None or wanted <= limit:
        return wanted, None
    if item.kind == ENTRY:
        seats = "seat" if limit == 1 else "seats"
        return limit, f"Only {limit} {seats} left for {item.name}, so your cart has {limit}."
    return limit, f"Only {limit} of {item.name} left, so your cart has {limit}."


def _buyable(session: Session, item_ap_id: str, now: datetime) -> CatalogItem:
    item = session.get(CatalogItem, item_ap_id)
    if item is None:
        raise ItemNotFound()
    _check_buyable(item, now)
    return item


def _check_buyable(item: ItemRow, now: datetime) -> None:
    reason = unavailable_reason(item, now)
    if reason is not None:
        raise ItemNotAvailable(f"{item.name}: {reason}")


def _owned_line(session: Session, owner: CartOwner, line_id: int) -> CartLine:
    line = session.execute(
        select(CartLine).where(CartLine.id == line_id, owner.clause()).with_for_update()
    ).scalar()
    if line is None:
        raise LineNotFound()
    return line


def _line_for_item(session: Session, owner: CartOwner, item_ap_id: str) -> CartLine | None:
    query = select(CartLine).where(owner.clause(), CartLine.item_ap_id == item_ap_id)
    return session.execute(query.with_for_update()).scalar()


@functools.cache
def _new_line(dialect: str, owner_column: str) -> Any:
    """INSERT a line for an owner of one kind, ON CONFLICT DO NOTHING, RETURNING its id:
    built once per dialect and owner column (built anew at each add, it cost ~280 µs of
    a new line's ~450 in the writer), bound at each add."""
    return (
        (postgresql if dialect == "postgresql" else sqlite)
        .insert(LINES)
        .values(
            {
                owner_column: bindparam("owner"),
                "item_ap_id": bindparam("item"),
                "quantity": bindparam("quantity"),
                "unit_amount": bindparam("amount"),
                "currency": bindparam("code"),
                "added_at": bindparam("now"),
                "updated_at": bindparam("now"),
            }
        )
        .on_conflict_do_nothing(index_elements=[owner_column, "item_ap_id"])
        .returning(LINES.c.id)
    )


def _insert_line(
    session: Session, owner: CartOwner, item: ItemRow, quantity: int, now: datetime
) -> int | None:
    """The new line's id, or None when the owner already has one for this item.

    ON CONFLICT DO NOTHING: two tabs adding the same item at once make one line, and
    the loser merges into it instead of failing on the unique constraint.
    """
    statement = _new_line(session.get_bind().dialect.name, owner.column)
    params = {
        "owner": owner.owner_id,
        "item": item.ap_id,
        "quantity": quantity,
        "amount": item.price_amount,
        "code": item.price_currency,
        "now": now,
    }
    row = direct.first(session, statement, params)
    return None if row is None else int(row[0])


def add_line_sync(
    session: Session, owner: CartOwner, item_ap_id: str, quantity: int = 1, *, now: datetime
) -> LineChange:
    """Put `quantity` of an item in the cart (adding to a line already there).

    Raises ItemNotFound, ItemNotAvailable (withdrawn, unavailable, sold out, started)
    or InvalidQuantity. Adding refreshes the line's price to the current one: the
    shopper has just been shown it. Two Core statements: the item with the owner's line
    for it, then the INSERT or the UPDATE. The UPDATE changes the line only if its
    quantity is still the one read, so a second tab adding at the same moment (possible
    on PostgreSQL) makes this one read again rather than lose either add.
    """
    _check_quantity(quantity, 1)
    for _ in range(3):
        change = _add_once(session, owner, item_ap_id, quantity, now)
        if change is not None:
            return change
    raise ItemNotAvailable()  # pragma: no cover - three races in a row with other tabs


@functools.cache
def _item_and_line(owner_column: str) -> Select[Any]:
    """An item and the owner's line for it (an owner of one kind): built once, bound
    to `:item` and `:owner` at each add."""
    mine = (LINES.c.item_ap_id == ITEMS.c.ap_id) & (LINES.c[owner_column] == bindparam("owner"))
    return (
        select(*ITEM_COLUMNS, LINES.c.id.label("line_id"), LINES.c.quantity.label("held"))
        .select_from(ITEMS.outerjoin(LINES, mine))
        .where(ITEMS.c.ap_id == bindparam("item"))
    )


_ADD_TO_LINE = (
    update(LINES)
    .where(LINES.c.id == bindparam("line"), LINES.c.quantity == bindparam("held"))
    .values(
        quantity=bindparam("wanted"),
        unit_amount=bindparam("amount"),
        currency=bindparam("code"),
        updated_at=bindparam("now"),
    )
)


def _add_once(
    session: Session, owner: CartOwner, item_ap_id: str, quantity: int, now: datetime
) -> LineChange | None:
    found = direct.fields(
        session, _item_and_line(owner.column), {"owner": owner.owner_id, "item": item_ap_id}
    )
    if not found:
        raise ItemNotFound()
    row = found[0]
    _check_buyable(row, now)
    if row.line_id is None:
        wanted, notice = _bounded(row, quantity)
        line_id = _insert_line(session, owner, row, wanted, now)
        return LineChange(line_id, wanted, notice, row.name, row.key) if line_id else None
    wanted, notice = _bounded(row, min(row.held + quantity, MAX_QUANTITY))
    changed = direct.execute(
        session,
        _ADD_TO_LINE,
        {
            "line": row.line_id,
            "held": row.held,
            "wanted": wanted,
            "amount": row.price_amount,
            "code": row.price_currency,
            "now": now,
        },
    )
    if changed != 1:
        return None  # pragma: no cover - another tab changed the line: read it again
    return LineChange(row.line_id, wanted, notice, row.name, row.key)


async def add_line(
    session: AsyncSession,
    owner: CartOwner,
    item_ap_id: str,
    quantity: int = 1,
    *,
    now: datetime,
) -> LineChange:
    return await session.run_sync(add_line_sync, owner, item_ap_id, quantity, now=now)


def restore_line_sync(
    session: Session, owner: CartOwner, item_ap_id: str, quantity: int, now: datetime
) -> str | None:
    """Put `quantity` of an item back in the cart, from an order the shopper cancelled.

    Not bounded by the stock or seats left: they still count what that order held. An
    item that can no longer be bought for another reason is not put back: the answer
    says why, for the shopper (None when it went back).
    """
    item = session.get(CatalogItem, item_ap_id)
    if item is None:
        return "It is no longer offered."
    reason = unavailable_reason(item, now, counting_stock=False)
    if reason is not None:
        return reason
    existing = _line_for_item(session, owner, item.ap_id)
    if existing is None and _insert_line(session, owner, item, quantity, now) is not None:
        return None
    existing = existing or _line_for_item(session, owner, item.ap_id)
    if existing is not None:
        existing.quantity = min(existing.quantity + quantity, MAX_QUANTITY)
        existing.updated_at = now
        session.flush()
    return None


def set_quantity_sync(
    session: Session, owner: CartOwner, line_id: int, quantity: int, *, now: datetime
) -> LineChange:
    """Set a line's quantity; 0 removes it. The price stays the one the shopper saw."""
    _check_quantity(quantity, 0)
    line = _owned_line(session, owner, line_id)
    if quantity == 0:
        session.delete(line)
        session.flush()
        return LineChange(None, 0)
    item = session.get(CatalogItem, line.item_ap_id)
    assert item is not None  # a foreign key, and mirror rows are never deleted
    wanted, notice = _bounded(item, quantity)
    line.quantity, line.updated_at = wanted, now
    session.flush()
    return LineChange(line.id, wanted, notice)


async def set_quantity(
    session: AsyncSession, owner: CartOwner, line_id: int, quantity: int, *, now: datetime
) -> LineChange:
    return await session.run_sync(set_quantity_sync, owner, line_id, quantity, now=now)


def accept_current_price_sync(
    session: Session, owner: CartOwner, line_id: int, *, now: datetime
) -> LineChange:
    """The shopper agrees to the item's price now (after a price change)."""
    moment = now
    line = _owned_line(session, owner, line_id)
    item = _buyable(session, line.item_ap_id, moment)
    line.unit_amount, line.currency, line.updated_at = (
        item.price_amount,
        item.price_currency,
        moment,
    )
    session.flush()
    return LineChange(line.id, line.quantity, None)


async def accept_current_price(
    session: AsyncSession, owner: CartOwner, line_id: int, *, now: datetime
) -> LineChange:
    return await session.run_sync(accept_current_price_sync, owner, line_id, now=now)


def remove_line_sync(session: Session, owner: CartOwner, line_id: int) -> None:
    result = session.execute(
        delete(CartLine)
        .where(CartLine.id == line_id, owner.clause())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LineNotFound()


async def remove_line(session: AsyncSession, owner: CartOwner, line_id: int) -> None:
    await session.run_sync(remove_line_sync, owner, line_id)


@functools.cache
def _detach(owner_column: str) -> Delete:
    """Delete the owner's lines among `:ids` (Core, built once per kind of owner)."""
    return delete(LINES).where(
        LINES.c.id.in_(bindparam("ids", expanding=True)),
        LINES.c[owner_column] == bindparam("owner"),
    )


def detach_lines_sync(session: Session, owner: CartOwner, line_ids: Iterable[int]) -> int:
    """Take these lines out of the owner's cart (at checkout, once the order holds them)."""
    ids = list(line_ids)
    if not ids:
        return 0
    return direct.execute(session, _detach(owner.column), {"ids": ids, "owner": owner.owner_id})


async def detach_lines(session: AsyncSession, owner: CartOwner, line_ids: Iterable[int]) -> int:
    """`detach_lines_sync` in an async session."""
    return await session.run_sync(detach_lines_sync, owner, list(line_ids))
