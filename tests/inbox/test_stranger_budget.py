"""Senders who mint actors: what they can make us store is bounded per host and in total.

The per-actor limit cannot hold them (each delivery comes from a fresh actor), so actors
we do not follow share a budget per host and one all together; what we do keep of an
ignored activity is a one-line record, deleted by the clean-up loop's retention rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from inbox.models import InboxActivity, InboxStatus
from outbox.models import Follower
from store import retention, utcnow
from tests.support import loopback
from tests.support.held_pool import CEILING, pool_taken
from tests.support.inbox_peers import Served
from tests.support.minting import deliver_as, follow_from, like_from, minted_actor
from tests.support.peers import RemotePeer, remote_peer


@pytest.fixture
def over_the_network() -> bool:
    return True  # issue 14's findings as a stranger sends them: over real HTTP to uvicorn


HOST_BURST = 12
TOTAL_BURST = 20


@pytest.fixture
def inbox_settings_extra() -> dict[str, object]:
    # Rates so low that no token comes back while the test runs: the bursts are the caps.
    return {
        "inbox_host_rate": 0.0001,
        "inbox_host_burst": HOST_BURST,
        "inbox_strangers_rate": 0.0001,
        "inbox_strangers_burst": TOTAL_BURST,
        "inbox_ignored_max": 5,
        "inbox_strangers_max": 5,
        "follow_requests_max": 5,
        # every minted actor's key is fetched: lift that budget (test_unknown_keys.py's)
        "key_fetch_host_burst": 1000,
        # the per-address pacing in front (test_paced_strangers.py's) is not what is tested
        "federation_client_rate": 0,
    }


@pytest.fixture
async def second_host() -> AsyncIterator[RemotePeer]:
    async with remote_peer("elsewhere") as peer:
        yield peer


async def ignored_rows(served: Served) -> list[InboxActivity]:
    async with served.db.transaction() as session:
        query = select(InboxActivity).where(InboxActivity.status == InboxStatus.IGNORED)
        return list((await session.execute(query)).scalars())


async def likes_from_minted_actors(
    served: Served, peer: RemotePeer, count: int, start: int = 0
) -> list[httpx.Response]:
    """Likes from minted actors whose keys we hold (a Like signed with a key we would have
    to fetch is dropped unverified: test_unfetched_likes.py)."""
    answers = []
    remote = served.app.state.federation.remote
    for number in range(start, start + count):
        actor_id = minted_actor(peer, number)
        assert await remote.key_for(f"{actor_id}#main-key") is not None
        like = like_from(peer, actor_id, f"{served.base_url}/actor")
        answers.append(await deliver_as(peer, actor_id, served.inbox, like))
    return answers


async def test_likes_from_minted_actors_on_one_host_store_at_most_the_host_budget(
    served: Served, stranger: RemotePeer
) -> None:
    answers = await likes_from_minted_actors(served, stranger, 2 * HOST_BURST)

    codes = [answer.status_code for answer in answers]
    assert codes == [202] * HOST_BURST + [429] * HOST_BURST
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("rate-limited")
    assert "127.0.0.1" in refused.json()["detail"]  # the host, not the minted actor
    assert int(refused.headers["retry-after"]) >= 1
    rows = await ignored_rows(served)
    assert len(rows) == HOST_BURST
    assert all(len(row.body) < 600 for row in rows)  # a record, not the body


async def test_actors_we_do_not_follow_share_one_budget_across_hosts_and_peers_keep_theirs(
    served: Served, stranger: RemotePeer, second_host: RemotePeer, market: RemotePeer
) -> None:
    first = await likes_from_minted_actors(served, stranger, HOST_BURST)
    second = await likes_from_minted_actors(served, second_host, HOST_BURST)

    accepted = [a for a in first + second if a.status_code == 202]
    assert len(accepted) == TOTAL_BURST
    assert all(a.status_code == 429 for a in second[TOTAL_BURST - HOST_BURST :])
    assert len(await ignored_rows(served)) == TOTAL_BURST
    # The market is a peer we follow: strangers' floods do not spend its budget.
    follow = market.activity("Follow", f"{served.base_url}/actor")
    assert (await market.deliver(served.inbox, follow)).status_code == 202


async def test_the_clean_up_loop_keeps_ignored_records_young_and_few(
    served: Served, stranger: RemotePeer
) -> None:
    await likes_from_minted_actors(served, stranger, 10)
    async with served.db.transaction() as session:
        oldest = select(InboxActivity.id).order_by(InboxActivity.id).limit(2)
        await session.execute(
            update(InboxActivity)
            .where(InboxActivity.id.in_(oldest.scalar_subquery()))
            .values(received_at=utcnow() - timedelta(days=8))
            .execution_options(synchronize_session=False)
        )

    removed = await served.app.state.federation.purge()

    rows = await ignored_rows(served)
    assert removed >= 5 and len(rows) == 5  # 2 too old, then 3 over the cap of 5
    assert min(row.received_at for row in rows) > utcnow() - timedelta(days=7)
    async with loopback.client() as client:
        metrics = (await client.get(f"{served.base_url}/metrics")).text
    assert 'rose_cart_inbox_activities{status="ignored"} 5' in metrics
    async with served.db.transaction() as session:
        total = await session.scalar(select(func.count()).select_from(InboxActivity))
    assert total == 5


async def test_the_clean_up_loop_runs_while_another_request_holds_the_pooled_connection(
    served: Served, stranger: RemotePeer
) -> None:
    """Each retention rule is a unit of work of its own: the loop waits for no pooled
    connection, and holds no write lock across the event loop's turns (issue 18)."""
    await likes_from_minted_actors(served, stranger, 10)

    async with pool_taken(served.app.state.db):
        removed = await asyncio.wait_for(served.app.state.federation.purge(), CEILING)

    assert removed >= 5 and len(await ignored_rows(served)) == 5  # the cap of 5


async def processed_rows(served: Served) -> list[InboxActivity]:
    async with served.db.transaction() as session:
        query = select(InboxActivity).where(InboxActivity.status == InboxStatus.DONE)
        return list((await session.execute(query.order_by(InboxActivity.id))).scalars())


async def test_strangers_processed_follows_are_kept_to_their_cap_and_a_peers_stay(
    served: Served, stranger: RemotePeer, market: RemotePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each minted actor's Follow, padded to 30 KiB, is applied (a pending follower) and
    kept as dedupe memory, but only the newest 5 of them: unbounded, the strangers'
    budget filled the disk at up to 64 KiB a Follow. The peer's Follow stays. The rows
    go two a unit here (store/retention.py's chunks), so the loop takes more than one."""
    monkeypatch.setattr(retention, "CHUNK", 2)
    federation = served.app.state.federation
    follows = []
    for number in range(8):
        actor_id = minted_actor(stranger, number)
        assert await federation.remote.key_for(f"{actor_id}#main-key") is not None
        follow = follow_from(stranger, actor_id, f"{served.base_url}/actor", padding="x" * 30_000)
        assert (await deliver_as(stranger, actor_id, served.inbox, follow)).status_code == 202
        follows.append(follow)
    peer_follow = market.activity("Follow", f"{served.base_url}/actor")
    assert (await market.deliver(served.inbox, peer_follow)).status_code == 202
    while await federation.inbox_worker.step():
        pass
    assert len(await processed_rows(served)) == 9

    await federation.purge()

    kept = [row.ap_id for row in await processed_rows(served)]
    assert kept == [follow["id"] for follow in follows[-5:]] + [peer_follow["id"]]
    # The oldest stranger's repeat, its row gone, is stored and applied again (a kept
    # one's repeat is not: it is acknowledged and nothing is stored).
    first, last = follows[0], follows[-1]
    for repeat in (first, last):
        answer = await deliver_as(stranger, repeat["actor"], served.inbox, repeat)
        assert answer.status_code == 202
    while await federation.inbox_worker.step():
        pass
    kept = [row.ap_id for row in await processed_rows(served)]
    assert kept == [follow["id"] for follow in follows[-5:]] + [peer_follow["id"], first["id"]]


async def test_strangers_follow_requests_are_kept_to_their_cap_and_a_new_one_asks_anew(
    served: Served, stranger: RemotePeer
) -> None:
    """Each minted actor's Follow is a request for the operator (the follows page lists
    them all); an Undo leaves its row too. Only the newest 5 such rows are kept: unbounded,
    the strangers' budget added a request a delivery. Two requests come one at a time,
    then six in one worker batch, which dates them alike: exactly 5 stay all the same,
    five of the batch's six (ties go by actor IRI)."""
    federation = served.app.state.federation
    actors = []
    for number in range(8):
        actor_id = minted_actor(stranger, number)
        assert await federation.remote.key_for(f"{actor_id}#main-key") is not None
        follow = follow_from(stranger, actor_id, f"{served.base_url}/actor")
        assert (await deliver_as(stranger, actor_id, served.inbox, follow)).status_code == 202
        if number < 2:
            await federation.inbox_worker.step()  # each request its own moment
        actors.append(actor_id)
    await federation.inbox_worker.step()  # the last six together

    await federation.purge()

    async with served.db.transaction() as session:
        kept = set((await session.execute(select(Follower.ap_actor_id))).scalars())
    assert kept == set(actors[3:])
    # The oldest, whose request went, follows again: a new request.
    again = follow_from(stranger, actors[0], f"{served.base_url}/actor")
    assert (await deliver_as(stranger, actors[0], served.inbox, again)).status_code == 202
    await federation.inbox_worker.step()
    async with served.db.transaction() as session:
        row = await session.get(Follower, actors[0])
    assert row is not None and row.state == "pending" and row.follow_ap_id == again["id"]
