"""A stranger's loop of federation requests is held back at the edge, before any work.

Issue 14: a stranger may name a fresh actor, key or host in every request (a fresh host
gets fresh per-host budgets), but it sends them all from where it is. Past a burst, a
client address's inbox POSTs and signed collection GETs are answered 429 by the pacer
(service/pacing.py) from the method, the path and the address alone, held back first:
no signature is checked, no key fetched, no body read, nothing stored. Requests that
claim a peer's key are left to the inbox's own budgets, so a stranger next door does not
hold a peer back. Over real HTTP; the pacer's hold is recorded, not waited for.
"""

from __future__ import annotations

import json

import httpx
import pytest

from actor.http_auth import SignatureAuth
from actor.signatures import SigningKey
from service.pacing import MAX_HOLD, PEER_KEY_FACTOR
from tests.service.test_pacing import Holds
from tests.support import loopback
from tests.support.inbox_peers import Served
from tests.support.minting import deliver_as, like_from, minted_actor
from tests.support.peers import AS2, RemotePeer
from tests.support.state import snapshot

BURST = 3


@pytest.fixture
def over_the_network() -> bool:
    return True  # as a stranger sends them: over real HTTP to uvicorn


@pytest.fixture
def inbox_settings_extra() -> dict[str, object]:
    # So low a rate that no request comes back into the budget while the test runs.
    return {"federation_client_rate": 0.0001, "federation_client_burst": BURST}


@pytest.fixture
def holds(served: Served) -> Holds:
    recorded = Holds()
    served.app.state.pacer.hold = recorded
    return recorded


def assert_held_back(answer: httpx.Response, holds: Holds, rule: str = "federation") -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["paced"] == rule
    assert int(answer.headers["retry-after"]) >= 1
    assert holds.asked and holds.asked[-1] == MAX_HOLD  # held before it was answered


async def test_follows_from_minted_actors_past_the_burst_are_held_back_unfetched_and_unstored(
    served: Served, stranger: RemotePeer, market: RemotePeer, holds: Holds
) -> None:
    target = f"{served.base_url}/actor"

    def follow_from(actor_id: str) -> dict[str, object]:
        return {**like_from(stranger, actor_id, target), "type": "Follow"}

    for number in range(BURST):
        actor_id = minted_actor(stranger, number)
        answer = await deliver_as(stranger, actor_id, served.inbox, follow_from(actor_id))
        assert answer.status_code == 202, answer.text
    assert holds.asked == []
    before = await snapshot(served.db)

    actor_id = minted_actor(stranger, BURST)
    answer = await deliver_as(stranger, actor_id, served.inbox, follow_from(actor_id))

    assert_held_back(answer, holds)
    assert stranger.app.hits.get(f"/actors/{BURST}", 0) == 0  # its key was never asked for
    assert await snapshot(served.db) == before
    # A peer delivering from the same address is not held back by its neighbour's loop.
    follow = market.activity("Follow", target)
    assert (await market.deliver(served.inbox, follow)).status_code == 202


async def test_signed_reads_under_made_up_keys_past_the_burst_are_held_back_unfetched(
    served: Served, stranger: RemotePeer, holds: Holds
) -> None:
    async def read_followers(key_id: str) -> httpx.Response:
        auth = SignatureAuth(SigningKey(key_id, stranger.private), double_knock=False)
        async with loopback.client(auth=auth, timeout=10) as client:
            return await client.get(f"{served.base_url}/followers?page=1", headers={"Accept": AS2})

    for number in range(BURST):  # a key we do not hold reads the anonymous page
        answer = await read_followers(f"{stranger.base_url}/keys/{number}")
        assert answer.status_code == 200, answer.text
    asked = sum(stranger.app.hits.values())

    answer = await read_followers(f"{stranger.base_url}/keys/{BURST}")

    assert_held_back(answer, holds)
    assert sum(stranger.app.hits.values()) == asked  # nothing fetched for it
    async with loopback.client(timeout=10) as anonymous:  # an unsigned read is not paced
        page = await anonymous.get(f"{served.base_url}/followers?page=1", headers={"Accept": AS2})
    assert page.status_code == 200, page.text


async def test_a_stranger_claiming_a_peers_key_is_paced_by_the_larger_peer_budget(
    served: Served, stranger: RemotePeer, market: RemotePeer, holds: Holds
) -> None:
    """The claim is not verified before the pacer, so it buys a larger budget, not none:
    past it, a loop of forged deliveries under a made-up key on the market's origin is held
    back before its signature is checked."""
    forged_key = f"{market.base_url}/actor#made-up"
    like = like_from(stranger, f"{market.base_url}/actor", f"{served.base_url}/actor")

    async def forge() -> httpx.Response:
        auth = SignatureAuth(SigningKey(forged_key, stranger.private), double_knock=False)
        async with loopback.client(auth=auth, timeout=10) as client:
            body = json.dumps(like).encode()
            return await client.post(served.inbox, content=body, headers={"Content-Type": AS2})

    for _ in range(BURST * PEER_KEY_FACTOR):
        assert (await forge()).status_code == 401  # the signature check refuses each
    assert holds.asked == []
    before = await snapshot(served.db)

    answer = await forge()

    assert_held_back(answer, holds, "federation-peer-key")
    assert await snapshot(served.db) == before


async def test_the_paced_deliveries_are_counted_on_metrics(
    served: Served, stranger: RemotePeer, holds: Holds
) -> None:
    for _ in range(BURST + 2):
        async with loopback.client(timeout=10) as client:  # unsigned: a 401 each, cheap
            await client.post(
                served.inbox, content=json.dumps({}).encode(), headers={"Content-Type": AS2}
            )
    async with loopback.client() as client:
        metrics = (await client.get(f"{served.base_url}/metrics")).text
    assert 'rose_cart_paced_refusals_total{rule="federation"} 2' in metrics
