"""A made-up keyId costs us little: checked for shape first, fetched within a per-host
budget and not again soon after failing, and the rows it leaves are deleted soon.

Before: 300 requests with made-up keyIds made 300 signed GETs from us and 300 lasting
`remote_actors` rows; 60 KB keyIds stored 6.5 MB in 2 s. Over real HTTP: the signer's
server counts what we ask it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from actor.http_auth import SignatureAuth
from actor.remote import RemoteActorRow
from actor.remote_retention import purge_untrusted_actors
from actor.signatures import SigningKey
from outbox.models import Follower
from store import utcnow
from tests.support import loopback
from tests.support.inbox_peers import Served
from tests.support.peers import AS2, RemotePeer, remote_peer
from tests.support.state import snapshot


@pytest.fixture
def over_the_network() -> bool:
    return True  # issue 14's findings as a stranger sends them: over real HTTP to uvicorn


BURST = 4


@pytest.fixture
def inbox_settings_extra() -> dict[str, object]:
    return {"key_fetch_host_rate": 0.0001, "key_fetch_host_burst": BURST}


async def deliver_with_key_id(peer: RemotePeer, served: Served, key_id: str) -> httpx.Response:
    follow = peer.activity("Follow", f"{served.base_url}/actor")
    auth = SignatureAuth(SigningKey(key_id, peer.private), double_knock=False)
    async with loopback.client(auth=auth, timeout=10) as client:
        return await client.post(
            served.inbox, content=json.dumps(follow).encode(), headers={"Content-Type": AS2}
        )


def fetches(peer: RemotePeer) -> int:
    return sum(count for path, count in peer.app.hits.items() if path.startswith("/made-up/"))


async def remote_rows(served: Served) -> int:
    async with served.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(RemoteActorRow)) or 0)


async def test_a_60_kb_key_id_is_refused_before_any_lookup(
    served: Served, stranger: RemotePeer
) -> None:
    before = await snapshot(served.db, caches=True)
    answer = await deliver_with_key_id(
        stranger, served, f"{stranger.base_url}/made-up/{'k' * 60_000}#key"
    )
    assert answer.status_code == 400, answer.text[:300]
    assert "longer than 2048" in answer.json()["detail"]
    assert len(answer.content) < 2000  # the problem does not echo the keyId back
    assert fetches(stranger) == 0
    assert await snapshot(served.db, caches=True) == before


@pytest.mark.parametrize(
    "key_id", ["not a url", "ftp://h.example/k", "https://user:pw@h.example/k", "/relative#k"]
)
async def test_a_key_id_that_is_no_fetchable_url_is_refused_as_malformed(
    served: Served, stranger: RemotePeer, key_id: str
) -> None:
    answer = await deliver_with_key_id(stranger, served, key_id)
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"].endswith("malformed")
    assert await remote_rows(served) == 0


async def test_made_up_key_ids_on_one_host_cost_at_most_the_budget_and_leave_no_lasting_rows(
    served: Served, stranger: RemotePeer, market: RemotePeer
) -> None:
    answers = [
        await deliver_with_key_id(stranger, served, f"{stranger.base_url}/made-up/{n}#key")
        for n in range(3 * BURST)
    ]

    assert [a.status_code for a in answers] == [401] * (3 * BURST)
    assert fetches(stranger) == BURST
    assert "too many unknown keys" in answers[-1].json()["detail"]
    assert await remote_rows(served) <= BURST
    async with loopback.client() as client:
        metrics = (await client.get(f"{served.base_url}/metrics")).text
    counted = [
        int(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("rose_cart_remote_actors{")
    ]
    assert len(counted) == 3 and sum(counted) == BURST  # fetched, unfetched, gone (404)

    # A peer is not held back by a stranger's flood, on the same host name too (loopback).
    follow = market.activity("Follow", f"{served.base_url}/actor")
    assert (await market.deliver(served.inbox, follow)).status_code == 202

    # The clean-up loop's rule: strangers' rows go once they are an hour old; peers stay.
    async with served.db.transaction() as session:
        removed = await session.run_sync(
            purge_untrusted_actors,
            keep=[market.actor_id],
            keep_query=select(Follower.ap_actor_id),
            older_than=timedelta(hours=1),
            now=utcnow() + timedelta(hours=2),
        )
    assert removed == BURST
    async with served.db.transaction() as session:
        left = list((await session.execute(select(RemoteActorRow.ap_id))).scalars())
    assert left == [market.actor_id]


async def test_the_ports_of_one_host_share_its_budget(served: Served, stranger: RemotePeer) -> None:
    async with remote_peer("next-door") as next_door:  # another port, the same host name
        assert urlsplit(next_door.base_url).port != urlsplit(stranger.base_url).port
        for n in range(BURST):
            await deliver_with_key_id(stranger, served, f"{stranger.base_url}/made-up/{n}#key")
        before = await snapshot(served.db)

        answer = await deliver_with_key_id(next_door, served, f"{next_door.base_url}/made-up/0#key")

        assert answer.status_code == 401
        assert "too many unknown keys on 127.0.0.1" in answer.json()["detail"]
        assert fetches(next_door) == 0
        assert await snapshot(served.db) == before


async def test_a_key_id_that_failed_is_not_fetched_again_soon(
    served: Served, stranger: RemotePeer
) -> None:
    key_id = f"{stranger.base_url}/made-up/once#key"
    answers = [await deliver_with_key_id(stranger, served, key_id) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert fetches(stranger) == 1
    assert "gone" in answers[-1].json()["detail"]  # the 404 we met, remembered


async def test_after_the_row_is_gone_a_failed_key_id_is_still_not_fetched_again_soon(
    served: Served, stranger: RemotePeer
) -> None:
    key_id = f"{stranger.base_url}/made-up/twice#key"
    assert (await deliver_with_key_id(stranger, served, key_id)).status_code == 401
    async with served.db.transaction() as session:  # as the clean-up loop would
        await session.run_sync(
            purge_untrusted_actors,
            keep=[],
            keep_query=select(Follower.ap_actor_id),
            older_than=timedelta(0),
            now=utcnow() + timedelta(seconds=1),
        )
    answer = await deliver_with_key_id(stranger, served, key_id)
    assert answer.status_code == 401
    assert "failed recently" in answer.json()["detail"]
    assert fetches(stranger) == 1
    assert await remote_rows(served) == 0
