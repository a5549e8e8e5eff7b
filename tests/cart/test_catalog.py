"""The catalogue mirror: newest version wins, withdrawals stick, shoppers see what is on sale."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cart.catalog.mirror import (
    Outcome,
    get_item,
    list_catalog,
    upsert_object,
    withdraw_object,
)
from cart.catalog.models import key_for
from cart.catalog.rows import item_by_key_sync
from store import Database
from tests.support.factories import BAKERY, MARKET, NOW, VENUE, entry, offer, product
from vocab.model import Page

LATER = NOW + timedelta(hours=1)


async def test_an_older_version_never_overwrites_a_newer_one(db: Database) -> None:
    async with db.transaction() as session:
        await offer(session, product(price="4.00"), at=LATER)
        stale = await upsert_object(
            session, product(price="3.00"), sender=MARKET, version=NOW, now=LATER
        )
        item = await get_item(session, product().id, LATER)
    assert stale is Outcome.STALE
    assert item is not None and item.price.format() == "£4.00"


async def test_a_newer_version_updates_name_price_stock_and_page(db: Database) -> None:
    async with db.transaction() as session:
        await offer(session, product())
        deli = Page(id="https://market.example/pages/deli", name="The Deli")
        moved = product(name="Rye loaf", price="4.20", stock=5, page=deli)
        outcome = await upsert_object(session, moved, sender=MARKET, version=LATER, now=LATER)
        item = await get_item(session, moved.id, LATER)
    assert outcome is Outcome.UPDATED
    assert item is not None
    assert (item.name, item.price.format(), item.stock) == ("Rye loaf", "£4.20", 5)
    assert item.page is not None and item.page.name == "The Deli"


async def test_a_page_on_another_origin_is_referenced_but_its_details_are_not_taken(
    db: Database,
) -> None:
    async with db.transaction() as session:
        await offer(session, entry())  # the calendar names its own venue
        renamed = Page(id=VENUE.id, name="Venue closed: pay by bank transfer", url="https://x/")
        moved = product(page=renamed)
        outcome = await upsert_object(session, moved, sender=MARKET, version=LATER, now=LATER)
        item = await get_item(session, moved.id, LATER)
    assert outcome is Outcome.CREATED
    assert item is not None and item.page is not None
    assert (item.page.ap_id, item.page.name, item.page.url) == (VENUE.id, "Village Hall", None)


async def test_an_object_on_another_origin_or_attributed_elsewhere_is_refused(db: Database) -> None:
    foreign = product(owner="https://evil.example/actor")
    async with db.transaction() as session:
        on_other_origin = await upsert_object(session, foreign, sender=MARKET, version=NOW, now=NOW)
        misattributed = await upsert_object(
            session,
            replace(product(), attributed_to="https://market.example/other"),
            sender=MARKET,
            version=NOW,
            now=NOW,
        )
        assert await get_item(session, foreign.id, NOW) is None
        assert await get_item(session, product().id, NOW) is None
    assert on_other_origin is misattributed is Outcome.REFUSED


async def test_another_actor_on_the_same_origin_cannot_take_over_an_item(db: Database) -> None:
    neighbour = "https://market.example/other"
    async with db.transaction() as session:
        await offer(session, product())
        hijack = replace(product(price="0.01"), attributed_to=neighbour)
        outcome = await upsert_object(session, hijack, sender=neighbour, version=LATER, now=LATER)
        deleted = await withdraw_object(session, product().id, sender=neighbour, at=LATER)
        item = await get_item(session, product().id, LATER)
    assert outcome is deleted is Outcome.REFUSED
    assert item is not None and item.price.format() == "£3.50" and not item.withdrawn


async def test_a_withdrawn_item_stays_for_the_carts_but_leaves_the_catalogue(db: Database) -> None:
    async with db.transaction() as session:
        await offer(session, product())
        assert (
            await withdraw_object(session, product().id, sender=MARKET, at=LATER)
            is Outcome.WITHDRAWN
        )
        item = await get_item(session, product().id, LATER)
        sections = await list_catalog(session, LATER)
        # An update stamped before the Delete does not bring it back; a later one does.
        late = await upsert_object(session, product(), sender=MARKET, version=LATER, now=LATER)
        back = await upsert_object(
            session, product(), sender=MARKET, version=LATER + timedelta(seconds=1), now=LATER
        )
    assert item is not None and item.withdrawn and not item.purchasable
    assert sections == ()
    assert (late, back) == (Outcome.STALE, Outcome.UPDATED)


async def test_a_delete_of_something_never_held_changes_nothing(db: Database) -> None:
    async with db.transaction() as session:
        assert (
            await withdraw_object(session, product().id, sender=MARKET, at=NOW) is Outcome.UNKNOWN
        )


async def test_the_catalogue_is_grouped_by_page_with_prices_and_availability(db: Database) -> None:
    async with db.transaction() as session:
        await offer(session, product(42, name="Sourdough loaf"))
        await offer(session, product(43, name="Baguette", stock=0))
        await offer(session, entry(9, name="Bread class"))
        await offer(session, entry(10, name="Past class", start=NOW - timedelta(hours=1)))
        await offer(session, product(44, name="Loose item", page=None))
        sections = await list_catalog(session, NOW)
        only_bakery = await list_catalog(session, NOW, page_key=key_for(BAKERY.id))
    shown = [
        (
            s.page.name if s.page else None,
            [(i.name, i.price.format(), i.unavailable_reason) for i in s.items],
        )
        for s in sections
    ]
    assert shown == [
        ("The Bakery", [("Baguette", "£3.50", "Sold out."), ("Sourdough loaf", "£3.50", None)]),
        (
            "Village Hall",
            [
                ("Past class", "£25.00", "This event has already started."),
                ("Bread class", "£25.00", None),
            ],
        ),
        (None, [("Loose item", "£3.50", None)]),
    ]
    assert [s.page.name for s in only_bakery if s.page] == ["The Bakery"]


async def test_an_entry_shows_its_time_and_is_found_by_its_short_key(db: Database) -> None:
    class_ = entry()
    async with db.transaction() as session:
        await offer(session, class_)
        item = await session.run_sync(item_by_key_sync, key_for(class_.id), NOW)
    assert item is not None and item.is_entry and item.max_quantity is None
    assert item.start_time == class_.start_time and item.end_time == class_.end_time


async def test_a_bare_page_reference_keeps_the_name_we_know(db: Database) -> None:
    from vocab.model import Page

    async with db.transaction() as session:
        await offer(session, product(42))
        await offer(session, product(43, page=Page(id=BAKERY.id)))
        item = await get_item(session, product(43).id, NOW)
    assert item is not None and item.page is not None and item.page.name == "The Bakery"
