"""What an inbox handler is given, what it is registered for, and what registering takes.

The inbox dispatches; the outbox (follows), the cart (catalogue, claims) and the demo
peers handle. The inbox may not import them and the outbox may not import the inbox
(docs/design.md), so the types they share live here, where all of them may import:
`IncomingActivity` (an activity that came in, as opposed to the outbox's deliveries,
which go out), `Handler`, `Referent`, and `HandlerRegistrar`, the one method a handler
package needs of the inbox's registry.

A handler is registered for a vocabulary activity class (`vocab.model.Accept`) and what
the activity is about: the class of its embedded object (`vocab.model.Product`), a
`Referent` (what an IRI it names turns out to be: an order of ours, a follow of ours,
the sender itself, an item we mirror), or `ANY`. The inbox resolves that once per
activity and runs exactly one handler; a handler never sees an activity about
something else, so it does not filter again.

Handlers and `Referent.find` are plain synchronous functions given a sync SQLAlchemy
`Session`: the inbox worker runs a batch of activities in one unit of work
(store/units.py), each in its own SAVEPOINT, on the database's thread. A handler is
also given `now`, the worker's clock read once for the batch, and never reads the wall
clock itself. Registering a coroutine function is refused (inbox/registry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Self

from sqlalchemy.orm import Session

# Registered for any object: the last choice, after every class and referent.
ANY: type = object


@dataclass(frozen=True)
class IncomingActivity:
    """A stored inbox activity, parsed, and who sent it."""

    ap_id: str
    ap_actor_id: str  # the actor its signature was checked against
    activity: Any  # the vocab's typed activity
    document: dict[str, Any]  # the JSON as received, for handlers that need more
    # What the activity is about, as the inbox resolved it for the handler it chose:
    # an instance of the Referent class the handler was registered for, else None.
    referent: Any = None


def object_id(activity: Any) -> str | None:
    """The id of what an activity is about: its object's IRI, or an embedded object's id."""
    target = getattr(activity, "object", None)
    return target if isinstance(target, str) else getattr(target, "id", None)


class Referent:
    """What an activity's object turns out to be, found once by the inbox.

    A subclass names one kind of thing ("an order of ours") and says how to recognise
    it: `find` returns the thing (with whatever its handler needs, so the handler does
    not look it up again) or None. It runs in the worker's unit of work and only reads.
    """

    @classmethod
    def find(cls, session: Session, incoming: IncomingActivity) -> Self | None:
        raise NotImplementedError


@dataclass(frozen=True)
class TheSender(Referent):
    """The activity is about its sender itself: an actor's `Update` or `Delete` of itself."""

    iri: str

    @classmethod
    def find(cls, session: Session, incoming: IncomingActivity) -> Self | None:
        sender = incoming.ap_actor_id
        return cls(sender) if object_id(incoming.activity) == sender else None


# handler(session, activity, now): runs in the worker's unit, in the activity's SAVEPOINT.
Handler = Callable[[Session, IncomingActivity, datetime], None]


class HandlerRegistrar(Protocol):
    """Where handler packages register at composition time (inbox.registry implements it).

    `activity` is a vocab activity class; `about` a vocab object class, a `Referent`
    subclass or `ANY`. One (activity, about) pair has one handler.
    """

    def register(
        self,
        activity: type,
        about: type,
        handler: Handler,
        *,
        senders: Collection[str] | None = None,
    ) -> None: ...
