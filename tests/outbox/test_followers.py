"""Follow requests, their answers, and our own follows of peers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from actor.fetch import Fetcher
from actor.incoming import IncomingActivity
from actor.remote import RemoteActors
from inbox.registry import HandlerRegistry
from outbox.follower_rows import follower_row
from outbox.followers import (
    accept_follower,
    pending_followers,
    register_follow_handlers,
    reject_follower,
    send_follow,
    send_undo_follow,
)
from outbox.models import Follow, Follower, OutboxActivity
from outbox.states import FollowerState, FollowState
from store import Database, utcnow
from store.exceptions import IllegalTransition
from tests.outbox.support import cache_actor, deliveries, local_actor
from tests.support.dispatch import Dispatcher
from vocab import model

ACTOR = local_actor()
COOP = "https://coop.test/actor"
STRANGER = "https://stranger.test/actor"
MARKET = "https://market.test/actor"


@pytest.fixture
def backfills() -> list[str]:
    return []


@pytest.fixture
def registry(db: Database, backfills: list[str]) -> HandlerRegistry:
    def on_follow_accepted(session: Session, peer: str, now: datetime) -> None:
        backfills.append(peer)

    r = HandlerRegistry()
    register_follow_handlers(
        r,
        local_actor=ACTOR,
        roles_of=lambda iri: {"coop"} if iri == COOP else set(),
        remote=RemoteActors(db, Fetcher()),
        on_follow_accepted=on_follow_accepted,
    )
    return r


async def deliver(db: Database, registry: HandlerRegistry, sender: str, activity: Any) -> None:
    """As the inbox worker does: the one handler for what the activity is about."""
    async with db.transaction() as session:
        await Dispatcher(registry).dispatch(
            session, IncomingActivity(activity.id, sender, activity, {})
        )


async def published(db: Database) -> list[dict[str, Any]]:
    async with db.sessions() as session:
        rows = (await session.execute(select(OutboxActivity).order_by(OutboxActivity.id))).scalars()
        return [orjson.loads(row.body) for row in rows]


async def follower_state(db: Database, iri: str) -> str | None:
    async with db.sessions() as session:
        row = await session.get(Follower, iri)
        return row.state if row else None


def follow_of_us(sender: str, n: int = 1) -> model.Follow:
    return model.Follow(id=f"{sender}/follows/{n}", actor=sender, object=ACTOR.id)


async def test_a_coop_follow_is_accepted_at_once_and_the_accept_goes_to_its_inbox(
    db: Database, registry: HandlerRegistry
) -> None:
    await cache_actor(db, COOP, "https://coop.test/actor/inbox", "https://coop.test/inbox")
    await deliver(db, registry, COOP, follow_of_us(COOP))
    assert await follower_state(db, COOP) == FollowerState.ACCEPTED
    [accept] = await published(db)
    assert accept["type"] == "Accept" and accept["object"]["id"] == f"{COOP}/follows/1"
    assert accept["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert [d.inbox for d in await deliveries(db)] == ["https://coop.test/inbox"]


async def test_a_strangers_follow_waits_for_the_operator(
    db: Database, registry: HandlerRegistry
) -> None:
    await cache_actor(db, STRANGER, "https://stranger.test/inbox")
    await deliver(db, registry, STRANGER, follow_of_us(STRANGER))
    assert await published(db) == []
    async with db.transaction() as session:
        assert [f.ap_actor_id for f in await pending_followers(session)] == [STRANGER]
        await reject_follower(session, ACTOR, STRANGER)
    assert [a["type"] for a in await published(db)] == ["Reject"]
    assert await follower_state(db, STRANGER) == FollowerState.REJECTED
    with pytest.raises(IllegalTransition):
        async with db.transaction() as session:
            await accept_follower(session, ACTOR, STRANGER)  # rejected is final until it asks again

    await deliver(db, registry, STRANGER, follow_of_us(STRANGER, 2))
    async with db.transaction() as session:
        await accept_follower(session, ACTOR, STRANGER)
    assert await follower_state(db, STRANGER) == FollowerState.ACCEPTED


async def test_undo_of_the_follow_removes_the_follower(
    db: Database, registry: HandlerRegistry
) -> None:
    await deliver(db, registry, COOP, follow_of_us(COOP))
    undo = model.Undo(id=f"{COOP}/undo/1", actor=COOP, object=follow_of_us(COOP))
    await deliver(db, registry, COOP, undo)
    assert await follower_state(db, COOP) == FollowerState.REMOVED


@pytest.mark.parametrize(
    "undone",
    [
        pytest.param(lambda: follow_of_us(COOP, 3), id="embedded-with-the-last-id"),
        pytest.param(lambda: follow_of_us(COOP, 1), id="embedded-with-an-earlier-id"),
        pytest.param(lambda: f"{COOP}/follows/2", id="an-earlier-id-by-iri"),
        pytest.param(
            lambda: model.FollowWithoutId(actor=COOP, object=ACTOR.id), id="embedded-without-id"
        ),
    ],
)
async def test_undo_of_any_follow_it_sent_removes_the_follower(
    db: Database, registry: HandlerRegistry, undone: Any
) -> None:
    for n in (1, 2, 3):  # the peer re-sent its Follow under new ids
        await deliver(db, registry, COOP, follow_of_us(COOP, n))
    undo = model.Undo(id=f"{COOP}/undo/1", actor=COOP, object=undone())
    await deliver(db, registry, COOP, undo)
    assert await follower_state(db, COOP) == FollowerState.REMOVED


@pytest.mark.parametrize(
    "undone",
    [
        pytest.param(lambda: f"{COOP}/likes/1", id="an-iri-that-is-no-follow-of-ours"),
        pytest.param(
            lambda: model.FollowWithoutId(actor=COOP, object=MARKET), id="a-follow-of-someone-else"
        ),
        pytest.param(
            lambda: model.FollowWithoutId(actor=STRANGER, object=ACTOR.id),
            id="someone-elses-follow",
        ),
    ],
)
async def test_an_undo_of_something_else_keeps_the_follower(
    db: Database, registry: HandlerRegistry, undone: Any
) -> None:
    await deliver(db, registry, COOP, follow_of_us(COOP))
    undo = model.Undo(id=f"{COOP}/undo/1", actor=COOP, object=undone())
    await deliver(db, registry, COOP, undo)
    assert await follower_state(db, COOP) == FollowerState.ACCEPTED


async def test_our_follow_accepted_by_a_peer_triggers_the_backfill(
    db: Database, registry: HandlerRegistry, backfills: list[str]
) -> None:
    async with db.transaction() as session:
        await send_follow(session, ACTOR, MARKET)
    [follow] = await published(db)
    assert (follow["type"], follow["object"]) == ("Follow", MARKET)
    accept = model.Accept(id=f"{MARKET}/accepts/1", actor=MARKET, object=follow["id"])
    await deliver(db, registry, MARKET, accept)
    await deliver(db, registry, MARKET, accept)  # a repeat changes nothing
    assert backfills == [MARKET]
    async with db.transaction() as session:
        assert (await session.get(Follow, MARKET)).state == FollowState.ACCEPTED  # type: ignore[union-attr]
        await send_undo_follow(session, ACTOR, MARKET)
    assert [a["type"] for a in await published(db)] == ["Follow", "Undo"]


async def test_a_reject_from_someone_we_did_not_follow_changes_nothing(
    db: Database, registry: HandlerRegistry
) -> None:
    async with db.transaction() as session:
        await send_follow(session, ACTOR, MARKET)
    [follow] = await published(db)
    await deliver(
        db,
        registry,
        STRANGER,
        model.Reject(id=f"{STRANGER}/r", actor=STRANGER, object=follow["id"]),
    )
    async with db.sessions() as session:
        assert (await session.get(Follow, MARKET)).state == FollowState.PENDING  # type: ignore[union-attr]
    await deliver(
        db, registry, MARKET, model.Reject(id=f"{MARKET}/r", actor=MARKET, object=follow["id"])
    )
    async with db.sessions() as session:
        assert (await session.get(Follow, MARKET)).state == FollowState.REJECTED  # type: ignore[union-attr]


async def test_a_follow_whose_new_follower_row_another_worker_just_made_updates_that_row(
    db: Database, registry: HandlerRegistry
) -> None:
    """Two workers apply two Follows of one new sender at once (PostgreSQL): the one that
    read no row and then finds it made by the other applies its Follow to that row, instead
    of failing its batch on the duplicate key."""
    await cache_actor(db, COOP, "https://coop.test/actor/inbox", "https://coop.test/inbox")

    def raced(session: Session) -> None:
        assert follower_row(session, COOP) is None  # what this worker read first
        session.execute(  # what the other worker committed meanwhile
            insert(Follower).values(
                ap_actor_id=COOP,
                follow_ap_id=f"{COOP}/follows/1",
                state=FollowerState.PENDING,
                created_at=datetime(2026, 11, 28, tzinfo=UTC),
                updated_at=datetime(2026, 11, 28, tzinfo=UTC),
            )
        )
        follow = follow_of_us(COOP, 2)
        registry.dispatch(session, IncomingActivity(follow.id, COOP, follow, {}), utcnow())

    async with db.transaction() as session:
        await session.run_sync(raced)
    async with db.sessions() as session:
        follower = await session.get(Follower, COOP)
    assert follower is not None
    assert (follower.state, follower.follow_ap_id) == (FollowerState.ACCEPTED, f"{COOP}/follows/2")
    assert follower.earlier_follow_ids == [f"{COOP}/follows/1"]
    [accept] = await published(db)
    assert accept["object"]["id"] == f"{COOP}/follows/2"
