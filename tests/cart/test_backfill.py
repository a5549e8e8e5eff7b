"""Backfill over real HTTP: a peer on a loopback port serves its paged, signed-GET catalogue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from actor.fetch import Fetcher, FetchSettings
from actor.http_auth import SignatureAuth
from actor.signature_types import SigningKey
from cart.catalog.backfill import BackfillReport, backfill_catalog
from cart.catalog.mirror import get_item, list_catalog
from store import Database
from tests.actor.loopback import Peer, running_peer
from tests.support.factories import NOW, entry, money, offer, product
from vocab import builders
from vocab.model import Actor, Product
from vocab.writer import document

LATER = NOW + timedelta(hours=1)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with running_peer() as running:
        yield running


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    client = Fetcher(FetchSettings(allow_private=True))
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
def auth() -> SignatureAuth:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SignatureAuth(SigningKey("https://cart.test/actor#main-key", key))


def serve_actor(peer: Peer, catalog: str | None = "/catalog") -> str:
    actor_id = peer.url("/actor")
    peer.serve_json(
        "/actor",
        document(
            Actor(
                id=actor_id,
                type="Service",
                inbox=peer.url("/inbox"),
                catalog=peer.url(catalog) if catalog else None,
            )
        ),
    )
    return actor_id


def sold_by(peer: Peer, number: int, **fields: Any) -> Product:
    base = product(number, **fields)
    return Product(
        **{
            **base.__dict__,
            "id": peer.url(f"/products/{number}"),
            "attributed_to": peer.url("/actor"),
        }
    )


def serve_catalog(peer: Peer, pages: list[list[Any]], *, loop: bool = False) -> None:
    peer.serve_json(
        "/catalog",
        builders.ordered_collection(
            id=peer.url("/catalog"), total_items=sum(map(len, pages)), first=peer.url("/catalog/1")
        ),
    )
    for number, items in enumerate(pages, start=1):
        last = number == len(pages)
        following = (
            peer.url("/catalog/1")
            if last and loop
            else None
            if last
            else peer.url(f"/catalog/{number + 1}")
        )
        peer.serve_json(
            f"/catalog/{number}",
            builders.ordered_collection_page(
                id=peer.url(f"/catalog/{number}"),
                part_of=peer.url("/catalog"),
                items=items,
                next=following,
            ),
        )


async def test_a_paged_catalogue_is_mirrored_with_signed_gets(
    db: Database, peer: Peer, fetcher: Fetcher, auth: SignatureAuth
) -> None:
    actor_id = serve_actor(peer)
    by_iri = sold_by(peer, 3, name="Rye")
    peer.serve_json("/products/3", document(by_iri))
    foreign = product(4, name="Not theirs")  # attributed to another market, on its origin
    an_entry = entry(9)  # a market's catalogue carries products only
    serve_catalog(
        peer,
        [
            [sold_by(peer, 1, name="Sourdough loaf"), sold_by(peer, 2, name="Baguette"), by_iri.id],
            [foreign, an_entry, peer.url("/products/404"), sold_by(peer, 5, name="Bun")],
        ],
    )
    seen: list[BackfillReport] = []
    report = await backfill_catalog(
        db, fetcher, auth, actor_id, role="market", progress=seen.append
    )

    assert report.complete and report.error is None
    assert (report.pages, report.seen, report.created, report.refused, report.failed) == (
        2,
        7,
        4,
        2,
        1,
    )
    assert [(r.pages, r.created) for r in seen] == [(1, 3), (2, 4)]
    async with db.transaction() as session:
        sections = await list_catalog(session, NOW)
    assert sorted(i.name for s in sections for i in s.items) == [
        "Baguette",
        "Bun",
        "Rye",
        "Sourdough loaf",
    ]
    assert all(r.headers.get("signature") for r in peer.requests)


async def test_backfill_never_overwrites_a_newer_version_we_hold(
    db: Database, peer: Peer, fetcher: Fetcher, auth: SignatureAuth
) -> None:
    actor_id = serve_actor(peer)
    newer = sold_by(peer, 1, price="4.00", updated=LATER)
    async with db.transaction() as session:
        await offer(session, newer, at=LATER)
    serve_catalog(peer, [[sold_by(peer, 1, price="3.00", updated=NOW)]])
    report = await backfill_catalog(db, fetcher, auth, actor_id)
    async with db.transaction() as session:
        item = await get_item(session, newer.id, NOW)
    assert report.complete and report.unchanged == 1
    assert item is not None and item.price.format() == "£4.00"
    assert money("4.00").amount == item.price.amount


async def test_a_catalogue_whose_pages_loop_stops_with_a_reason(
    db: Database, peer: Peer, fetcher: Fetcher, auth: SignatureAuth
) -> None:
    actor_id = serve_actor(peer)
    serve_catalog(peer, [[sold_by(peer, 1)], [sold_by(peer, 2)]], loop=True)
    report = await backfill_catalog(db, fetcher, auth, actor_id)
    assert not report.complete and report.created == 2
    assert report.error is not None and "loop" in report.error


async def test_an_unreachable_actor_or_one_without_a_catalogue_is_reported(
    db: Database, peer: Peer, fetcher: Fetcher, auth: SignatureAuth
) -> None:
    missing = await backfill_catalog(db, fetcher, auth, peer.url("/actor"))
    actor_id = serve_actor(peer, catalog=None)
    bare = await backfill_catalog(db, fetcher, auth, actor_id)
    assert not missing.complete and missing.error is not None and "gone" in missing.error
    assert bare.complete and bare.error == "the actor has no catalog" and bare.seen == 0
