"""The web layer's only door into the cart domain: whose cart a session means, its size.

Keeping the session -> `CartOwner` mapping here means a session never reaches the
domain, and the domain never learns about cookies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from cart.basket.carts import CartOwner
from cart.basket.reading import cart_item_count_sync
from cart.identity.sessions import ShopperSession

P = ParamSpec("P")
T = TypeVar("T")


def owner_of(shopper: ShopperSession) -> CartOwner:
    if shopper.account_id is not None:
        return CartOwner.account(shopper.account_id)
    assert shopper.cart_id is not None
    return CartOwner.anonymous(shopper.cart_id)


def item_count_sync(session: Session, shopper: ShopperSession) -> int:
    """How many things are in the cart (quantities summed), for the badge (a unit)."""
    if shopper.changed and not shopper.logged_in:
        return 0  # a brand-new anonymous cart: nothing to count
    return cart_item_count_sync(session, owner_of(shopper))


async def item_count(session: AsyncSession, shopper: ShopperSession) -> int:
    if shopper.changed and not shopper.logged_in:
        return 0
    return await session.run_sync(item_count_sync, shopper)


def with_badge(
    session: Session,
    shopper: ShopperSession,
    read: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> tuple[T, int]:
    """A unit: what `read` reads for a page, and the badge, in one read."""
    return read(session, *args, **kwargs), item_count_sync(session, shopper)
