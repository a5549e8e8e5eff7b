"""The database for one command-line command: opened, used, closed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from service.settings import Settings
from store import Database, upgrade

T = TypeVar("T")


def with_database(
    settings: Settings, work: Callable[[Database], Awaitable[T]], *, migrate: bool = False
) -> T:
    """`work(db)` on the configured database (migrated to head first when `migrate`)."""

    async def run() -> T:
        db = Database(settings.resolved_database_url)
        try:
            if migrate:
                await upgrade(db.engine)
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())
