"""Another connection holding what a write waits for, on either engine.

Inside `writes_blocked(db, table)` a write to `table` waits: on SQLite every write does
(another connection holds the file's one write lock, so the writer thread's BEGIN
IMMEDIATE waits in SQLite's busy handler); on PostgreSQL a write to that table (another
connection holds an EXCLUSIVE lock on it). The block must end within the engine's lock
wait (the test settings' busy timeout), or the waiting write fails instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from store import Database


@asynccontextmanager
async def writes_blocked(db: Database, table: str) -> AsyncIterator[None]:
    if db.is_sqlite:
        path = db.engine.url.database
        assert path is not None
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("COMMIT")
            other.close()
        return
    async with db.engine.connect() as connection:
        # Only our own table names are joined in.
        await connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
        yield
        await connection.commit()
