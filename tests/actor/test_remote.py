"""Remote actors and keys: fetched from a real loopback peer, cached in the database.

The peer counts the requests it receives, so "no second fetch" is something we observe,
not something we assume. Time moves by a clock the test holds, never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select
from starlette.responses import Response

from actor.fetch import Fetcher, FetchSettings
from actor.multibase import ed25519_multikey
from actor.remote import RemoteActorRow, RemoteActors, keys_of
from actor.signatures import Message, SigningKey, sign_request
from actor.verification import Verified, verify_request
from store import Database
from tests.actor.loopback import Peer, actor_document, pem, running_peer
from tests.support.clock import Clock
from tests.support.held_pool import CEILING, pool_taken

OLD_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NEW_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()
TTL = timedelta(hours=1)
INTERVAL = timedelta(seconds=60)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with running_peer() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def actors(db: Database, clock: Clock) -> AsyncIterator[RemoteActors]:
    fetcher = Fetcher(FetchSettings(allow_private=True))
    yield RemoteActors(db, fetcher, ttl=TTL, refresh_interval=INTERVAL, clock=clock)
    await fetcher.aclose()


async def test_a_key_is_fetched_with_its_actor_and_stored(
    peer: Peer, actors: RemoteActors, db: Database
) -> None:
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    key = await actors.key_for(peer.url("/users/alice#main-key"))
    assert key is not None
    assert key.owner == peer.url("/users/alice")
    assert key.public_key == OLD_KEY.public_key()
    assert key.cached is False

    ed = await actors.key_for(peer.url("/users/alice#ed25519-key"))
    assert ed is not None and ed.public_key == ED_KEY.public_key()
    async with db.sessions() as session:
        row = (await session.execute(select(RemoteActorRow))).scalar_one()
    assert row.inbox == peer.url("/users/alice/inbox")
    assert row.shared_inbox == peer.url("/inbox")
    assert list(row.public_keys or {}) == [peer.url("/users/alice#main-key")]
    assert row.gone_at is None


async def test_a_key_is_fetched_and_stored_while_another_request_holds_the_pool(
    peer: Peer, actors: RemoteActors, db: Database
) -> None:
    """A stranger's key, fetched for its first delivery: the claim of the fetch and the
    row it stores are units of work, so neither waits for the app's one pooled
    connection (issue 18), and none is held across the GET."""
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY))
    async with pool_taken(db):
        key = await asyncio.wait_for(actors.key_for(peer.url("/users/alice#main-key")), CEILING)
    assert key is not None and key.public_key == OLD_KEY.public_key()
    async with db.sessions() as session:
        row = (await session.execute(select(RemoteActorRow))).scalar_one()
    assert row.inbox == peer.url("/users/alice/inbox")


async def test_within_the_ttl_the_cache_answers_without_a_request(
    peer: Peer, actors: RemoteActors, clock: Clock
) -> None:
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    key_id = peer.url("/users/alice#main-key")
    await actors.key_for(key_id)
    clock.advance(TTL - timedelta(seconds=1))
    again = await actors.key_for(key_id)
    assert again is not None and again.cached is True
    assert (await actors.actor(peer.url("/users/alice"))) is not None
    assert peer.hits["/users/alice"] == 1

    clock.advance(timedelta(seconds=2))  # past the TTL
    assert await actors.key_for(key_id) is not None
    assert peer.hits["/users/alice"] == 2


async def test_when_the_peer_rotates_its_key_one_refresh_fetches_the_new_one(
    peer: Peer, actors: RemoteActors, clock: Clock
) -> None:
    key_id = peer.url("/users/alice#main-key")
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    await actors.key_for(key_id)
    clock.advance(INTERVAL)  # any fetch, the first one too, opens an interval
    peer.serve_json("/users/alice", actor_document(peer, NEW_KEY, ed_key=ED_KEY))

    cached = await actors.key_for(key_id)
    assert cached is not None and cached.public_key == OLD_KEY.public_key()
    fresh = await actors.key_for(key_id, refresh=True)
    assert fresh is not None and fresh.public_key == NEW_KEY.public_key()
    assert peer.hits["/users/alice"] == 2
    # And the new key is what the cache holds from now on.
    later = await actors.key_for(key_id)
    assert later is not None and later.public_key == NEW_KEY.public_key()


async def test_a_flood_of_refresh_requests_fetches_at_most_once_per_interval(
    peer: Peer, actors: RemoteActors, clock: Clock
) -> None:
    key_id = peer.url("/users/alice#main-key")
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    await actors.key_for(key_id)
    clock.advance(INTERVAL)

    await asyncio.gather(*(actors.key_for(key_id, refresh=True) for _ in range(20)))
    for _ in range(20):
        assert await actors.key_for(key_id, refresh=True) is not None
    # Other key ids on the same actor share its allowance.
    await actors.key_for(peer.url("/users/alice#made-up"), refresh=True)
    assert peer.hits["/users/alice"] == 2

    clock.advance(INTERVAL)
    await actors.key_for(key_id, refresh=True)
    assert peer.hits["/users/alice"] == 3


async def test_an_unreachable_actor_is_asked_at_most_once_per_interval(
    peer: Peer, actors: RemoteActors, clock: Clock
) -> None:
    peer.serve("/users/bob", lambda _r: Response(status_code=503))
    for _ in range(10):
        assert await actors.key_for(peer.url("/users/bob#main-key")) is None
    assert peer.hits["/users/bob"] == 1
    clock.advance(INTERVAL)
    peer.serve_json("/users/bob", actor_document(peer, OLD_KEY, path="/users/bob"))
    assert await actors.key_for(peer.url("/users/bob#main-key")) is not None


async def test_a_rotated_key_verifies_after_exactly_one_refetch(
    peer: Peer, actors: RemoteActors, clock: Clock
) -> None:
    key_id = peer.url("/users/alice#main-key")
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    await actors.key_for(key_id)
    clock.advance(INTERVAL)
    peer.serve_json("/users/alice", actor_document(peer, NEW_KEY, ed_key=ED_KEY))

    def signed_with(key: rsa.RSAPrivateKey) -> Message:
        message = Message.of("GET", "https://cart.test/orders/1", {"host": "cart.test"})
        headers = sign_request(message, SigningKey(key_id, key))
        return Message.of("GET", message.url, {**message.headers, **headers})

    result = await verify_request(signed_with(NEW_KEY), actors)
    assert isinstance(result, Verified) and result.key_refreshed
    assert peer.hits["/users/alice"] == 2
    for _ in range(10):
        assert not (await verify_request(signed_with(OLD_KEY), actors)).ok
    assert peer.hits["/users/alice"] == 2


@pytest.mark.parametrize("status", [404, 410])
async def test_an_actor_that_is_gone_is_marked_and_not_asked_again(
    peer: Peer, actors: RemoteActors, db: Database, clock: Clock, status: int
) -> None:
    key_id = peer.url("/users/alice#main-key")
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    assert await actors.key_for(key_id) is not None
    clock.advance(TTL * 2)
    peer.serve("/users/alice", lambda _r: Response(status_code=status))

    assert await actors.key_for(key_id) is None
    assert await actors.actor(peer.url("/users/alice")) is None
    async with db.sessions() as session:
        row = await session.get(RemoteActorRow, peer.url("/users/alice"))
    assert row is not None and row.gone_at == clock.now
    assert await actors.key_for(key_id) is None
    assert peer.hits["/users/alice"] == 2


async def test_a_deleted_actor_is_forgotten_at_once(peer: Peer, actors: RemoteActors) -> None:
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    assert await actors.key_for(peer.url("/users/alice#main-key")) is not None
    await actors.mark_gone(peer.url("/users/alice"))
    assert await actors.key_for(peer.url("/users/alice#main-key")) is None
    assert peer.hits["/users/alice"] == 1


async def test_with_the_guard_on_a_key_on_a_private_address_is_not_fetched(
    peer: Peer, db: Database, clock: Clock
) -> None:
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    fetcher = Fetcher(FetchSettings(allow_private=False))
    try:
        guarded = RemoteActors(db, fetcher, clock=clock)
        assert await guarded.key_for(peer.url("/users/alice#main-key")) is None
    finally:
        await fetcher.aclose()
    assert peer.hits["/users/alice"] == 0


async def test_a_key_id_pointing_at_a_stub_resolves_through_its_owner(
    peer: Peer, actors: RemoteActors
) -> None:
    # GoToSocial's keyId is .../main-key, answering a stub that names the actor.
    document = actor_document(peer, OLD_KEY, ed_key=ED_KEY)
    document["publicKey"]["id"] = peer.url("/users/alice/main-key")
    peer.serve_json("/users/alice", document)
    peer.serve_json(
        "/users/alice/main-key",
        {"id": peer.url("/users/alice"), "publicKey": document["publicKey"]},
    )
    key = await actors.key_for(peer.url("/users/alice/main-key"))
    assert key is not None and key.owner == peer.url("/users/alice")
    assert await actors.key_for(peer.url("/users/alice/main-key")) is not None
    assert peer.hits == {"/users/alice/main-key": 1, "/users/alice": 1}


async def test_a_key_document_naming_its_owner_resolves_once_and_is_remembered(
    peer: Peer, actors: RemoteActors
) -> None:
    document = actor_document(peer, OLD_KEY, ed_key=ED_KEY)
    document["publicKey"]["id"] = peer.url("/keys/1")
    peer.serve_json("/users/alice", document)
    peer.serve_json("/keys/1", {**document["publicKey"]})
    for _ in range(3):
        key = await actors.key_for(peer.url("/keys/1"))
        assert key is not None and key.owner == peer.url("/users/alice")
    assert peer.hits == {"/keys/1": 1, "/users/alice": 1}
    assert await actors.actor(peer.url("/keys/1")) is None


async def test_a_key_document_naming_an_owner_on_another_origin_is_refused(
    peer: Peer, actors: RemoteActors
) -> None:
    peer.serve_json(
        "/keys/1",
        {
            "id": peer.url("/keys/1"),
            "owner": "https://victim.example/users/v",
            "publicKeyPem": pem(OLD_KEY),
        },
    )
    assert await actors.key_for(peer.url("/keys/1")) is None


async def test_an_actor_that_does_not_list_the_key_does_not_vouch_for_it(
    peer: Peer, actors: RemoteActors
) -> None:
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    peer.serve_json(
        "/keys/stray",
        {
            "id": peer.url("/keys/stray"),
            "owner": peer.url("/users/alice"),
            "publicKeyPem": pem(NEW_KEY),
        },
    )
    assert await actors.key_for(peer.url("/keys/stray")) is None


async def test_an_actor_listing_someone_elses_key_id_cannot_shadow_its_owner(
    peer: Peer, actors: RemoteActors
) -> None:
    mallory = actor_document(peer, NEW_KEY, path="/users/mallory")
    mallory["publicKey"]["id"] = peer.url("/users/alice#main-key")
    peer.serve_json("/users/mallory", mallory)
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY, ed_key=ED_KEY))
    await actors.actor(peer.url("/users/mallory"))

    key = await actors.key_for(peer.url("/users/alice#main-key"))
    assert key is not None
    assert (key.owner, key.public_key) == (peer.url("/users/alice"), OLD_KEY.public_key())


def test_keys_claiming_another_owner_or_on_another_origin_are_ignored() -> None:
    document = {
        "id": "https://a.example/actor",
        "publicKey": [
            {
                "id": "https://a.example/actor#k1",
                "owner": "https://b.example/x",
                "publicKeyPem": "P1",
            },
            {
                "id": "https://b.example/keys/k0",
                "owner": "https://a.example/actor",
                "publicKeyPem": "P0",
            },
            {
                "id": "https://a.example/actor#k2",
                "owner": "https://a.example/actor",
                "publicKeyPem": "P2",
            },
        ],
        "assertionMethod": {
            "id": "https://a.example/actor#ed",
            "type": "Multikey",
            "controller": "https://b.example/x",
            "publicKeyMultibase": ed25519_multikey(ED_KEY.public_key()),
        },
    }
    keys = keys_of(document)
    assert (keys.public_keys, keys.multikeys) == ({"https://a.example/actor#k2": "P2"}, {})


async def test_every_listed_key_verifies_and_the_bare_actor_iri_means_the_first(
    peer: Peer, actors: RemoteActors
) -> None:
    document = actor_document(peer, OLD_KEY, ed_key=ED_KEY)
    second = {
        "id": peer.url("/users/alice#second-key"),
        "owner": peer.url("/users/alice"),
        "publicKeyPem": pem(NEW_KEY),
    }
    document["publicKey"] = [document["publicKey"], second]
    peer.serve_json("/users/alice", document)

    by_second = await actors.key_for(peer.url("/users/alice#second-key"))
    assert by_second is not None and by_second.public_key == NEW_KEY.public_key()
    by_actor = await actors.key_for(peer.url("/users/alice"))
    assert by_actor is not None and by_actor.public_key == OLD_KEY.public_key()
    assert by_actor.owner == peer.url("/users/alice")
    assert peer.hits["/users/alice"] == 1  # one fetch served all three keys


async def test_a_missing_key_is_explained_by_what_the_actor_lists(
    peer: Peer, actors: RemoteActors
) -> None:
    peer.serve_json("/users/alice", actor_document(peer, OLD_KEY))
    peer.serve("/users/bob", lambda _r: Response(status_code=503))
    made_up = peer.url("/users/alice#made-up")
    assert await actors.key_for(made_up) is None
    why = await actors.why_no_key(made_up)
    assert "does not list the key" in why and peer.url("/users/alice#main-key") in why
    assert await actors.key_for(peer.url("/users/bob#main-key")) is None
    assert "could not be fetched" in await actors.why_no_key(peer.url("/users/bob#main-key"))
