"""The outbox's declared state machines: followers, our follows, and deliveries.

Each machine lists its states and the moves between them; the graph is checked when
the machine is built (every target is a state, every state is reachable from the
initial one), and `move()` refuses anything not declared, so a handler bug shows up
as an `IllegalTransition` instead of a follower silently jumping from `rejected` to
`accepted`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from outbox.exceptions import IllegalTransition


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


@dataclass(frozen=True)
class StateMachine:
    name: str
    initial: str
    moves: Mapping[str, frozenset[str]]

    def __post_init__(self) -> None:
        states = set(self.moves)
        if self.initial not in states:
            raise ValueError(f"{self.name}: initial state {self.initial!r} is not declared")
        for source, targets in self.moves.items():
            unknown = targets - states
            if unknown:
                raise ValueError(f"{self.name}: {source!r} moves to undeclared {sorted(unknown)}")
        reached, frontier = {self.initial}, [self.initial]
        while frontier:
            for target in self.moves[frontier.pop()]:
                if target not in reached:
                    reached.add(target)
                    frontier.append(target)
        if reached != states:
            raise ValueError(f"{self.name}: unreachable states {sorted(states - reached)}")

    def allows(self, current: str, target: str) -> bool:
        return target in self.moves.get(current, frozenset())

    def move(self, current: str, target: str) -> str:
        """`target`, if the machine declares the move; else IllegalTransition."""
        if not self.allows(current, target):
            raise IllegalTransition(self.name, current, target)
        return target


def _machine(
    name: str, initial: enum.StrEnum, moves: dict[enum.StrEnum, set[enum.StrEnum]]
) -> StateMachine:
    return StateMachine(
        name,
        initial.value,
        {source.value: frozenset(t.value for t in targets) for source, targets in moves.items()},
    )


_F = FollowerState
FOLLOWERS = _machine(
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
FOLLOWS = _machine(
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
DELIVERIES = _machine(
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
