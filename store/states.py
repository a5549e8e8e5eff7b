"""Declared state machines: the states of a row's status column and the only moves between them.

Followers, follows, deliveries, orders and claims each declare one (outbox/states.py,
cart/orders/states.py). The graph is checked when the machine is built (every target is
a state, every state is reachable from the initial one), and `move()` refuses anything
not declared, so a handler bug shows up as an `IllegalTransition` instead of a row
silently jumping from `rejected` to `accepted`. It lives in store/ because it is about
durable rows and every package may import store.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from store.exceptions import IllegalTransition


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

    def sources_for(self, target: str) -> frozenset[str]:
        """The states the machine allows a move to `target` from."""
        return frozenset(source for source, targets in self.moves.items() if target in targets)


def declare(
    name: str, initial: enum.StrEnum, moves: Mapping[enum.StrEnum, set[enum.StrEnum]]
) -> StateMachine:
    """A machine over an enum's values, declared with the enum's members."""
    return StateMachine(
        name,
        initial.value,
        {source.value: frozenset(t.value for t in targets) for source, targets in moves.items()},
    )
