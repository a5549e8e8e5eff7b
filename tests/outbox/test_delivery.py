"""The delivery worker against real inboxes on loopback that verify our signatures."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from actor.fetch import Fetcher, FetchSettings
from actor.remote import RemoteActors
from actor.schemes import PeerSignatureScheme
from outbox.hosts import mark_contacted
from outbox.models import DeliveryHost, Follower
from outbox.publish import publish
from outbox.queue import delivery_status, failed_deliveries, retry_deliveries
from outbox.schedule import backoff
from outbox.states import DeliveryState, FollowerState
from outbox.worker import DeliverySettings, DeliveryWorker
from store import Database
from tests.actor.loopback import running_peer
from tests.outbox.support import (
    LOOPBACK,
    Receiver,
    add_follower,
    create_note,
    deliveries,
    local_actor,
    signature_auth,
)
from tests.support.clock import Clock
from tests.support.held_pool import CEILING, pool_taken
from tests.support.loopback import serving

ACTOR = local_actor()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    inbox = Receiver(ACTOR)
    async with serving(inbox, lifespan="off") as base_url:
        inbox.base_url = base_url
        yield inbox


@pytest.fixture
def clock() -> Clock:
    return Clock.from_wall_time()


@pytest.fixture
async def worker(db: Database, clock: Clock) -> AsyncIterator[DeliveryWorker]:
    w = DeliveryWorker(
        db,
        signature_auth(ACTOR),
        DeliverySettings(allow_private=True),
        clock=clock,
        rand=lambda: 0.0,
    )
    yield w
    await w.aclose()


async def publish_notes(db: Database, clock: Clock, *numbers: int) -> None:
    async with db.transaction() as session:
        for number in numbers:
            await publish(session, create_note(ACTOR, number), now=clock())


def answering(*statuses: int, headers: dict[str, str] | None = None) -> Any:
    """Answer with these statuses in turn, then 202 for ever."""
    queue = list(statuses)

    def answer(request: Request, document: dict[str, Any]) -> Response:
        return Response(status_code=queue.pop(0) if queue else 202, headers=headers)

    return answer


async def test_each_follower_inbox_gets_one_signed_delivery_and_a_shared_inbox_one_for_all(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    for name in ("ann", "bob", "cy"):
        await add_follower(
            db, f"https://x/{name}", receiver.url(f"/users/{name}/inbox"), receiver.url("/inbox")
        )
    await add_follower(db, "https://y/dee", receiver.url("/users/dee/inbox"))
    await publish_notes(db, clock, 1)

    assert await worker.step() == 2
    assert sorted(a.path for a in receiver.arrivals) == ["/inbox", "/users/dee/inbox"]
    assert all(a.verified and a.independently_verified for a in receiver.arrivals)
    assert receiver.seen() == [create_note(ACTOR, 1)["id"]] * 2
    assert {d.status for d in await deliveries(db)} == {DeliveryState.DONE}
    assert await worker.step() == 0  # nothing is sent twice


async def test_a_batch_goes_out_and_is_recorded_while_the_pool_is_taken(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    """Every database step of a batch (claim, reads, outcomes) is a unit of work on the
    database's own connections: none waits for the pooled one that another request holds,
    and none holds it across the POSTs (issue 18)."""
    receiver.answer = answering(202, 500)
    await add_follower(db, "https://x/ann", receiver.url("/users/ann/inbox"))
    await add_follower(db, "https://x/bob", receiver.url("/users/bob/inbox"))
    await publish_notes(db, clock, 1)

    async with pool_taken(db):
        assert await asyncio.wait_for(worker.step(), CEILING) == 2

    assert len(receiver.arrivals) == 2
    states = sorted(d.status for d in await deliveries(db))
    assert states == [DeliveryState.DONE, DeliveryState.PENDING]  # the 500 is retried later


async def test_a_500_is_retried_on_schedule_and_then_delivered(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    receiver.answer = answering(500, 503)
    await add_follower(db, "https://x/ann", receiver.url("/inbox"))
    await publish_notes(db, clock, 1)

    await worker.step()
    [row] = await deliveries(db)
    assert (row.status, row.attempts, row.last_status) == (DeliveryState.PENDING, 1, 500)
    assert row.next_attempt_at == clock() + backoff(1)

    clock.advance(backoff(1) - timedelta(seconds=1))
    assert await worker.step() == 0  # not due yet
    clock.advance(timedelta(seconds=1))
    await worker.step()
    [row] = await deliveries(db)
    assert (row.attempts, row.last_status, row.next_attempt_at) == (2, 503, clock() + backoff(2))

    clock.advance(backoff(2))
    await worker.step()
    [row] = await deliveries(db)
    assert (row.status, row.attempts) == (DeliveryState.DONE, 3)
    assert len(receiver.seen()) == 3


async def test_a_server_that_never_recovers_is_tried_for_72_hours_then_given_up(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    receiver.answer = lambda request, document: Response(status_code=500)
    await add_follower(db, "https://x/ann", receiver.url("/inbox"))
    start = clock()
    await publish_notes(db, clock, 1)
    attempt_times = []
    while True:
        attempt_times.append(clock() - start)
        await worker.step()
        [row] = await deliveries(db)
        if row.status != DeliveryState.PENDING:
            break
        clock.now = row.next_attempt_at
    assert row.status == DeliveryState.DEAD
    minutes = [int(t.total_seconds() // 60) for t in attempt_times]
    # The schedule in outbox/schedule.py's docstring (jitter off in this test).
    assert minutes == [0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 1743, 2463, 3183, 3903]
    assert len(receiver.seen()) == 15
    assert attempt_times[-1] <= timedelta(hours=72)


async def test_429_with_retry_after_waits_as_long_as_the_server_asks(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    receiver.answer = answering(429, headers={"Retry-After": "600"})
    await add_follower(db, "https://x/ann", receiver.url("/inbox"))
    await publish_notes(db, clock, 1)
    await worker.step()
    [row] = await deliveries(db)
    assert row.next_attempt_at == clock() + timedelta(seconds=600)
    clock.advance(timedelta(minutes=9))
    assert await worker.step() == 0
    clock.advance(timedelta(minutes=1))
    await worker.step()
    assert [d.status for d in await deliveries(db)] == [DeliveryState.DONE]


async def test_timeouts_and_refused_connections_are_retried(
    db: Database, receiver: Receiver, clock: Clock
) -> None:
    async def slow(request: Request, document: dict[str, Any]) -> Response:
        await asyncio.sleep(1.0)
        return Response(status_code=202)

    receiver.answer = slow
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}/inbox"
    await add_follower(db, "https://x/slow", receiver.url("/inbox"))
    await add_follower(db, "https://y/nobody", refused)
    await publish_notes(db, clock, 1)
    impatient = DeliveryWorker(
        db,
        signature_auth(ACTOR),
        DeliverySettings(allow_private=True, total_seconds=0.3),
        clock=clock,
    )
    try:
        await impatient.step()
    finally:
        await impatient.aclose()
    rows = {d.inbox: d for d in await deliveries(db)}
    for row in rows.values():
        assert (row.status, row.attempts, row.last_status) == (DeliveryState.PENDING, 1, None)
    assert "Timeout" in (rows[receiver.url("/inbox")].last_error or "")
    assert "Connect" in (rows[refused].last_error or "")


async def test_410_removes_the_follower_and_other_4xx_are_dead_until_retried(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    def answer(request: Request, document: dict[str, Any]) -> Response:
        return Response(status_code=410 if request.url.path == "/gone" else 404)

    receiver.answer = answer
    await add_follower(db, "https://x/gone", receiver.url("/gone"))
    await add_follower(db, "https://y/lost", receiver.url("/lost"))
    await publish_notes(db, clock, 1)
    await worker.step()

    async with db.sessions() as session:
        states = dict((await session.execute(select(Follower.ap_actor_id, Follower.state))).all())
        assert states == {
            "https://x/gone": FollowerState.REMOVED,
            "https://y/lost": FollowerState.ACCEPTED,
        }
        failed = await failed_deliveries(session)
        assert sorted(f.last_status or 0 for f in failed) == [404, 410]
        assert (await delivery_status(session))["dead"] == 2

    receiver.answer = None
    lost = next(f.id for f in failed if f.last_status == 404)
    async with db.transaction() as session:
        assert await retry_deliveries(session, [lost], now=clock()) == 1
    await worker.step()
    assert receiver.seen("/lost") == [create_note(ACTOR, 1)["id"]] * 2
    async with db.sessions() as session:
        assert (await delivery_status(session))["done"] == 1


async def test_the_breaker_opens_on_a_failing_host_and_closes_when_it_answers(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    receiver.answer = lambda request, document: Response(status_code=502)
    await add_follower(db, "https://x/ann", receiver.url("/inbox"))
    await publish_notes(db, clock, *range(1, 11))

    await worker.step()
    # Five failures open the breaker; only those already under way (per_host) follow.
    assert 5 <= len(receiver.arrivals) <= 5 + worker.per_host - 1
    async with db.sessions() as session:
        [host] = (await session.execute(select(DeliveryHost))).scalars().all()
    assert host.open_until is not None and host.open_until > clock()
    clock.advance(timedelta(seconds=90))  # every failed delivery is due again, but the host is open
    assert await worker.step() == 0
    assert len(receiver.arrivals) <= 8

    receiver.answer = None
    clock.now = host.open_until
    await worker.step()  # half-open: one probe succeeds, the breaker closes, the rest follow
    assert sorted(set(receiver.seen())) == sorted(create_note(ACTOR, n)["id"] for n in range(1, 11))
    assert {d.status for d in await deliveries(db)} == {DeliveryState.DONE}
    async with db.sessions() as session:
        [host] = (await session.execute(select(DeliveryHost))).scalars().all()
    assert (host.consecutive_failures, host.open_until) == (0, None)


async def test_a_host_failing_for_7_days_is_skipped_until_it_contacts_us(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    receiver.answer = lambda request, document: Response(status_code=503)
    await add_follower(db, "https://x/ann", receiver.url("/inbox"))
    await publish_notes(db, clock, 1)
    await worker.step()
    clock.advance(timedelta(days=7))
    await publish_notes(db, clock, 2)
    await worker.step()  # still failing, a week after the first failure: unavailable
    tried = len(receiver.arrivals)
    await publish_notes(db, clock, 3)
    clock.advance(timedelta(hours=1))
    assert await worker.step() == 0
    assert len(receiver.arrivals) == tried
    assert {d.status for d in await deliveries(db)} == {DeliveryState.HELD, DeliveryState.DEAD}

    receiver.answer = None
    async with db.transaction() as session:
        assert await session.run_sync(mark_contacted, receiver.base_url, now=clock()) >= 2
    await worker.step()
    assert create_note(ACTOR, 3)["id"] in receiver.seen()


async def test_a_peer_refusing_draft_cavage_gets_rfc9421_and_that_is_remembered(
    db: Database, receiver: Receiver, worker: DeliveryWorker, clock: Clock
) -> None:
    def only_rfc9421(request: Request, document: dict[str, Any]) -> Response:
        return Response(status_code=202 if "signature-input" in request.headers else 401)

    receiver.answer = only_rfc9421
    await add_follower(db, "https://x/ann", receiver.url("/inbox"))
    await publish_notes(db, clock, 1)
    await worker.step()
    assert [d.status for d in await deliveries(db)] == [DeliveryState.DONE]
    async with db.sessions() as session:
        [remembered] = (await session.execute(select(PeerSignatureScheme))).scalars().all()
    assert remembered.origin == receiver.base_url
    await publish_notes(db, clock, 2)
    before = len(receiver.arrivals)
    await worker.step()
    assert len(receiver.arrivals) == before + 1  # no second knock needed


async def test_an_addressed_actor_not_cached_at_publish_time_is_resolved_then_delivered(
    db: Database, receiver: Receiver, clock: Clock
) -> None:
    async with running_peer() as peer:
        peer.serve_json(
            "/actor",
            {"id": peer.url("/actor"), "type": "Service", "inbox": receiver.url("/cal/inbox")},
        )
        fetcher = Fetcher(FetchSettings(allow_private=True))
        worker = DeliveryWorker(
            db,
            signature_auth(ACTOR),
            LOOPBACK,
            remote=RemoteActors(db, fetcher),
            clock=clock,
        )
        try:
            async with db.transaction() as session:
                await publish(session, create_note(ACTOR, 1, cc=(peer.url("/actor"),)), now=clock())
            [row] = await deliveries(db)
            assert row.inbox is None
            await worker.step()
        finally:
            await worker.aclose()
            await fetcher.aclose()
    assert receiver.seen("/cal/inbox") == [create_note(ACTOR, 1)["id"]]
    assert [(d.inbox, d.status) for d in await deliveries(db)] == [
        (receiver.url("/cal/inbox"), DeliveryState.DONE)
    ]


async def test_two_workers_at_once_share_the_queue_without_sending_anything_twice(
    db: Database, receiver: Receiver, clock: Clock
) -> None:
    for n in range(12):
        await add_follower(db, f"https://x/{n}", receiver.url(f"/{n}/inbox"))
    await publish_notes(db, clock, 1, 2)
    workers = [
        DeliveryWorker(
            db, signature_auth(ACTOR), DeliverySettings(allow_private=True, batch=10), clock=clock
        )
        for _ in range(2)
    ]
    try:
        while sum(await asyncio.gather(*(w.step() for w in workers))):
            pass
    finally:
        for w in workers:
            await w.aclose()
    sent = [(a.path, a.activity_id) for a in receiver.arrivals]
    assert len(sent) == len(set(sent)) == 24
    assert {d.status for d in await deliveries(db)} == {DeliveryState.DONE}
