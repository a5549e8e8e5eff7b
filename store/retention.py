"""Keeping only the newest rows of a kind: what the clean-up loop's count caps share.

A cap is two steps: find the boundary (`nth_newest`: the value, in the ordering column,
of the oldest row still kept), then delete what is older (`delete_older`). The clean-up
loop may find the boundary on a reader's snapshot and delete in a write unit, so the
scan holds no write lock; rows tied with the boundary are kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session


def nth_newest(
    session: Session, column: InstrumentedAttribute[Any], kind: ColumnElement[bool], n: int
) -> Any | None:
    """`column`'s value in the `n`-th newest row of `kind` (newest by `column`); None if
    there are fewer than `n`."""
    return session.scalar(select(column).where(kind).order_by(column.desc()).offset(n - 1).limit(1))


def delete_older(
    session: Session,
    model: type[Any],
    column: InstrumentedAttribute[Any],
    kind: ColumnElement[bool],
    boundary: Any,
) -> int:
    """Delete the rows of `kind` whose `column` is below `boundary`; returns how many."""
    result = session.execute(
        delete(model).where(kind, column < boundary).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
