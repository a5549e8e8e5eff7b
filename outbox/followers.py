"""Followers (who follows us) and follows (whom we follow): inbox handlers and operator verbs.

Co-op peers' follows are accepted at once; anyone else's wait for the operator
(`rose-cart followers pending|accept|reject`). A follower's inbox and shared inbox are
copied from the remote actor cache when its Follow arrives (its signature was just
verified against that cached actor), so `publish()` never fetches. Moves go through the
declared machines in states.py: our own code asking for an illegal move raises; a peer
sending something that makes no sense (an Accept of a follow we undid) is logged and
ignored, since raising would only make the inbox retry it.

The inbox handlers are plain functions on a sync `Session`, run in the inbox worker's
unit of work with the worker's `now`; the operator verbs are async and reach the same
code through `run_sync`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Protocol, Self

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from actor.identity import LocalActor
from actor.incoming import ANY, HandlerRegistrar, IncomingActivity, Referent, TheSender
from actor.remote import RemoteActors
from actor.roles import PeerRole
from outbox.exceptions import UnknownFollower
from outbox.follower_rows import (
    FOLLOWERS_MEMO,
    INBOXES_MEMO,
    FollowerRow,
    cached_inboxes,
    follower_row,
    store_follower,
)
from outbox.models import Follow, Follower
from outbox.publish import Published, new_activity_id, publish, publish_later, publish_sync
from outbox.states import FOLLOWERS, FOLLOWS, FollowerState, FollowState
from store import utcnow
from store.memo import unit_memo
from vocab import model
from vocab.writer import document

log = logging.getLogger("rose_cart.outbox.followers")

# How many of a follower's earlier Follow ids we remember for its Undos: a server that
# re-sends a Follow under new ids (Mastodon on a retry, Misskey on a re-follow) may undo
# any of them. Bounded, since the ids come from outside.
EARLIER_FOLLOW_IDS = 8

RolesOf = Callable[[str], Collection[str]]
# Called in the inbox worker's unit when a peer accepts our Follow (catalogue backfill):
# (session, peer, now).
OnFollowAccepted = Callable[[Session, str, datetime], None]


# -- followers ----------------------------------------------------------------------------


class Answered(Protocol):
    """What an Accept or Reject names of a follower: who, and which Follow it answers."""

    @property
    def ap_actor_id(self) -> str: ...
    @property
    def follow_ap_id(self) -> str: ...


def _answer_of(
    local_actor: LocalActor, follower: Answered, verb: type[model.Accept] | type[model.Reject]
) -> dict[str, Any]:
    follow = model.Follow(
        id=follower.follow_ap_id, actor=follower.ap_actor_id, object=local_actor.id
    )
    answer = verb(
        id=new_activity_id(local_actor),
        actor=local_actor.id,
        to=(follower.ap_actor_id,),
        object=follow,
    )
    return document(answer)


def _answer(
    session: Session,
    local_actor: LocalActor,
    follower: Answered,
    verb: type[model.Accept] | type[model.Reject],
    now: datetime,
) -> Published:
    return publish_sync(session, _answer_of(local_actor, follower, verb), now=now)


def _accept_later(
    session: Session, local_actor: LocalActor, follower: Answered, now: datetime
) -> None:
    """The Accept of a Follow, put off to the end of the inbox worker's batch (one
    publish for all its Accepts, outbox/publish.py `publish_later`)."""
    publish_later(session, _answer_of(local_actor, follower, model.Accept), now=now)


def _move_follower(follower: Follower, target: FollowerState, now: datetime) -> None:
    follower.state = FOLLOWERS.move(follower.state, target)
    follower.updated_at = now


def handle_follow(
    session: Session,
    delivery: IncomingActivity,
    now: datetime,
    *,
    local_actor: LocalActor,
    roles_of: RolesOf,
) -> None:
    activity: model.Follow = delivery.activity
    if activity.object != local_actor.id:
        return  # a Follow of someone else: not ours to answer
    # A second time only when another worker created the sender's row since we read it.
    if not _follow(session, delivery.ap_actor_id, activity, now, local_actor, roles_of):
        _follow(session, delivery.ap_actor_id, activity, now, local_actor, roles_of)


def _follow(
    session: Session,
    sender: str,
    activity: model.Follow,
    now: datetime,
    local_actor: LocalActor,
    roles_of: RolesOf,
) -> bool:
    """Apply the Follow to the sender's row; False if its row appeared meanwhile."""
    before = follower_row(session, sender)
    if before is None:
        follower = FollowerRow(sender, activity.id, None, FollowerState.PENDING)
    else:
        follower = replace(before)
        if follower.state in (FollowerState.REJECTED, FollowerState.REMOVED):
            follower.state = FOLLOWERS.move(follower.state, FollowerState.PENDING)
    if follower.follow_ap_id != activity.id:
        earlier = [i for i in follower.earlier_follow_ids or [] if i != follower.follow_ap_id]
        follower.earlier_follow_ids = [*earlier, follower.follow_ap_id][-EARLIER_FOLLOW_IDS:]
    follower.follow_ap_id = activity.id
    cached = cached_inboxes(session, sender)
    if cached is not None:
        follower.inboxes = cached
    if follower.state == FollowerState.ACCEPTED:
        # A repeated Follow (the peer lost our Accept): answer it again.
        if not store_follower(session, follower, before, now):
            return False
        _accept_later(session, local_actor, follower, now)
    elif PeerRole.COOP in roles_of(sender):
        follower.state = FOLLOWERS.move(follower.state, FollowerState.ACCEPTED)
        if not store_follower(session, follower, before, now):
            return False
        _accept_later(session, local_actor, follower, now)
    else:
        return store_follower(session, follower, before, now)
    return True


def _undoes_follow_of_us(
    target: model.Follow | model.FollowWithoutId | str,
    follower: FollowerRow,
    local_actor: LocalActor,
) -> bool:
    """Whether an Undo's object is one of this follower's Follows of our actor.

    By IRI or embedded with an id: any Follow id the follower sent us that we remember.
    Embedded without an id (Fedify): known by who followed whom.
    """
    known = {follower.follow_ap_id, *(follower.earlier_follow_ids or [])}
    if isinstance(target, str):
        return target in known
    if target.actor != follower.ap_actor_id or target.object != local_actor.id:
        return False
    return isinstance(target, model.FollowWithoutId) or target.id in known


def handle_undo(
    session: Session, delivery: IncomingActivity, now: datetime, *, local_actor: LocalActor
) -> None:
    activity: model.Undo = delivery.activity
    before = follower_row(session, delivery.ap_actor_id)
    if before is None or before.state == FollowerState.REMOVED:
        return
    if _undoes_follow_of_us(activity.object, before, local_actor):
        follower = replace(before, state=FOLLOWERS.move(before.state, FollowerState.REMOVED))
        store_follower(session, follower, before, now)


async def pending_followers(session: AsyncSession) -> list[Follower]:
    rows = await session.execute(
        select(Follower)
        .where(Follower.state == FollowerState.PENDING)
        .order_by(Follower.created_at)
    )
    return list(rows.scalars())


async def _decide(
    session: AsyncSession, local_actor: LocalActor, ap_actor_id: str, target: FollowerState
) -> Published:
    follower = await session.get(Follower, ap_actor_id)
    if follower is None:
        raise UnknownFollower(ap_actor_id)
    now = utcnow()  # an operator's verb, outside any component with a clock
    _move_follower(follower, target, now)  # IllegalTransition unless pending
    verb = model.Accept if target is FollowerState.ACCEPTED else model.Reject
    return await session.run_sync(_answer, local_actor, follower, verb, now)


async def accept_follower(
    session: AsyncSession, local_actor: LocalActor, ap_actor_id: str
) -> Published:
    """The operator accepts a pending follow; publishes our Accept."""
    return await _decide(session, local_actor, ap_actor_id, FollowerState.ACCEPTED)


async def reject_follower(
    session: AsyncSession, local_actor: LocalActor, ap_actor_id: str
) -> Published:
    """The operator rejects a pending follow; publishes our Reject."""
    return await _decide(session, local_actor, ap_actor_id, FollowerState.REJECTED)


def remove_followers_at(session: Session, inbox: str, now: datetime) -> list[str]:
    """Remove the accepted followers behind an inbox that answered 410 Gone."""
    rows = session.execute(
        select(Follower).where(
            Follower.state == FollowerState.ACCEPTED,
            or_(Follower.inbox == inbox, Follower.shared_inbox == inbox),
        )
    )
    removed = []
    for follower in rows.scalars():
        _move_follower(follower, FollowerState.REMOVED, now)
        removed.append(follower.ap_actor_id)
    return removed


def handle_delete_actor(
    session: Session, delivery: IncomingActivity, now: datetime, *, remote: RemoteActors
) -> None:
    """An actor deleted itself: none of its keys is trusted, it no longer follows us and
    we no longer follow it."""
    gone: str = delivery.referent.iri
    remote.gone(session, gone, now)
    unit_memo(session, FOLLOWERS_MEMO).pop(gone, None)
    unit_memo(session, INBOXES_MEMO).pop(gone, None)
    session.execute(
        update(Follower)
        .where(Follower.ap_actor_id == gone, Follower.state != FollowerState.REMOVED)
        .values(state=FollowerState.REMOVED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Follow)
        .where(Follow.ap_object_id == gone, Follow.state != FollowState.REMOVED)
        .values(state=FollowState.REMOVED, updated_at=now)
        .execution_options(synchronize_session=False)
    )


# -- our follows of peers -----------------------------------------------------------------


async def send_follow(
    session: AsyncSession, local_actor: LocalActor, target: str
) -> Published | None:
    """Publish our Follow of `target`; None if it already accepted us.

    A follow still pending is sent again under a fresh id (the peer may have lost it);
    the Accept we then wait for is the one of the newest id.
    """
    follow = await session.get(Follow, target)
    follow_id = new_activity_id(local_actor)
    now = utcnow()
    if follow is None:
        follow = Follow(ap_object_id=target, follow_ap_id=follow_id, state=FollowState.PENDING)
        session.add(follow)
    elif follow.state == FollowState.ACCEPTED:
        return None
    else:
        if follow.state != FollowState.PENDING:  # asking again after a reject or an undo
            follow.state = FOLLOWS.move(follow.state, FollowState.PENDING)
        follow.follow_ap_id = follow_id
    follow.updated_at = now
    activity = model.Follow(id=follow_id, actor=local_actor.id, to=(target,), object=target)
    return await publish(session, document(activity))


async def send_undo_follow(
    session: AsyncSession, local_actor: LocalActor, target: str
) -> Published | None:
    """Publish an Undo of our Follow of `target`; None if there is nothing to undo."""
    follow = await session.get(Follow, target)
    if follow is None or follow.state == FollowState.REMOVED:
        return None
    follow.state = FOLLOWS.move(follow.state, FollowState.REMOVED)
    follow.updated_at = utcnow()
    undone = model.Follow(id=follow.follow_ap_id, actor=local_actor.id, object=target)
    undo = model.Undo(
        id=new_activity_id(local_actor), actor=local_actor.id, to=(target,), object=undone
    )
    return await publish(session, document(undo))


@dataclass(frozen=True)
class OurFollow(Referent):
    """Our current Follow of the sender: what its Accept or Reject answers (the Follow
    embedded, or its IRI)."""

    follow: Follow

    @classmethod
    def find(cls, session: Session, incoming: IncomingActivity) -> Self | None:
        target = incoming.activity.object
        follow_id = target.id if isinstance(target, model.Follow) else target
        if not isinstance(follow_id, str):
            return None
        follow = session.get(Follow, incoming.ap_actor_id)
        if follow is None or follow.follow_ap_id != follow_id:
            return None  # not an answer to our current follow (maybe to an order)
        return cls(follow)


def handle_accept(
    session: Session,
    delivery: IncomingActivity,
    now: datetime,
    *,
    on_follow_accepted: OnFollowAccepted | None = None,
) -> None:
    follow: Follow = delivery.referent.follow
    if follow.state == FollowState.ACCEPTED:
        return
    if not FOLLOWS.allows(follow.state, FollowState.ACCEPTED):
        log.info(
            "ignoring an Accept of a follow that is %s",
            follow.state,
            extra={"peer": follow.ap_object_id},
        )
        return
    follow.state = FollowState.ACCEPTED
    follow.updated_at = now
    if on_follow_accepted is not None:
        on_follow_accepted(session, follow.ap_object_id, now)


def handle_reject(session: Session, delivery: IncomingActivity, now: datetime) -> None:
    follow: Follow = delivery.referent.follow
    if follow.state == FollowState.REJECTED:
        return
    if not FOLLOWS.allows(follow.state, FollowState.REJECTED):
        log.info(
            "ignoring a Reject of a follow that is %s",
            follow.state,
            extra={"peer": follow.ap_object_id},
        )
        return
    follow.state = FollowState.REJECTED
    follow.updated_at = now


def register_follow_handlers(
    registry: HandlerRegistrar,
    *,
    local_actor: LocalActor,
    roles_of: RolesOf,
    remote: RemoteActors,
    on_follow_accepted: OnFollowAccepted | None = None,
) -> None:
    """Hook the follow handlers into the inbox (called once at start-up by service/)."""
    registry.register(
        model.Follow, ANY, partial(handle_follow, local_actor=local_actor, roles_of=roles_of)
    )
    registry.register(model.Undo, ANY, partial(handle_undo, local_actor=local_actor))
    registry.register(
        model.Accept, OurFollow, partial(handle_accept, on_follow_accepted=on_follow_accepted)
    )
    registry.register(model.Reject, OurFollow, handle_reject)
    registry.register(model.Delete, TheSender, partial(handle_delete_actor, remote=remote))
