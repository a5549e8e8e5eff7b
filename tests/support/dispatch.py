"""The inbox worker's dispatch, from a test's async session: for handler tests that need
no stored row.

Handlers are sync functions run in the worker's unit (actor/incoming.py); a test that
holds an `AsyncSession` reaches them through `run_sync`, at the moment its clock says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from actor.incoming import IncomingActivity
from inbox.registry import HandlerRegistry, Registration
from store import Clock, utcnow


@dataclass
class Dispatcher:
    registry: HandlerRegistry = field(default_factory=HandlerRegistry)
    clock: Clock = utcnow

    async def dispatch(
        self, session: AsyncSession, incoming: IncomingActivity
    ) -> Registration | None:
        return await session.run_sync(self.registry.dispatch, incoming, self.clock())
