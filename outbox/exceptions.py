"""What the outbox raises (a refused state move is store.exceptions.IllegalTransition).

OutboxError
├── InvalidActivity        publish() was given an activity it cannot store (no id, ...)
└── UnknownFollower        an operator action named an actor that has not asked to follow
"""

from __future__ import annotations


class OutboxError(Exception):
    """Base of every outbox error."""


class InvalidActivity(OutboxError):
    """The activity lacks what every published activity needs."""


class UnknownFollower(OutboxError):
    def __init__(self, ap_actor_id: str) -> None:
        super().__init__(f"no follow request from {ap_actor_id}")
        self.ap_actor_id = ap_actor_id
