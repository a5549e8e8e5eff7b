"""What our unanswered orders hold of a market's stock: the running count on SQLite
(migration 0025's triggers) equals the query it replaced after every move an order, a
claim or a figure can make, and a shopper is refused what is held."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from cart.basket.carts import CartOwner
from cart.catalog.models import CatalogItem
from cart.orders.checkout import CheckoutProblem
from cart.orders.models import ShopOrder, ShopOrderItem
from cart.orders.orders import move_claims, transition
from cart.orders.states import ClaimState, OrderStatus
from cart.orders.stock import UNANSWERED_FOR, counted_held, held_unanswered
from store import Database
from tests.cart.checkout_support import checkout, fill
from tests.support.factories import MARKET, NOW, offer, product

# Where each order status may go (cart.orders.states), for the walk to pick from.
ORDER_MOVES = {
    "pending": [OrderStatus.PAID, OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED],
    "paid": [OrderStatus.REFUND_REQUESTED, OrderStatus.REFUNDED],
    "expired": [OrderStatus.REFUND_REQUESTED],
    "cancelled": [OrderStatus.REFUND_REQUESTED],
    "failed": [OrderStatus.REFUND_REQUESTED],
    "refund_requested": [OrderStatus.REFUNDED, OrderStatus.NEEDS_REFUND],
    "needs_refund": [OrderStatus.REFUNDED],
    "refunded": [],
}
CLAIM_MOVES = [ClaimState.CLAIMED, ClaimState.REJECTED, ClaimState.RELEASED, ClaimState.CONFIRMED]


async def _both(
    db: Database, ap_ids: list[str], now: datetime
) -> tuple[Counter[str], Counter[str]]:
    """What checkout would subtract, and what the query counts, per product."""
    async with db.transaction() as session:
        kept = await session.run_sync(held_unanswered, ap_ids, now)
        counted = await session.run_sync(counted_held, ap_ids, now)
    return kept, counted


async def _column(db: Database, ap_ids: list[str]) -> dict[str, int]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(CatalogItem.ap_id, CatalogItem.held_unanswered).where(
                CatalogItem.ap_id.in_(ap_ids)
            )
        )
        return {ap_id: held for ap_id, held in rows}


async def test_the_running_count_equals_the_query_after_every_move(
    db: Database, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL counts by the query at every checkout (migration 0025)")
    rng = random.Random(18)  # noqa: S311 - a repeatable walk, not a secret
    loaves = [await _offer(db, number, NOW) for number in (42, 43, 44)]
    moment, shoppers, placed = NOW, 0, []
    moves = Counter[str]()
    for _ in range(160):
        moment += timedelta(minutes=1)
        move = rng.choice(["place", "place", "order", "claims", "figure", "delete"])
        if move == "place" or not placed:
            shoppers += 1
            owner = CartOwner.anonymous(f"walker-{shoppers}")
            lines = rng.sample(loaves, rng.randint(1, 3))
            await fill(db, owner, *[(ap_id, rng.randint(1, 3)) for ap_id in lines])
            placed.append((await checkout(db, owner, now=moment)).order.id)
            moves["place"] += 1
        elif move == "order":
            order_id = rng.choice(placed)
            async with db.transaction() as session:
                status = (await session.get(ShopOrder, order_id)).status  # type: ignore[union-attr]
                if ORDER_MOVES[status]:
                    target = rng.choice(ORDER_MOVES[status])
                    await transition(session, order_id, target, now=moment)
                    moves[f"order {status} -> {target}"] += 1
        elif move == "claims":
            async with db.transaction() as session:
                target = rng.choice(CLAIM_MOVES)
                moved = await move_claims(session, rng.choice(placed), target, owner=MARKET)
                moves[f"claims -> {target}"] += moved
        elif move == "figure":
            await _offer(db, rng.choice([42, 43, 44]), moment)
            moves["figure"] += 1
        else:  # an order's lines gone by hand (an operator's sqlite3)
            order_id = placed.pop(rng.randrange(len(placed)))
            async with db.transaction() as session:
                gone = delete(ShopOrderItem).where(ShopOrderItem.order_id == order_id)
                await session.execute(gone)
            moves["delete"] += 1
        kept, counted = await _both(db, loaves, moment)
        assert kept == counted, (move, dict(moves))
        column = await _column(db, loaves)
        assert column == {ap_id: counted[ap_id] for ap_id in loaves}, (move, dict(moves))
    # The walk went everywhere it should have, and something was held along the way.
    assert moves["place"] > 40 and moves["figure"] > 10 and moves["delete"] > 10, moves
    assert any(key.startswith("order pending -> ") for key in moves), moves
    assert moves["claims -> released"] and moves["claims -> claimed"], moves
    # A day after the last figure, the orders counted since it are too old to hold.
    later = moment + UNANSWERED_FOR + timedelta(minutes=1)
    kept, counted = await _both(db, loaves, later)
    assert kept == counted == Counter()


async def _offer(db: Database, number: int, at: datetime) -> str:
    async with db.transaction() as session:
        return await offer(session, product(number, name=f"Loaf {number}", stock=500), at=at)


async def test_what_unanswered_orders_hold_is_refused_to_the_next_shopper(db: Database) -> None:
    async with db.transaction() as session:
        loaf = await offer(session, product(42, stock=3))
    await fill(db, CartOwner.anonymous("first"), (loaf, 2))
    first = await checkout(db, CartOwner.anonymous("first"), now=NOW + timedelta(minutes=1))

    second = CartOwner.anonymous("second")
    await fill(db, second, (loaf, 2))
    with pytest.raises(CheckoutProblem) as refused:
        await checkout(db, second, now=NOW + timedelta(minutes=2))
    assert refused.value.problems[0].message.startswith("Only 1 left")

    # The first shopper gives up: the loaves are free again.
    async with db.transaction() as session:
        await transition(session, first.order.id, OrderStatus.CANCELLED, now=NOW)
    placed = await checkout(db, second, now=NOW + timedelta(minutes=3))
    assert placed.order.total_amount == 7

    # The market's next figure (1 left) counts the second order already: nothing is held
    # against it, and a third shopper may have that one.
    async with db.transaction() as session:
        await offer(session, product(42, stock=1), at=NOW + timedelta(minutes=4))
    third = CartOwner.anonymous("third")
    await fill(db, third, (loaf, 1))
    assert (await checkout(db, third, now=NOW + timedelta(minutes=5))).order.total_amount == 3.5
