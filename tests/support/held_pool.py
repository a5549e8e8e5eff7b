"""Another request holding the app's only pooled connection, for the tests of pages that
must not need it (issues 14 and 18).

The test apps run with a pool of one and a short wait (tests/support/settings.py). Inside
`pool_taken(db)` an unconverted handler's async session would wait for that connection
and fail; a page that reads and writes in units of work is served (on SQLite the writer
thread and the readers have connections of their own). On PostgreSQL a unit takes a
pooled connection as the request does, so the tests using it are skipped there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from store import Database

CEILING = 30.0  # seconds: only so that a broken build fails instead of hanging


@asynccontextmanager
async def pool_taken(db: Database) -> AsyncIterator[None]:
    """For the block, another request (an unconverted handler awaiting a slow peer) holds
    the only pooled connection."""
    if not db.is_sqlite:
        pytest.skip("on PostgreSQL a unit takes a pooled connection like the request does")
    holding, release = asyncio.Event(), asyncio.Event()

    async def stuck_request() -> None:
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))  # the session takes its connection now
            holding.set()
            await release.wait()

    request = asyncio.ensure_future(stuck_request())
    try:
        await asyncio.wait_for(holding.wait(), CEILING)
        yield
    finally:
        release.set()
        await request
