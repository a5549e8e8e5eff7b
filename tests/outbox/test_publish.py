"""publish(): one activity and one delivery per inbox, in the caller's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from outbox.exceptions import InvalidActivity
from outbox.models import OutboxActivity
from outbox.publish import publish
from outbox.states import FollowerState
from store import Database
from tests.outbox.support import add_follower, cache_actor, create_note, deliveries, local_actor

ACTOR = local_actor()


async def activity_count(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxActivity)) or 0)


class Boom(Exception):
    pass


async def test_given_a_rolled_back_transaction_then_nothing_is_published(db: Database) -> None:
    await add_follower(db, "https://a.test/actor", "https://a.test/inbox")
    with pytest.raises(Boom):
        async with db.transaction() as session:
            await publish(session, create_note(ACTOR, 1))
            raise Boom
    assert await activity_count(db) == 0
    assert await deliveries(db) == []


async def test_given_a_commit_then_the_activity_is_stored_once_with_its_exact_json(
    db: Database,
) -> None:
    await add_follower(db, "https://a.test/actor", "https://a.test/inbox")
    note = create_note(ACTOR, 1)
    async with db.transaction() as session:
        await publish(session, note)
    async with db.sessions() as session:
        stored = (await session.execute(select(OutboxActivity))).scalars().all()
    assert [row.ap_id for row in stored] == [note["id"]]
    assert [d.inbox for d in await deliveries(db)] == ["https://a.test/inbox"]


async def test_followers_on_one_server_share_one_delivery_to_its_shared_inbox(db: Database) -> None:
    for name in ("ann", "bob", "cy"):
        await add_follower(
            db,
            f"https://big.test/users/{name}",
            f"https://big.test/users/{name}/inbox",
            "https://big.test/inbox",
        )
    await add_follower(db, "https://small.test/actor", "https://small.test/inbox")
    await add_follower(
        db, "https://pending.test/actor", "https://pending.test/inbox", state=FollowerState.PENDING
    )
    async with db.transaction() as session:
        await publish(session, create_note(ACTOR, 1))
    assert sorted(d.inbox or "" for d in await deliveries(db)) == [
        "https://big.test/inbox",
        "https://small.test/inbox",
    ]


async def test_addressed_actors_use_the_cache_or_wait_to_be_resolved(db: Database) -> None:
    await cache_actor(
        db,
        "https://market.test/actor",
        "https://market.test/actor/inbox",
        "https://market.test/inbox",
    )
    await add_follower(
        db,
        "https://market.test/actor",
        "https://market.test/actor/inbox",
        "https://market.test/inbox",
    )
    cc = (
        "https://market.test/actor",
        "https://calendar.test/actor",
        "https://www.w3.org/ns/activitystreams#Public",
    )
    async with db.transaction() as session:
        await publish(session, create_note(ACTOR, 1, cc=cc))
    rows = await deliveries(db)
    assert [(d.inbox, d.recipient) for d in rows] == [
        ("https://market.test/inbox", None),  # follower and cc'd: one delivery
        (None, "https://calendar.test/actor"),  # not cached: the worker resolves it
    ]


async def test_an_activity_without_an_id_is_refused(db: Database) -> None:
    note = create_note(ACTOR, 1)
    del note["id"]
    with pytest.raises(InvalidActivity):
        async with db.transaction() as session:
            await publish(session, note)
    assert await activity_count(db) == 0


async def test_an_empty_shared_inbox_is_no_shared_inbox(db: Database) -> None:
    """A peer whose document says `"sharedInbox": ""` is delivered to its own inbox."""
    await add_follower(db, "https://odd.test/actor", "https://odd.test/inbox", "")
    await cache_actor(db, "https://odder.test/actor", "https://odder.test/inbox", "")
    async with db.transaction() as session:
        await publish(session, create_note(ACTOR, 1))
        await publish(session, create_note(ACTOR, 2), ["https://odder.test/actor"])
    assert sorted(d.inbox or "" for d in await deliveries(db)) == [
        "https://odd.test/inbox",
        "https://odder.test/inbox",
    ]
