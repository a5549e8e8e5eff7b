"""The async engine and session factory, configured for each engine's strengths.

SQLite runs in WAL mode with foreign keys on and a busy timeout, through one pooled
connection per process: SQLite has a single writer, and several connections fighting
for its lock made p99 latency 20x worse (PERFORMANCE.md). PostgreSQL uses asyncpg and
an ordinary pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.exceptions import UnsupportedDatabase

SQLITE_BUSY_TIMEOUT_MS = 5000


def sqlite_url_for(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'rose-cart.sqlite3').resolve()}"


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # NORMAL survives a process crash in WAL mode but may drop the last commits on power
    # loss; an acknowledged order or delivery must survive that too.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def make_engine(url: str, **options: Any) -> AsyncEngine:
    if url.startswith("sqlite+aiosqlite://"):
        engine = create_async_engine(url, pool_size=1, max_overflow=0, **options)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        return engine
    if url.startswith("postgresql+asyncpg://"):
        return create_async_engine(
            url, pool_size=10, max_overflow=10, pool_pre_ping=True, **options
        )
    raise UnsupportedDatabase(
        f"unsupported database URL scheme in {url.split('://')[0]!r}: "
        "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
    )


class Database:
    """One engine and its session factory; built at start-up and passed to who needs it."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **options)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back if it raises."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
