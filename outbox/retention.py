"""How long the outbox keeps what strangers ask of it: the clean-up loop's rule.

A Follow from an actor outside PEERS leaves a follower row for the operator to decide
on, an Undo leaves it removed, a rejection rejected: anyone can put one there, each
keeps its actor's cached document (actor/remote_retention.py keeps followers of any
state) and the operator's follows page lists them all. So those undecided rows are
bounded by count (ROSE_CART_FOLLOW_REQUESTS_MAX, the newest kept). Accepted followers
are the operator's and stay.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_

from outbox.models import Follower
from outbox.states import FollowerState
from store import Database
from store.retention import keep_newest

_UNDECIDED = (FollowerState.PENDING, FollowerState.REJECTED, FollowerState.REMOVED)


def _requests_of_strangers(peers: Collection[str]) -> ColumnElement[bool]:
    return and_(Follower.state.in_(_UNDECIDED), Follower.ap_actor_id.not_in(list(peers)))


async def keep_newest_follow_requests(db: Database, keep: int, peers: Collection[str]) -> int:
    """The clean-up loop's rule: all but the newest `keep` undecided follower rows
    (pending, rejected or undone) of actors outside `peers` are deleted, newest by their
    last change (ties by actor IRI); returns how many. An actor whose row went and
    follows again is a new request, as one rejected or undone is."""
    order = (Follower.updated_at, Follower.ap_actor_id)
    return await keep_newest(db, Follower, order, _requests_of_strangers(peers), keep)
