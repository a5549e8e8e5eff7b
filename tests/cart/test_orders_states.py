"""The order's state machine is declared once and enforced: illegal moves are errors."""

from __future__ import annotations

import pytest

from cart.orders.orders import move_claims, order_detail, transition
from cart.orders.states import CLAIM, ORDER, ClaimState, OrderStatus
from store import Database
from store.exceptions import IllegalTransition
from tests.cart.checkout_support import SHOPPER, VENUE_KEY, checkout, fill, stock_shop
from tests.support.factories import NOW


def test_the_declared_graphs_know_every_status() -> None:
    assert set(ORDER.moves) == {s.value for s in OrderStatus}
    assert set(CLAIM.moves) == {s.value for s in ClaimState}
    assert ORDER.allows("pending", "paid") and not ORDER.allows("paid", "pending")
    assert not ORDER.allows("refunded", "paid")
    assert not CLAIM.allows("rejected", "claimed")


async def test_an_illegal_move_is_refused_and_changes_nothing(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["class"], 1))
    order = (await checkout(db, page_key=VENUE_KEY)).order

    with pytest.raises(IllegalTransition):
        async with db.transaction() as session:
            await transition(session, order.id, OrderStatus.REFUNDED, now=NOW)

    async with db.transaction() as session:
        paid = await transition(
            session, order.id, OrderStatus.PAID, note="Payment received", now=NOW
        )
        again = await transition(session, order.id, OrderStatus.PAID, now=NOW)
        assert paid is not None and paid.status == "paid"
        assert again is None  # already there: the second caller lost the race, no error
        detail = await order_detail(session, paid)
    assert [(h.status, h.note) for h in detail.history] == [
        ("pending", "Order placed"),
        ("paid", "Payment received"),
    ]


async def test_claims_move_only_along_the_declared_graph(db: Database) -> None:
    shop = await stock_shop(db)
    await fill(db, SHOPPER, (shop["class"], 1))
    order = (await checkout(db, page_key=VENUE_KEY)).order

    async with db.transaction() as session:
        assert await move_claims(session, order.id, ClaimState.REJECTED) == 1
        # Rejected is final: neither a late Accept nor a release moves it.
        assert await move_claims(session, order.id, ClaimState.CLAIMED) == 0
        assert await move_claims(session, order.id, ClaimState.RELEASED) == 0
        (item,) = (await order_detail(session, order)).items
    assert item.claim_state == "rejected"
