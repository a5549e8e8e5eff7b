"""An actor's own news: an `Update` of itself refreshes what we hold.

It writes in the worker's transaction only (no fetch here): the cached actor is marked
stale, so the next signature check or delivery refetches it, strictly, from its origin;
an embedded copy in the activity is never trusted. An `Update` of any other actor is
about nothing we handle. A `Delete` of itself ends the actor for us in one handler, the
outbox's (outbox/followers.py), since it also ends follows both ways.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from actor.incoming import HandlerRegistrar, IncomingActivity, TheSender
from actor.remote import RemoteActors
from vocab.model import Update


def register_actor_handlers(registry: HandlerRegistrar, remote: RemoteActors) -> None:
    def handle_update_itself(session: Session, delivery: IncomingActivity, now: datetime) -> None:
        remote.expire(session, delivery.referent.iri)

    registry.register(Update, TheSender, handle_update_itself)
