"""What the outbox raises.

OutboxError
├── IllegalTransition      a state machine was asked for a move it does not declare
├── InvalidActivity        publish() was given an activity it cannot store (no id, ...)
└── UnknownFollower        an operator action named an actor that has not asked to follow
"""

from __future__ import annotations


class OutboxError(Exception):
    """Base of every outbox error."""


class IllegalTransition(OutboxError):
    def __init__(self, machine: str, current: str, target: str) -> None:
        super().__init__(f"{machine}: cannot move from {current!r} to {target!r}")
        self.machine = machine
        self.current = current
        self.target = target


class InvalidActivity(OutboxError):
    """The activity lacks what every published activity needs."""


class UnknownFollower(OutboxError):
    def __init__(self, ap_actor_id: str) -> None:
        super().__init__(f"no follow request from {ap_actor_id}")
        self.ap_actor_id = ap_actor_id
