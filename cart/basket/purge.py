"""Forgetting abandoned anonymous carts: the background task's one statement.

A cart is purged whole when its most recent change is older than the limit (setting
ROSE_CART_CART_MAX_AGE_DAYS, default 30), so a shopper who came back last week does
not lose the loaf they added two months ago. Account carts are never purged.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cart.basket.carts import CartLine

DEFAULT_MAX_AGE = timedelta(days=30)


def purge_anonymous_lines(
    session: Session,
    older_than: timedelta = DEFAULT_MAX_AGE,
    *,
    now: datetime,
) -> int:
    """Delete the lines of anonymous carts untouched for `older_than`; returns how many."""
    cutoff = now - older_than
    abandoned = (
        select(CartLine.cart_id)
        .where(CartLine.cart_id.is_not(None))
        .group_by(CartLine.cart_id)
        .having(func.max(CartLine.updated_at) < cutoff)
    )
    result = session.execute(
        delete(CartLine)
        .where(CartLine.cart_id.in_(abandoned.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
