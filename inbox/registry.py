"""Who handles what: other packages register handlers here at start-up; one runs per activity.

The inbox knows nothing of carts or followers; what a handler is given and what it is
registered for live in actor/incoming.py, where every handler package may import them.
A handler is registered for a vocab activity class and what the activity is about (an
embedded object's class, a `Referent`, or `ANY`), with the peer roles allowed to send
it (None: anyone). `dispatch` decides what an activity is about once, and runs the one
handler registered for that: an embedded object's class first, then each referent in
registration order (the first whose `find` recognises the object), then `ANY`. The
receive path asks `allowed()` before storing; the worker calls `dispatch()`.

Handlers are plain functions run in the worker's unit of work on the database thread
(actor/incoming.py), so a coroutine function is refused when it is registered: it would
never run, only be created and dropped.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session

from actor.incoming import ANY, Handler, IncomingActivity, Referent


@dataclass(frozen=True)
class Registration:
    activity: type
    about: type
    handler: Handler
    senders: frozenset[str] | None

    @property
    def is_referent(self) -> bool:
        return self.about is not ANY and issubclass(self.about, Referent)


class HandlerRegistry:
    def __init__(self) -> None:
        self._entries: dict[type, list[Registration]] = {}
        # candidates() by (activity class, embedded object's class): the receiver asks for
        # every delivery and the worker again; registering anything forgets them all.
        self._candidates: dict[tuple[type, type], list[Registration]] = {}
        # knows() by class name, asked by the worker for every row.
        self._names: frozenset[str] = frozenset()

    def register(
        self,
        activity: type,
        about: type,
        handler: Handler,
        *,
        senders: Collection[str] | None = None,
    ) -> None:
        if inspect.iscoroutinefunction(handler):
            raise TypeError(
                f"the handler for {activity.__name__} of {about.__name__} is a coroutine "
                "function; inbox handlers are plain functions run in a unit of work"
            )
        entries = self._entries.setdefault(activity, [])
        if any(entry.about is about for entry in entries):
            raise ValueError(f"{activity.__name__} of {about.__name__} already has a handler")
        allowed = frozenset(senders) if senders is not None else None
        entries.append(Registration(activity, about, handler, allowed))
        self._candidates.clear()
        self._names = frozenset(kind.__name__ for kind in self._entries)

    def knows(self, activity_type: str) -> bool:
        """Whether any handler is registered for activities of this (class) name."""
        return activity_type in self._names

    def candidates(self, activity: object) -> list[Registration]:
        """The registrations that might take this activity, in the order they are tried.

        An embedded object's class decides without the database; a referent or ANY may
        take anything.
        """
        target = getattr(activity, "object", None)
        key = (type(activity), type(target))
        found = self._candidates.get(key)
        if found is None:
            found = self._candidates[key] = self._candidates_for(*key)
        return found

    def _candidates_for(self, activity: type, target: type) -> list[Registration]:
        entries = self._entries.get(activity, [])
        by_class = [
            e
            for e in entries
            if e.about is not ANY and not e.is_referent and issubclass(target, e.about)
        ]
        referents = [e for e in entries if e.is_referent]
        fallback = [e for e in entries if e.about is ANY]
        return [*by_class, *referents, *fallback]

    def allowed(self, activity: object, sender_roles: Collection[str]) -> bool:
        """Whether a sender with these roles may send this (nothing registered: yes, and
        the worker records it as ignored)."""
        if type(activity) not in self._entries:
            return True
        roles = set(sender_roles)
        return any(
            entry.senders is None or entry.senders & roles for entry in self.candidates(activity)
        )

    def registrations(self) -> list[Registration]:
        """Every registration, for checks over the whole registry."""
        return [entry for entries in self._entries.values() for entry in entries]

    def resolve(
        self, session: Session, incoming: IncomingActivity
    ) -> tuple[Registration, IncomingActivity] | None:
        """The one registration for this activity, and the activity with its referent."""
        for entry in self.candidates(incoming.activity):
            if not entry.is_referent:
                return entry, incoming
            found = cast(type[Referent], entry.about).find(session, incoming)
            if found is not None:
                return entry, replace(incoming, referent=found)
        return None

    def dispatch(
        self, session: Session, incoming: IncomingActivity, now: datetime
    ) -> Registration | None:
        """Run the one handler this activity is for, in the caller's transaction; the
        registration that ran, or None when the activity is about nothing we handle."""
        chosen = self.resolve(session, incoming)
        if chosen is None:
            return None
        entry, resolved = chosen
        entry.handler(session, resolved, now)
        return entry
