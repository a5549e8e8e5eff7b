"""The outbox's declared state machines: followers, our follows, and deliveries.

Each lists its states and the moves between them (store.states.StateMachine checks the
graph when it is built), so a handler bug shows up as an `IllegalTransition` instead of
a follower silently jumping from `rejected` to `accepted`.
"""

from __future__ import annotations

import enum

from store.states import declare


class FollowerState(enum.StrEnum):
    PENDING = "pending"  # asked to follow us; waiting for the operator
    ACCEPTED = "accepted"  # receives our deliveries
    REJECTED = "rejected"  # refused; may ask again
    REMOVED = "removed"  # undid its follow, deleted itself, or its inbox answered 410


class FollowState(enum.StrEnum):
    """Our follow of a peer (market/calendar)."""

    PENDING = "pending"  # our Follow is sent; no answer yet
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REMOVED = "removed"  # we undid it, or the peer deleted itself


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # due at next_attempt_at (a lease marks one being worked on)
    DONE = "done"  # the inbox answered 2xx (or the delivery collapsed into another)
    DEAD = "dead"  # a permanent failure or the retry window ran out; an operator may retry
    HELD = "held"  # its host is marked unavailable; released when the host contacts us


_F = FollowerState
FOLLOWERS = declare(
    "follower",
    _F.PENDING,
    {
        _F.PENDING: {_F.ACCEPTED, _F.REJECTED, _F.REMOVED},
        _F.ACCEPTED: {_F.REMOVED},
        _F.REJECTED: {_F.PENDING, _F.REMOVED},
        _F.REMOVED: {_F.PENDING},  # a new Follow after an Undo
    },
)

_O = FollowState
FOLLOWS = declare(
    "follow",
    _O.PENDING,
    {
        _O.PENDING: {_O.ACCEPTED, _O.REJECTED, _O.REMOVED},
        _O.ACCEPTED: {_O.REMOVED},
        _O.REJECTED: {_O.PENDING, _O.REMOVED},
        _O.REMOVED: {_O.PENDING},
    },
)

_D = DeliveryState
DELIVERIES = declare(
    "delivery",
    _D.PENDING,
    {
        # pending -> pending is a retry rescheduled.
        _D.PENDING: {_D.PENDING, _D.DONE, _D.DEAD, _D.HELD},
        _D.HELD: {_D.PENDING},
        _D.DEAD: {_D.PENDING},  # the operator retries
        _D.DONE: set(),
    },
)
