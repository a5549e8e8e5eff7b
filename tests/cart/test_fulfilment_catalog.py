"""What a page offers at checkout: its own word about pickup and delivery, or our default."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from cart.catalog.fulfilment import (
    DELIVERY,
    PICKUP,
    DefaultFulfilment,
    choose,
    offered,
    parse_default,
)
from cart.catalog.models import key_for
from store import Database
from tests.support.factories import BAKERY, NOW, VENUE, entry, offer, product
from tests.support.factories import BIKE_DELIVERY as BIKE
from tests.support.factories import SATURDAY_PICKUP as SATURDAY

LAST_WEEK = replace(
    SATURDAY,
    id=f"{BAKERY.id}#last-week",
    start_time=NOW - timedelta(days=3),
    end_time=NOW - timedelta(days=3) + timedelta(hours=3),
)
PICKUP_ANYWHERE = DefaultFulfilment(pickup=True)


async def test_the_page_offers_its_open_pickups_and_its_deliveries_with_their_fees(
    db: Database,
) -> None:
    page = replace(BAKERY, fulfilment=(LAST_WEEK, SATURDAY, BIKE))
    async with db.transaction() as session:
        await offer(session, product(page=page))
    options = await db.read(offered, key_for(BAKERY.id), NOW, PICKUP_ANYWHERE)
    assert [(o.kind, o.name, o.place) for o in options] == [
        (PICKUP, "Saturday stall", "Market hall"),
        (DELIVERY, "Bike", "Ring road"),
    ]
    pickup, bike = options
    assert (pickup.start, pickup.end) == (SATURDAY.start_time, SATURDAY.end_time)
    assert bike.fee is not None and (bike.fee.amount, bike.fee.currency) == (Decimal("2.50"), "GBP")
    assert choose(options, bike.key) == bike
    assert choose(options, "not-offered") is None
    # A delivery that could not be charged with a euro order is not offered for one.
    in_euros = await db.read(offered, key_for(BAKERY.id), NOW, PICKUP_ANYWHERE, currency="EUR")
    assert in_euros == (pickup,)


async def test_a_page_that_says_nothing_gets_the_default_and_an_empty_list_asks_nothing(
    db: Database,
) -> None:
    async with db.transaction() as session:
        await offer(session, product())  # BAKERY says nothing about fulfilment
        await offer(session, entry(page=replace(VENUE, fulfilment=())))
    (default,) = await db.read(offered, key_for(BAKERY.id), NOW, PICKUP_ANYWHERE)
    assert (default.kind, default.name) == (PICKUP, "Collect from The Bakery")
    assert choose((default,), "") == default  # the only choice needs no asking
    assert await db.read(offered, key_for(BAKERY.id), NOW, DefaultFulfilment(pickup=False)) == ()
    assert await db.read(offered, key_for(VENUE.id), NOW, PICKUP_ANYWHERE) == ()


async def test_a_later_word_from_the_page_replaces_the_options_and_silence_keeps_them(
    db: Database,
) -> None:
    async with db.transaction() as session:
        await offer(session, product(page=replace(BAKERY, fulfilment=(SATURDAY, BIKE))))
        await offer(session, product(43, page=replace(BAKERY, fulfilment=(SATURDAY,))))
        await offer(session, product(44))  # a product that repeats the page without them
    options = await db.read(offered, key_for(BAKERY.id), NOW, PICKUP_ANYWHERE)
    assert [o.name for o in options] == ["Saturday stall"]


async def test_another_origin_cannot_say_how_a_page_hands_things_over(db: Database) -> None:
    async with db.transaction() as session:
        await offer(session, entry())  # the calendar's own venue, saying nothing
        await offer(session, product(page=replace(VENUE, fulfilment=(BIKE,))))
    (only,) = await db.read(offered, key_for(VENUE.id), NOW, PICKUP_ANYWHERE)
    assert only.kind == PICKUP and only.fee is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pickup", DefaultFulfilment(pickup=True)),
        ("Pickup: the shop counter", DefaultFulfilment(pickup=True, place="the shop counter")),
        ("none", DefaultFulfilment(pickup=False)),
    ],
)
def test_the_default_setting_reads(text: str, expected: DefaultFulfilment) -> None:
    assert parse_default(text) == expected


@pytest.mark.parametrize("text", ["delivery", "none: x", "", "pickup:" + "x" * 501])
def test_a_default_we_cannot_read_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="FULFILMENT_DEFAULT"):
        parse_default(text)
