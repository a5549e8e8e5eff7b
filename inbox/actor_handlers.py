"""An actor's own news: `Update` of itself refreshes what we hold, `Delete` of itself ends it.

Both write in the worker's transaction only (no fetch here): an Update marks the cached
actor stale, so the next signature check or delivery refetches it, strictly, from its
origin; an embedded copy in the activity is never trusted.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from actor.incoming import IncomingActivity
from actor.remote import RemoteActors
from inbox.registry import HandlerRegistry


def register_actor_handlers(registry: HandlerRegistry, remote: RemoteActors) -> None:
    async def handle_update_actor(session: AsyncSession, delivery: IncomingActivity) -> None:
        updated = delivery.activity.object.id
        if updated == delivery.ap_actor_id:
            await remote.expire(session, updated)

    async def handle_delete(session: AsyncSession, delivery: IncomingActivity) -> None:
        if delivery.activity.object == delivery.ap_actor_id:
            await remote.gone(session, delivery.ap_actor_id)

    registry.register("Update", "Actor", handle_update_actor)
    registry.register("Delete", "*", handle_delete)
