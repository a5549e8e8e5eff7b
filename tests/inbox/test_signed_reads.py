"""Signed GETs that make us fetch the signer's key must not hold the database meanwhile.

Issue 14: a signed GET of /followers?page=1 from an actor whose key we did not hold made
the collection keep its session open while the key fetch opened a second one; with
SQLite's single connection the request waited 30 s for itself and answered 500. The app
here has a pool of ONE connection and a 2 s timeout (ROSE_CART_DATABASE_POOL_SIZE /
_TIMEOUT), so any handler that holds a connection across network I/O fails loudly. The
signers are real servers on loopback: their keys are fetched over real HTTP.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actor.http_auth import SignatureAuth
from actor.remote import RemoteActorRow
from actor.signatures import SigningKey
from tests.support.inbox_peers import Served
from tests.support.loopback import client
from tests.support.peers import RemotePeer


@pytest.fixture
def over_the_network() -> bool:
    return True  # issue 14's findings as a stranger sends them: over real HTTP to uvicorn


AS2 = "application/activity+json"


@pytest.fixture
def inbox_settings_extra() -> dict[str, object]:
    return {"database_pool_size": 1, "database_pool_timeout": 2.0}


async def _cached(served: Served, actor_id: str) -> bool:
    async with served.db.sessions() as session:
        row = await session.scalar(select(RemoteActorRow).where(RemoteActorRow.ap_id == actor_id))
    return row is not None and row.fetched_at is not None


@pytest.mark.parametrize("path", ["/followers?page=1", "/following?page=1"])
async def test_a_stranger_with_an_unknown_key_gets_the_anonymous_page_unfetched(
    served: Served, stranger: RemotePeer, path: str
) -> None:
    assert not await _cached(served, stranger.actor_id)
    async with client(auth=stranger.auth(), timeout=30) as http:
        answer = await http.get(f"{served.base_url}{path}", headers={"Accept": AS2})
    assert answer.status_code == 200, answer.text
    assert answer.json()["orderedItems"] == []  # counts for everyone, members for few
    # Its key could show it nothing more than the anonymous page: it was not fetched.
    assert stranger.app.hits.get("/actor", 0) == 0
    assert not await _cached(served, stranger.actor_id)


async def test_a_made_up_key_reads_the_anonymous_page_and_costs_no_fetch(
    served: Served, stranger: RemotePeer
) -> None:
    auth = SignatureAuth(
        SigningKey(f"{stranger.base_url}/keys/made-up", stranger.private), double_knock=False
    )
    async with client(auth=auth, timeout=30) as http:
        answer = await http.get(f"{served.base_url}/followers?page=1", headers={"Accept": AS2})
    assert answer.status_code == 200, answer.text
    assert answer.json()["orderedItems"] == []
    assert sum(stranger.app.hits.values()) == 0


async def test_a_peer_whose_key_we_must_fetch_sees_the_members(
    served: Served, market: RemotePeer
) -> None:
    async with client(auth=market.auth(), timeout=30) as http:
        answer = await http.get(f"{served.base_url}/following?page=1", headers={"Accept": AS2})
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["type"] == "OrderedCollectionPage" and page["orderedItems"] == []
    assert await _cached(served, market.actor_id)
