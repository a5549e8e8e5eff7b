"""Golden documents: what we send (byte-for-byte stable) and what peers send us."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.vocab.samples import (
    ACTOR,
    CALENDAR,
    CART,
    ENTRY,
    FOLLOWERS,
    MARKET,
    NOON,
    ORDER,
    PRODUCT,
    gbp,
)
from vocab import builders as b
from vocab.model import (
    Accept,
    Actor,
    Create,
    Delete,
    Follow,
    Multikey,
    OrderCancelled,
    OrderedCollection,
    OrderPaid,
    OrderRefunded,
    Page,
    Reject,
    Undo,
    Update,
)
from vocab.parse import parse, takes_fast_path

DATA = Path(__file__).parent.parent / "data" / "vocab"
COOP_FOLLOW = Follow(
    id="https://coop.example/follows/1", actor="https://coop.example/actor", object=ACTOR
)
MY_FOLLOW = Follow(
    id=f"{CART}/activities/3e9f", actor=ACTOR, object=MARKET, to=(MARKET,), published=NOON
)
TO, CC = [FOLLOWERS], [MARKET, CALENDAR]


def golden(folder: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / folder / f"{name}.json").read_text())
    return loaded


OURS: dict[str, tuple[dict[str, Any], Any]] = {
    "create-order": (
        b.create(
            actor=ACTOR,
            object=ORDER,
            to=TO,
            cc=CC,
            activity_id=f"{CART}/activities/0b6c",
            published=NOON,
        ),
        Create(
            id=f"{CART}/activities/0b6c",
            actor=ACTOR,
            to=(FOLLOWERS,),
            cc=(MARKET, CALENDAR),
            published=NOON,
            object=ORDER,
        ),
    ),
    "order-paid": (
        b.order_paid(
            actor=ACTOR,
            order_id=ORDER.id,
            payment_reference="chk_5f2a",
            total=ORDER.total,
            to=TO,
            cc=CC,
            activity_id=f"{CART}/activities/1c7d",
            published=NOON,
        ),
        OrderPaid(
            id=f"{CART}/activities/1c7d",
            actor=ACTOR,
            to=(FOLLOWERS,),
            cc=(MARKET, CALENDAR),
            published=NOON,
            object=ORDER.id,
            payment_reference="chk_5f2a",
            total=gbp("32.00"),
        ),
    ),
    "order-cancelled": (
        b.order_cancelled(
            actor=ACTOR,
            order_id=ORDER.id,
            summary="checkout expired",
            to=TO,
            cc=CC,
            activity_id=f"{CART}/activities/2d8e",
            published=NOON,
        ),
        OrderCancelled(
            id=f"{CART}/activities/2d8e",
            actor=ACTOR,
            to=(FOLLOWERS,),
            cc=(MARKET, CALENDAR),
            published=NOON,
            object=ORDER.id,
            summary="checkout expired",
        ),
    ),
    "order-refunded": (
        b.order_refunded(
            actor=ACTOR,
            order_id=ORDER.id,
            total=ORDER.total,
            items=ORDER.items,
            summary="the class was moved",
            to=TO,
            cc=CC,
            activity_id=f"{CART}/activities/4f0a",
            published=NOON,
        ),
        OrderRefunded(
            id=f"{CART}/activities/4f0a",
            actor=ACTOR,
            to=(FOLLOWERS,),
            cc=(MARKET, CALENDAR),
            published=NOON,
            object=ORDER.id,
            total=ORDER.total,
            items=ORDER.items,
            summary="the class was moved",
        ),
    ),
    "follow": (
        b.follow(actor=ACTOR, target=MARKET, activity_id=f"{CART}/activities/3e9f", published=NOON),
        MY_FOLLOW,
    ),
    "accept-follow": (
        b.accept(
            actor=ACTOR,
            object=COOP_FOLLOW,
            to=[COOP_FOLLOW.actor],
            activity_id=f"{CART}/activities/4fa0",
            published=NOON,
        ),
        Accept(
            id=f"{CART}/activities/4fa0",
            actor=ACTOR,
            to=(COOP_FOLLOW.actor,),
            published=NOON,
            object=COOP_FOLLOW,
        ),
    ),
    "reject-follow": (
        b.reject(
            actor=ACTOR,
            object=COOP_FOLLOW,
            to=[COOP_FOLLOW.actor],
            summary="not a co-op member",
            activity_id=f"{CART}/activities/5ab1",
            published=NOON,
        ),
        Reject(
            id=f"{CART}/activities/5ab1",
            actor=ACTOR,
            to=(COOP_FOLLOW.actor,),
            published=NOON,
            object=COOP_FOLLOW,
            summary="not a co-op member",
        ),
    ),
    "undo-follow": (
        b.undo_follow(follow=MY_FOLLOW, activity_id=f"{CART}/activities/6bc2", published=NOON),
        Undo(
            id=f"{CART}/activities/6bc2",
            actor=ACTOR,
            to=(MARKET,),
            published=NOON,
            object=MY_FOLLOW,
        ),
    ),
    "catalog-page": (
        b.ordered_collection_page(
            id="https://market.example/catalog?page=1",
            part_of="https://market.example/catalog",
            items=[PRODUCT, "https://market.example/products/43"],
            next="https://market.example/catalog?page=2",
        ),
        OrderedCollection(
            id="https://market.example/catalog?page=1",
            is_page=True,
            part_of="https://market.example/catalog",
            next="https://market.example/catalog?page=2",
            ordered_items=(PRODUCT, "https://market.example/products/43"),
        ),
    ),
    "catalog": (
        b.ordered_collection(
            id="https://market.example/catalog",
            total_items=41,
            first="https://market.example/catalog?page=1",
        ),
        OrderedCollection(
            id="https://market.example/catalog",
            total_items=41,
            first="https://market.example/catalog?page=1",
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(OURS))
def test_what_we_send_matches_its_golden_document(name: str) -> None:
    built, _ = OURS[name]
    assert built == golden("ours", name)


@pytest.mark.parametrize("name", sorted(OURS))
def test_what_we_send_reads_back_on_the_fast_path(name: str) -> None:
    built, expected = OURS[name]
    raw = json.dumps(built).encode()
    assert takes_fast_path(raw)
    assert parse(raw) == expected


PEERS: dict[str, Any] = {
    "mastodon-follow": Follow(
        id="https://coop.example/d1e3c7a0-5b4e-4a57-9f3b-2c1f0a9e8d11",
        actor="https://coop.example/users/coop",
        object=ACTOR,
    ),
    "mastodon-undo-follow": Undo(
        id="https://coop.example/users/coop#follows/11/undo",
        actor="https://coop.example/users/coop",
        object=Follow(
            id="https://coop.example/d1e3c7a0-5b4e-4a57-9f3b-2c1f0a9e8d11",
            actor="https://coop.example/users/coop",
            object=ACTOR,
        ),
    ),
    "market-accept-follow": Accept(
        id="https://market.example/activities/accept-77",
        actor=MARKET,
        to=(ACTOR,),
        object=f"{CART}/activities/3e9f",
    ),
    "calendar-accept-order": Accept(
        id="https://calendar.example/activities/claim-7f1e",
        actor=CALENDAR,
        to=(ACTOR,),
        object=ORDER.id,
    ),
    "calendar-reject-order": Reject(
        id="https://calendar.example/activities/refuse-7f1e",
        actor=CALENDAR,
        to=(ACTOR,),
        object=ORDER.id,
        summary="The bread class is full",
    ),
    "market-delete-product": Delete(
        id="https://market.example/activities/delete-42",
        actor=MARKET,
        to=("https://market.example/followers",),
        object=PRODUCT.id,
    ),
    "market-create-product": Create(
        id="https://market.example/activities/create-42",
        actor=MARKET,
        to=("https://market.example/followers",),
        cc=(ACTOR,),
        published=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        object=PRODUCT.__class__(
            id=PRODUCT.id,
            attributed_to=MARKET,
            name="Sourdough loaf",
            price=gbp("3.50"),
            summary="<p>Baked daily &amp; sliced on request</p>",
            url="https://blog.example/pages/bakery/loaf",
            page=Page(id="https://blog.example/pages/bakery"),
            available=True,
            stock=12,
            updated=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        ),
    ),
    "calendar-update-entry": Update(
        id="https://calendar.example/activities/update-9-3",
        actor=CALENDAR,
        to=("https://calendar.example/followers", "https://www.w3.org/ns/activitystreams#Public"),
        object=ENTRY.__class__(
            id=ENTRY.id,
            attributed_to=CALENDAR,
            name="Bread class, Sat 10:00",
            price=gbp("25.00"),
            page=Page(id="https://blog.example/pages/bakery", name="The Bakery"),
            start_time=ENTRY.start_time,
            end_time=ENTRY.end_time,
            entry_state="held",
            stock=5,
            updated=datetime(2026, 11, 24, 11, 0, tzinfo=UTC),
        ),
    ),
    "full-iri-order-paid": OrderPaid(
        id=f"{CART}/activities/1c7d",
        actor=ACTOR,
        to=(FOLLOWERS,),
        published=NOON,
        object=ORDER.id,
        payment_reference="chk_5f2a",
        total=gbp("32.00"),
    ),
}


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_documents_read_as_expected(name: str) -> None:
    assert parse((DATA / "peers" / f"{name}.json").read_bytes()) == PEERS[name]


def test_a_mastodon_actor_gives_inbox_shared_inbox_and_key() -> None:
    actor = parse((DATA / "peers" / "mastodon-actor.json").read_bytes())
    assert isinstance(actor, Actor)
    assert (actor.type, actor.inbox, actor.shared_inbox) == (
        "Person",
        "https://coop.example/users/coop/inbox",
        "https://coop.example/inbox",
    )
    assert actor.public_key is not None
    assert actor.public_key.id == "https://coop.example/users/coop#main-key"
    assert actor.public_key.owner == actor.id
    assert actor.public_key.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert actor.manually_approves_followers is False


def test_a_market_actor_gives_its_catalog_and_multikey() -> None:
    actor = parse((DATA / "peers" / "market-actor.json").read_bytes())
    assert isinstance(actor, Actor)
    assert actor.type == "Service"
    assert actor.catalog == "https://market.example/catalog"
    assert actor.manually_approves_followers is True
    assert actor.assertion_methods == (
        Multikey(
            id="https://market.example/actor#ed25519-key",
            controller=MARKET,
            public_key_multibase="z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        ),
    )


def test_money_is_decimal_never_float() -> None:
    created = parse(json.dumps(OURS["create-order"][0]))
    assert isinstance(created, Create)
    assert created.object.total.amount == Decimal("32.00")  # type: ignore[union-attr]
    assert type(created.object.total.amount) is Decimal  # type: ignore[union-attr]


def test_an_actor_whose_context_leaves_assertion_method_undefined_still_shows_its_key() -> None:
    document = json.loads((DATA / "peers" / "market-actor.json").read_text())
    document["@context"] = document["@context"][:4]  # AS2, security, data-integrity, multikey
    actor = parse(document)
    assert isinstance(actor, Actor)
    assert [m.id for m in actor.assertion_methods] == ["https://market.example/actor#ed25519-key"]
