"""The demo's pages say how they hand things over, and the cart offers exactly that."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from cart.catalog.fulfilment import DELIVERY, PICKUP, DefaultFulfilment, offered
from cart.catalog.models import key_for
from tests.demo.conftest import Coop


async def test_the_shops_offer_saturday_pickups_the_greengrocer_delivers_the_hall_asks_nothing(
    followed: Coop,
) -> None:
    now, default = datetime.now(UTC), DefaultFulfilment(pickup=True)
    market, calendar = followed.urls["market"], followed.urls["calendar"]

    async def offers(page: str):  # type: ignore[no-untyped-def]
        return await followed.cart_db.read(offered, key_for(page), now, default)

    bakery = await offers(f"{market}/shops/bakery")
    greengrocer = await offers(f"{market}/shops/greengrocer")
    hall = await offers(f"{calendar}/venues/old-school")

    assert [o.kind for o in bakery] == [PICKUP, PICKUP]
    assert all(o.place == "Market hall, High Street" and o.start and o.start > now for o in bakery)
    assert [o.kind for o in greengrocer] == [PICKUP, PICKUP, DELIVERY]
    fee = greengrocer[-1].fee
    assert fee is not None and (fee.amount, fee.currency) == (Decimal("2.50"), "GBP")
    assert hall == ()
