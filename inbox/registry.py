"""Who handles what: other packages register `handle_<verb>` functions here at start-up.

The inbox knows nothing of carts or followers; what a handler is given
(`IncomingActivity`) and its type live in actor/incoming.py, where every handler package
may import them. A handler is registered for an activity
type and an object type ("*" for any), with the peer roles allowed to send it (None:
anyone). Several packages may handle one kind (a `Delete` may name an actor, a product
or an entry): their handlers run in registration order, in one transaction. The receive
path asks `allowed()` before storing; the worker asks `handlers_for()`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from actor.incoming import ANY, Handler


@dataclass(frozen=True)
class Registration:
    handler: Handler
    senders: frozenset[str] | None


class HandlerRegistry:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], list[Registration]] = {}

    def register(
        self,
        activity_type: str,
        object_type: str,
        handler: Handler,
        *,
        senders: Collection[str] | None = None,
    ) -> None:
        allowed = frozenset(senders) if senders is not None else None
        self._entries.setdefault((activity_type, object_type), []).append(
            Registration(handler, allowed)
        )

    def lookup(self, activity_type: str, object_type: str | None) -> list[Registration]:
        exact = self._entries.get((activity_type, object_type), []) if object_type else []
        return [*exact, *self._entries.get((activity_type, ANY), [])]

    def handlers_for(self, activity_type: str, object_type: str | None) -> list[Handler]:
        return [entry.handler for entry in self.lookup(activity_type, object_type)]

    def allowed(
        self, activity_type: str, object_type: str | None, sender_roles: Collection[str]
    ) -> bool:
        entries = self.lookup(activity_type, object_type)
        return not entries or any(
            entry.senders is None or entry.senders & set(sender_roles) for entry in entries
        )

    def kinds(self) -> list[tuple[str, str]]:
        return sorted(self._entries)
