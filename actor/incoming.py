"""What an inbox handler is given, and what registering one takes.

The inbox dispatches; the outbox (follows), the cart (catalogue, claims) and the demo
peers handle. The inbox may not import them and the outbox may not import the inbox
(docs/design.md), so the types they share live here, where all of them may import:
`IncomingActivity` (an activity that came in, as opposed to the outbox's deliveries,
which go out), `Handler`, and `HandlerRegistrar`, the one method a handler package
needs of the inbox's registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

ANY = "*"  # registered for any object type


@dataclass(frozen=True)
class IncomingActivity:
    """A stored inbox activity, parsed, and who sent it."""

    ap_id: str
    ap_actor_id: str  # the actor its signature was checked against
    activity: Any  # the vocab's typed activity
    document: dict[str, Any]  # the JSON as received, for handlers that need more


Handler = Callable[[AsyncSession, IncomingActivity], Awaitable[None]]


class HandlerRegistrar(Protocol):
    """Where handler packages register at composition time (inbox.registry implements it)."""

    def register(
        self,
        activity_type: str,
        object_type: str,
        handler: Handler,
        *,
        senders: Collection[str] | None = None,
    ) -> None: ...
