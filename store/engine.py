"""The engines, the session factory and the units of work, configured for each engine.

SQLite runs in WAL mode with foreign keys on and a busy timeout, through one pooled
connection per process: SQLite has a single writer, and several connections fighting
for its lock made p99 latency 20x worse (PERFORMANCE.md). PostgreSQL uses asyncpg and
an ordinary pool. Request paths use `read()` / `write()` (store/units.py): one plain
function per unit of work, run in one hop; `transaction()` is for the paths not yet
converted and for background work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
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
from store.held import holding
from store.units import TEMP_IN_MEMORY, BridgedUnits, P, T, ThreadUnits, Unit, Units
from store.wakeups import WAKEUPS, Wakeups, listen, watch_sqlite

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
    cursor.execute(TEMP_IN_MEMORY)  # as the units' connections (store/units.py)
    cursor.close()


POOL_SIZE = 20  # PostgreSQL connections per process: half kept, half overflow
POOL_TIMEOUT = 30.0  # seconds to wait for a pooled connection


def make_engine(
    url: str, *, pool_size: int = POOL_SIZE, pool_timeout: float = POOL_TIMEOUT, **options: Any
) -> AsyncEngine:
    """`pool_size` is the most connections the pool opens (PostgreSQL; SQLite always one).

    Tests build the app with a pool of one and a short timeout: a handler that held a
    connection while something else needed one would fail there instead of waiting.
    """
    if url.startswith("sqlite+aiosqlite://"):
        engine = create_async_engine(
            url, pool_size=1, max_overflow=0, pool_timeout=pool_timeout, **options
        )
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        return engine
    if url.startswith("postgresql+asyncpg://"):
        kept = max(1, pool_size // 2)
        return create_async_engine(
            url,
            pool_size=kept,
            max_overflow=pool_size - kept,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,
            **options,
        )
    raise UnsupportedDatabase(
        f"unsupported database URL scheme in {url.split('://')[0]!r}: "
        "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
    )


class Database:
    """One engine and its session factory; built at start-up and passed to who needs it."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = POOL_SIZE,
        pool_timeout: float = POOL_TIMEOUT,
        **options: Any,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, pool_timeout=pool_timeout, **options)
        # Commits fire the channels their transaction named (store/wakeups.py).
        self.wakeups = Wakeups()
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info={WAKEUPS: self.wakeups}
        )
        self._units: Units | None = None

    @property
    def units(self) -> Units:
        """Built on first use, so a Database that only migrates starts no thread."""
        if self._units is None:
            path = self.engine.url.database
            if self.is_sqlite and path and path != ":memory:":
                self._units = ThreadUnits(
                    path, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS, wakeups=self.wakeups
                )
            else:
                self._units = BridgedUnits(self.engine, self.wakeups)
        return self._units

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(session, *args)` on a committed snapshot; it must not write."""
        return await self.units.read(fn, *args, **kwargs)

    async def write(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(session, *args)` as one unit of work; answered after its COMMIT.

        If `fn` raises, nothing it did is kept and the exception is raised here.
        """
        return await self.units.write(fn, *args, **kwargs)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back if it raises."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def sessions(self) -> AsyncIterator[AsyncSession]:
        """A session for the block; while it is open, costly work refuses to start
        (store/held.py: no connection is held across network I/O or heavy CPU)."""
        with holding("a database session"):
            async with self._sessions() as session:
                yield session

    async def listen(self, channels: Collection[str], stop: asyncio.Event) -> None:
        """Until `stop`: fire this process's wake-ups when another process commits work
        (PostgreSQL LISTEN/NOTIFY; on SQLite, a change of the file's data_version)."""
        if self.is_sqlite:
            path = self.engine.url.database
            if path and path != ":memory:":
                await watch_sqlite(path, self.wakeups, channels, stop)
            return
        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        await listen(dsn, self.wakeups, channels, stop)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._units is not None:
            units, self._units = self._units, None
            await units.close()
        await self.engine.dispose()
