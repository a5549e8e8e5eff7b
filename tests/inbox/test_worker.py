"""The inbox worker and the group-commit writer, driven by step(), on both engines."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from actor.fetch import Fetcher
from actor.incoming import ANY, IncomingActivity
from actor.origin import origin_of
from actor.remote import RemoteActorRow, RemoteActors
from inbox.group_commit import InboxWriter
from inbox.models import InboxActivity, InboxStatus
from inbox.registry import HandlerRegistry
from inbox.worker import LEASE, MAX_ATTEMPTS, InboxWorker, backoff
from outbox.followers import register_follow_handlers
from outbox.hosts import mark_all_contacted
from outbox.models import DeliveryHost, Follower, OutboxActivity, OutboxDelivery
from outbox.publish import publish
from outbox.states import DeliveryState, FollowerState
from store import Database
from tests.outbox.support import local_actor
from tests.support.clock import Clock
from tests.support.locks import writes_blocked
from vocab import model
from vocab.model import Follow


def as_follow(document: dict[str, Any]) -> Follow:
    """What the parser would make of a stored Follow, without its JSON-LD."""
    return Follow(id=document["id"], actor=document["actor"], object="https://cart.test/actor")


def row(
    ap_id: str,
    activity_type: str = "Follow",
    object_type: str | None = None,
    when: datetime | None = None,
) -> dict[str, Any]:
    when = when or datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    document = {"id": ap_id, "type": activity_type, "actor": "https://peer.test/actor"}
    return {
        "ap_id": ap_id,
        "ap_actor_id": "https://peer.test/actor",
        "activity_type": activity_type,
        "object_type": object_type,
        "body": orjson.dumps(document).decode(),
        "status": InboxStatus.PENDING,
        "attempts": 0,
        "received_at": when,
        "next_attempt_at": when,
    }


@pytest.fixture
async def writer(db: Database):  # type: ignore[no-untyped-def]
    w = InboxWriter(db)
    w.start()
    yield w
    await w.stop()


async def statuses(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        rows = (await session.execute(select(InboxActivity.ap_id, InboxActivity.status))).all()
    return dict(rows)  # type: ignore[arg-type]


async def test_concurrent_deliveries_are_committed_together_and_duplicates_are_told_apart(
    db: Database, writer: InboxWriter
) -> None:
    ids = [f"https://peer.test/a/{i}" for i in range(50)]
    results = await asyncio.gather(*(writer.store(row(i)) for i in ids + ids[:10]))
    assert results[:50] == [True] * 50 and results[50:] == [False] * 10
    assert len(await statuses(db)) == 50
    assert await writer.store(row(ids[0])) is False


async def test_a_waiter_cancelled_mid_batch_still_has_its_row_committed(
    db: Database, writer: InboxWriter
) -> None:
    # A request task cancelled while its batch commits (shutdown): the row is kept, and
    # a second delivery of the same id in that batch is still told it is a repeat.
    gone = asyncio.create_task(writer.store(row("https://peer.test/a/gone")))
    again = asyncio.create_task(writer.store(row("https://peer.test/a/gone")))
    await asyncio.sleep(0)  # both queued
    gone.cancel()
    assert await again is False
    assert gone.cancelled()
    assert await statuses(db) == {"https://peer.test/a/gone": "pending"}


async def test_stopping_while_a_batch_commits_answers_its_waiters(
    db: Database, writer: InboxWriter
) -> None:
    """Shutting down mid-commit: the request waiting on that commit still gets its answer
    (stop() once cancelled the commit, and the request waited for ever)."""
    async with writes_blocked(db, "inbox_activities"):
        stored = asyncio.create_task(writer.store(row("https://peer.test/a/last")))
        while not writer._queue:  # queued ...
            await asyncio.sleep(0)
        while writer._queue:  # ... and taken into a batch, whose INSERT now waits
            await asyncio.sleep(0)
        stopping = asyncio.create_task(writer.stop())
        for _ in range(10):  # stop() is under way before the lock goes
            await asyncio.sleep(0)
        assert not stored.done()
    assert await asyncio.wait_for(stored, 20) is True
    await stopping
    assert await statuses(db) == {"https://peer.test/a/last": "pending"}


async def test_a_failed_commit_is_reported_to_every_waiter(
    db: Database, writer: InboxWriter
) -> None:
    broken = row("https://peer.test/broken")
    broken["body"] = None  # NOT NULL: the whole batch fails
    # stdlib sqlite3 on the SQLite commit thread, SQLAlchemy on PostgreSQL
    with pytest.raises((sqlite3.IntegrityError, IntegrityError)):
        await writer.store(broken)
    assert await statuses(db) == {}


async def test_given_a_pending_activity_when_stepped_then_its_handler_runs_once(
    db: Database, writer: InboxWriter
) -> None:
    seen: list[IncomingActivity] = []

    def handle_follow(session: Any, delivery: IncomingActivity, now: datetime) -> None:
        seen.append(delivery)

    registry = HandlerRegistry()
    registry.register(Follow, ANY, handle_follow)
    await writer.store(row("https://peer.test/f/1"))
    worker = InboxWorker(db, registry, parse=as_follow, clock=Clock())
    assert await worker.step() == 1
    assert await worker.step() == 0
    assert [d.ap_id for d in seen] == ["https://peer.test/f/1"]
    assert isinstance(seen[0].activity, Follow)
    assert await statuses(db) == {"https://peer.test/f/1": "done"}


async def test_an_activity_without_a_handler_is_marked_ignored(
    db: Database, writer: InboxWriter
) -> None:
    await writer.store(row("https://peer.test/like/1", "Like"))
    worker = InboxWorker(db, HandlerRegistry(), parse=as_follow, clock=Clock())
    await worker.step()
    assert await statuses(db) == {"https://peer.test/like/1": "ignored"}


async def test_a_failing_handler_rolls_back_its_writes_retries_with_backoff_then_fails_visibly(
    db: Database, writer: InboxWriter
) -> None:
    clock = Clock()

    def handle_poison(session: Any, delivery: IncomingActivity, now: datetime) -> None:
        # a write that must not survive the failure
        session.execute(text("UPDATE inbox_activities SET ap_actor_id = 'tampered'"))
        raise ValueError("cannot digest this")

    registry = HandlerRegistry()
    registry.register(Follow, ANY, handle_poison)
    await writer.store(row("https://peer.test/p/1"))
    worker = InboxWorker(db, registry, parse=as_follow, clock=clock)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await worker.step() == 1
        assert await worker.step() == 0, "not due again before its backoff"
        clock.advance(backoff(attempt))
    async with db.transaction() as session:
        stored = (await session.execute(select(InboxActivity))).scalar_one()
    assert stored.status == InboxStatus.FAILED
    assert stored.attempts == MAX_ATTEMPTS
    assert "ValueError: cannot digest this" in (stored.last_error or "")
    assert stored.ap_actor_id == "https://peer.test/actor"
    clock.advance(timedelta(days=30))
    assert await worker.step() == 0, "a failed activity is not retried by itself"


async def test_a_worker_that_lost_its_lease_rolls_back_instead_of_applying_twice(
    db: Database, writer: InboxWriter
) -> None:
    clock = Clock()
    effects: list[str] = []

    def slow_handler(session: Any, delivery: IncomingActivity, now: datetime) -> None:
        effects.append(delivery.ap_id)
        session.execute(text("UPDATE inbox_activities SET ap_actor_id = 'applied'"))
        # While we were busy, our lease expired and a second worker took the row (here
        # written in our own transaction, as the lease check sees it either way).
        session.execute(text("UPDATE inbox_activities SET lease_token = 'someone-else'"))

    registry = HandlerRegistry()
    registry.register(Follow, ANY, slow_handler)
    await writer.store(row("https://peer.test/l/1"))
    worker = InboxWorker(db, registry, parse=as_follow, clock=clock)
    await worker.step()
    # The batch ran whole, then (its marks refused) again one activity at a time: here
    # the takeover was rolled back with it, so the handler ran twice; nothing it wrote stands.
    assert set(effects) == {"https://peer.test/l/1"}
    async with db.transaction() as session:
        stored = (await session.execute(select(InboxActivity))).scalar_one()
    assert stored.status == "pending", "not marked done by a worker that lost its lease"
    assert stored.ap_actor_id == "https://peer.test/actor", "its handler's writes rolled back"


async def test_two_workers_stepping_at_once_process_each_activity_once(database_url: str) -> None:
    dbs = [Database(database_url) for _ in range(3)]
    try:
        count: dict[str, int] = {}

        def handle(session: Any, delivery: IncomingActivity, now: datetime) -> None:
            count[delivery.ap_id] = count.get(delivery.ap_id, 0) + 1

        registry = HandlerRegistry()
        registry.register(Follow, ANY, handle)
        writer = InboxWriter(dbs[0])
        writer.start()
        await asyncio.gather(*(writer.store(row(f"https://peer.test/c/{i}")) for i in range(40)))
        await writer.stop()
        workers = [
            InboxWorker(d, registry, parse=as_follow, clock=Clock(), batch=5) for d in dbs[1:]
        ]

        async def drain(worker: InboxWorker) -> None:
            while await worker.step():
                pass

        await asyncio.gather(*(drain(w) for w in workers))
        assert count == {f"https://peer.test/c/{i}": 1 for i in range(40)}
        async with dbs[0].transaction() as session:
            done = (
                await session.execute(select(func.count()).where(InboxActivity.status == "done"))
            ).scalar()
        assert done == 40
    finally:
        for d in dbs:
            await d.dispose()


async def test_rows_written_by_the_group_commit_read_back_exactly_through_the_orm(
    db: Database, writer: InboxWriter
) -> None:
    when = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)
    await writer.store(row("https://peer.test/t/1", "Create", "Product", when=when))
    async with db.transaction() as session:
        stored = (await session.execute(select(InboxActivity))).scalar_one()
    assert stored.received_at == when and stored.next_attempt_at == when
    assert (stored.activity_type, stored.object_type, stored.status) == (
        "Create",
        "Product",
        "pending",
    )
    assert orjson.loads(stored.body)["id"] == "https://peer.test/t/1"


async def test_a_failing_activity_in_a_batch_rolls_back_alone_and_the_others_are_applied(
    db: Database, writer: InboxWriter
) -> None:
    clock = Clock()

    def handle(session: Any, delivery: IncomingActivity, now: datetime) -> None:
        session.execute(
            text("UPDATE inbox_activities SET object_type = 'touched' WHERE ap_id = :id"),
            {"id": delivery.ap_id},
        )
        if delivery.ap_id.endswith("/2"):
            raise ValueError("cannot digest this one")

    registry = HandlerRegistry()
    registry.register(Follow, ANY, handle)
    ids = [f"https://peer.test/b/{i}" for i in range(1, 5)]
    for ap_id in ids:
        await writer.store(row(ap_id))
    worker = InboxWorker(db, registry, parse=as_follow, clock=clock)
    assert await worker.step() == 4, "one batch"
    async with db.transaction() as session:
        stored = {r.ap_id: r for r in (await session.execute(select(InboxActivity))).scalars()}
    for ap_id in (ids[0], ids[2], ids[3]):
        assert (stored[ap_id].status, stored[ap_id].object_type) == ("done", "touched")
    poison = stored[ids[1]]
    assert (poison.status, poison.object_type, poison.attempts) == ("pending", None, 1)
    assert poison.lease_token is None and poison.next_attempt_at == clock() + backoff(1)
    assert "ValueError: cannot digest this one" in (poison.last_error or "")
    clock.advance(backoff(1))
    assert await worker.step() == 1, "only the failed one is tried again"


async def test_a_sender_whose_activities_are_applied_has_its_held_deliveries_released(
    db: Database, writer: InboxWriter
) -> None:
    """Told once per batch (on_processed): the outbox lifts the hold on a host that talks
    to us again, at the worker's `now`."""
    clock = Clock()
    host = origin_of("https://peer.test/actor")
    async with db.transaction() as session:
        note = {
            "id": "https://cart.test/notes/1",
            "type": "Note",
            "actor": "https://cart.test/actor",
        }
        await publish(session, note, ["https://peer.test/actor"])
        await session.execute(
            update(OutboxDelivery).values(
                status=DeliveryState.HELD, host=host, inbox="https://peer.test/inbox"
            )
        )
        session.add(DeliveryHost(host=host, consecutive_failures=9, unavailable_since=clock()))
    registry = HandlerRegistry()
    registry.register(Follow, ANY, lambda session, delivery, now: None)
    for i in range(3):
        await writer.store(row(f"https://peer.test/h/{i}"))
    clock.advance(timedelta(minutes=1))
    worker = InboxWorker(
        db, registry, parse=as_follow, clock=clock, on_processed=mark_all_contacted
    )
    assert await worker.step() == 3
    async with db.transaction() as session:
        [status] = (await session.execute(select(OutboxDelivery.status))).scalars()
        contacted = await session.get(DeliveryHost, host)
    assert status == DeliveryState.PENDING
    assert contacted is not None
    assert (contacted.consecutive_failures, contacted.unavailable_since) == (0, None)
    assert contacted.last_success_at == clock()


PEER = "https://peer.test/actor"


def peer_parse(document: dict[str, Any]) -> Any:
    """What the parser makes of PEER's Follow, Undo or Delete (a Follow's object: us)."""
    kind = {"Follow": model.Follow, "Undo": model.Undo, "Delete": model.Delete}
    return kind[document["type"]](
        id=document["id"], actor=PEER, object=document.get("object", local_actor().id)
    )


def strangers_follow_registry(db: Database) -> HandlerRegistry:
    """The follow handlers, for senders with no role (a Follow waits for the operator)."""
    registry = HandlerRegistry()
    register_follow_handlers(
        registry,
        local_actor=local_actor(),
        roles_of=lambda iri: (),
        remote=RemoteActors(db, Fetcher()),
    )
    return registry


async def store_documents(writer: InboxWriter, documents: list[dict[str, Any]]) -> None:
    for document in documents:
        await writer.store(
            {**row(document["id"], document["type"]), "body": orjson.dumps(document).decode()}
        )


async def test_a_senders_follows_and_undo_in_a_batch_with_a_failure_end_as_if_applied_in_turn(
    db: Database, writer: InboxWriter
) -> None:
    """The batch is applied whole, rolled back by the failing Delete, and applied again one
    by one: what the Follows read and wrote of their follower before the rollback is not
    remembered as written."""

    def refuse(session: Any, delivery: IncomingActivity, now: datetime) -> None:
        raise ValueError("not today")

    registry = strangers_follow_registry(db)
    registry.register(model.Delete, ANY, refuse)
    follows = [f"https://peer.test/follows/{n}" for n in (1, 2, 3)]
    sent = [
        {"id": follows[0], "type": "Follow"},
        {"id": "https://peer.test/d/1", "type": "Delete", "object": "https://peer.test/notes/1"},
        {"id": follows[1], "type": "Follow"},
        {"id": "https://peer.test/u/1", "type": "Undo", "object": follows[0]},
        {"id": follows[2], "type": "Follow"},
    ]
    await store_documents(writer, sent)
    worker = InboxWorker(db, registry, parse=peer_parse, clock=Clock())
    assert await worker.step() == 5, "one batch"
    assert list((await statuses(db)).values()) == ["done", "pending", "done", "done", "done"]
    async with db.transaction() as session:
        follower = await session.get(Follower, PEER)
    assert follower is not None
    assert (follower.state, follower.follow_ap_id) == (FollowerState.PENDING, follows[2])
    assert follower.earlier_follow_ids == follows[:2]


async def test_a_senders_follows_and_undo_in_one_batch_leave_its_row_as_if_applied_in_turn(
    db: Database, writer: InboxWriter
) -> None:
    """The batch writes a follower's row once, where its last activity leaves it: here
    back in the state it started in, after an Undo and a new Follow moved it out and back,
    so the row is dated by the batch (its state moved) although the state reads the same."""
    clock = Clock()
    follows = [f"https://peer.test/follows/{n}" for n in (1, 2, 3)]
    async with db.transaction() as session:
        session.add(
            Follower(
                ap_actor_id=PEER,
                follow_ap_id=follows[0],
                state=FollowerState.PENDING,
                created_at=clock.now - timedelta(days=3),
                updated_at=clock.now - timedelta(days=3),
            )
        )
    sent = [
        {"id": follows[1], "type": "Follow"},
        {"id": "https://peer.test/u/1", "type": "Undo", "object": follows[1]},
        {"id": follows[2], "type": "Follow"},
    ]
    await store_documents(writer, sent)
    worker = InboxWorker(db, strangers_follow_registry(db), parse=peer_parse, clock=clock)
    assert await worker.step() == 3, "one batch"
    assert set((await statuses(db)).values()) == {"done"}
    async with db.transaction() as session:
        follower = await session.get(Follower, PEER)
    assert follower is not None
    assert (follower.state, follower.follow_ap_id) == (FollowerState.PENDING, follows[2])
    assert follower.earlier_follow_ids == follows[:2]
    assert follower.updated_at == clock.now


async def test_a_row_a_handler_read_and_moved_is_read_again_after_the_batch_rolls_back(
    db: Database, writer: InboxWriter
) -> None:
    """The pattern of a Reject of one of our orders: the handler reads a row through the
    ORM, moves it with a statement and reloads it. A later activity in the batch fails,
    the batch rolls back and is applied again one by one: the handler must see the row
    as it is stored again (not moved), or it would take the move as done and skip it."""
    host = "https://peer.test"
    async with db.transaction() as session:
        session.add(DeliveryHost(host=host, consecutive_failures=9))

    def move(session: Any, delivery: IncomingActivity, now: datetime) -> None:
        if delivery.ap_id.endswith("/bad"):
            raise ValueError("not today")
        row = session.execute(select(DeliveryHost).where(DeliveryHost.host == host)).scalar()
        if row.consecutive_failures == 0:
            return  # already moved: nothing to do
        table = DeliveryHost.__table__  # Core, as the order moves are: no ORM sync
        session.execute(update(table).where(table.c.host == host).values(consecutive_failures=0))
        again = select(DeliveryHost).where(DeliveryHost.host == host)
        session.execute(again.execution_options(populate_existing=True)).scalar()  # reload

    registry = HandlerRegistry()
    registry.register(Follow, ANY, move)
    for ap_id in ("https://peer.test/m/1", "https://peer.test/m/bad"):
        await writer.store(row(ap_id))
    worker = InboxWorker(db, registry, parse=as_follow, clock=Clock())
    assert await worker.step() == 2, "one batch"
    assert (await statuses(db))["https://peer.test/m/1"] == "done"
    async with db.transaction() as session:
        stored = await session.get(DeliveryHost, host)
    assert stored is not None and stored.consecutive_failures == 0


async def test_a_batch_is_applied_sender_by_sender_each_senders_in_the_order_received(
    db: Database, writer: InboxWriter
) -> None:
    """Two workers' batches then lock their senders' rows (a Follow's follower row) in one
    order: in arrival order they interleaved senders and deadlocked on PostgreSQL."""
    seen: list[str] = []

    def handle_follow(session: Any, delivery: IncomingActivity, now: datetime) -> None:
        seen.append(delivery.ap_id)

    registry = HandlerRegistry()
    registry.register(Follow, ANY, handle_follow)
    arrived = [f"https://{host}.test/f/{n}" for n in range(3) for host in ("c", "a", "b")]
    for ap_id in arrived:
        stored = row(ap_id)
        sender = ap_id.split("/f/")[0] + "/actor"
        stored["ap_actor_id"] = sender
        stored["body"] = orjson.dumps({"id": ap_id, "type": "Follow", "actor": sender}).decode()
        await writer.store(stored)
    worker = InboxWorker(db, registry, parse=as_follow, clock=Clock())
    assert await worker.step() == 9
    assert seen == [f"https://{host}.test/f/{n}" for host in ("a", "b", "c") for n in range(3)]


class Crash(BaseException):
    """The process dying mid-batch: nothing in the worker catches it."""


@pytest.mark.parametrize("crash", [False, True])
async def test_a_batch_of_coop_follows_gets_one_accept_each_to_its_inbox_even_after_a_crash(
    db: Database, writer: InboxWriter, crash: bool
) -> None:
    """The batch's Accepts are published together at its end: each Follow still gets
    exactly one, addressed and delivered to its sender's (shared) inbox or left to
    resolve; a crash before the batch commits loses none and doubles none."""
    actor = local_actor()
    senders = [f"https://coop{n}.test/actor" for n in range(3)]
    cached = {senders[0]: "https://coop0.test/inbox", senders[1]: "https://coop1.test/shared"}
    async with db.transaction() as session:
        for sender, inbox in cached.items():
            session.add(
                RemoteActorRow(ap_id=sender, inbox=inbox, document={}, fetched_at=datetime.now(UTC))
            )
    crashes = [crash]

    def parse_it(document: dict[str, Any]) -> Any:
        if document["type"] == "Delete":
            return model.Delete(id=document["id"], actor=document["actor"], object="x:gone")
        return model.Follow(id=document["id"], actor=document["actor"], object=actor.id)

    def die_once(session: Any, delivery: IncomingActivity, now: datetime) -> None:
        if crashes.pop() if crashes else False:
            raise Crash

    registry = HandlerRegistry()
    register_follow_handlers(
        registry,
        local_actor=actor,
        roles_of=lambda iri: {"coop"},
        remote=RemoteActors(db, Fetcher()),
    )
    registry.register(model.Delete, ANY, die_once)
    follows = [f"{sender}/follows/1" for sender in senders]
    sent = [(follows[0], "Follow"), (follows[1], "Follow"), ("https://coop2.test/d", "Delete")]
    for ap_id, kind in [*sent, (follows[2], "Follow")]:
        sender = ap_id.split("/follows")[0].split("/d")[0]
        sender = sender if sender.endswith("/actor") else f"{sender}/actor"
        document = {"id": ap_id, "type": kind, "actor": sender}
        await writer.store(
            {
                **row(ap_id, kind),
                "ap_actor_id": sender,
                "body": orjson.dumps(document).decode(),
            }
        )
    clock = Clock()
    worker = InboxWorker(db, registry, parse=parse_it, clock=clock)
    if crash:
        with pytest.raises(Crash):
            await worker.step()
        async with db.transaction() as session:
            assert (await session.execute(select(func.count(OutboxDelivery.id)))).scalar() == 0
        clock.advance(LEASE + timedelta(seconds=1))
    assert await worker.step() == 4, "one batch"
    async with db.transaction() as session:
        accepts = (await session.execute(select(OutboxActivity))).scalars().all()
        targets = (await session.execute(select(OutboxDelivery))).scalars().all()
    answered = sorted(orjson.loads(a.body)["object"]["id"] for a in accepts)
    assert answered == sorted(follows), "one Accept a Follow"
    to = {a.id: orjson.loads(a.body)["to"] for a in accepts}
    assert sorted((to[d.activity_id], d.inbox, d.recipient) for d in targets) == [
        ([senders[0]], "https://coop0.test/inbox", None),
        ([senders[1]], "https://coop1.test/shared", None),
        ([senders[2]], None, senders[2]),
    ]
    assert set((await statuses(db)).values()) == {"done"}
