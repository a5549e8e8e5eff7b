"""Keeping only the newest rows of a kind: what the clean-up loop's count caps share.

A cap is two steps: find the boundary (`nth_newest`: the oldest row still kept, by the
cap's ordering columns, the last of which is unique so that no two rows tie), then
delete what orders before it (`delete_older`). `keep_newest` does both as the clean-up
loop runs them: the boundary read on a reader's snapshot, so the scan holds no write
lock, then the delete in units of at most CHUNK rows each, so that on SQLite, where the
write lock covers the whole file, a first round after a flood never holds every other
write back for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from store.engine import Database

CHUNK = 1_000

Order = Sequence[InstrumentedAttribute[Any]]


def nth_newest(
    session: Session, order: Order, kind: ColumnElement[bool], n: int
) -> tuple[Any, ...] | None:
    """The `order` values of the `n`-th newest row of `kind` (newest by `order`); None if
    there are fewer than `n`."""
    query = select(*order).where(kind).order_by(*(column.desc() for column in order))
    row = session.execute(query.offset(n - 1).limit(1)).first()
    return tuple(row) if row is not None else None


def delete_older(
    session: Session,
    model: type[Any],
    order: Order,
    kind: ColumnElement[bool],
    boundary: tuple[Any, ...],
    limit: int | None = None,
) -> int:
    """Delete the rows of `kind` that order before `boundary` (at most `limit` of them);
    returns how many."""
    older = order[0] < boundary[0] if len(order) == 1 else tuple_(*order) < tuple_(*boundary)
    (key,) = model.__mapper__.primary_key
    chosen = select(key).where(kind, older)
    if limit is not None:
        chosen = chosen.limit(limit)
    result = session.execute(
        delete(model)
        .where(key.in_(chosen.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def keep_newest(
    db: Database, model: type[Any], order: Order, kind: ColumnElement[bool], keep: int
) -> int:
    """Delete all but the newest `keep` rows of `kind`; returns how many went."""
    boundary = await db.read(nth_newest, order, kind, keep)
    removed = 0
    while boundary is not None:
        deleted = await db.write(delete_older, model, order, kind, boundary, CHUNK)
        removed += deleted
        if deleted < CHUNK:
            break
    return removed
