"""Units of work: a request's database work is one plain function, run in one hop.

A unit is a synchronous `fn(session, *args)` given a SQLAlchemy `Session` (sync ORM and
Core both work on it). Request code hands it over with `await db.read(fn, ...)` or
`await db.write(fn, ...)` and never sees a session: there is nothing it could hold across
an await, a key fetch or a password hash. Those happen between units, not inside them.

Why: through SQLAlchemy async + aiosqlite every statement cost 0.5-1 ms of CPU and one
thread hand-off, and the one pooled connection was held across every await of a request
(PERFORMANCE.md; docs/design.md "Units of work" has the figures behind this choice).

On SQLite (`ThreadUnits`), in the manner of Datasette's `Database` (a write thread, read
connections, functions sent to them):
- **writes** go to one writer thread with its own connection. It takes every unit queued
  while the last batch ran, opens one `BEGIN IMMEDIATE`, runs each unit inside its own
  SAVEPOINT (a unit that raises rolls back to it and fails alone), then COMMITs once with
  `synchronous=FULL`, and only then answers each caller: nothing is acknowledged before the
  COMMIT that holds it (group commit, as inbox/group_commit.py does for deliveries).
- **reads** run on a few reader threads (store/readers.py), each with its own connection
  in WAL mode: a read sees the last committed snapshot and never waits for the writer.
  Reader connections are `query_only`, so a unit that writes through `read()` fails at
  once instead of racing. A read unit's session is a `ReadSession`: store/direct.py's
  statements run on its connection, and a real Session is made only if the unit asks.

On PostgreSQL (`BridgedUnits`) the same function runs through the async engine's
`run_sync` in one transaction per unit; PostgreSQL has no single writer to batch for.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from store.handoff import Connections, Job, Outcome, answer_all
from store.held import holding
from store.readers import Readers
from store.wakeups import WAKEUPS, Wakeups, pending

P = ParamSpec("P")
T = TypeVar("T")
Unit = Callable[Concatenate[Session, P], T]

log = logging.getLogger("rose_cart.store.units")
MAX_BATCH = 64  # units per COMMIT: bounds how long the first one in a batch waits
TEMP_IN_MEMORY = "PRAGMA temp_store=MEMORY"
READERS = 4


class Units(Protocol):
    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...
    async def write(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...
    async def close(self) -> None: ...


class _UnitDialect(SQLiteDialect_pysqlite):
    """pysqlite whose transactions we open ourselves, and whose SAVEPOINTs cost one call.

    pysqlite's own transaction handling would break SAVEPOINTs, so it is switched off
    (`isolation_level = None` on connect) and `do_begin` sends `begin` (BEGIN or BEGIN
    IMMEDIATE), as SQLAlchemy's pysqlite recipe does through an event. Every statement
    here goes straight to the driver: through `Connection.execute` the base dialect
    compiles a new SavepointClause for each SAVEPOINT, RELEASE and ROLLBACK TO (they are
    not cached), which made the SAVEPOINT around a trivial write unit cost more than its
    INSERT (bench/units).
    """

    supports_statement_cache = True

    def __init__(self, begin: str = "BEGIN", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.begin_statement = begin

    def do_begin(self, dbapi_connection: Any) -> None:
        dbapi_connection.execute(self.begin_statement)

    def do_savepoint(self, connection: Connection, name: str) -> None:
        _driver(connection).execute(f'SAVEPOINT "{name}"')

    def do_release_savepoint(self, connection: Connection, name: str) -> None:
        _driver(connection).execute(f'RELEASE SAVEPOINT "{name}"')

    def do_rollback_to_savepoint(self, connection: Connection, name: str) -> None:
        _driver(connection).execute(f'ROLLBACK TO SAVEPOINT "{name}"')


registry.register("sqlite.rose_cart_units", __name__, "_UnitDialect")


def _driver(connection: Connection) -> Any:
    return connection.connection.driver_connection


def _sqlite_engine(path: str, *, begin: str, pragmas: tuple[str, ...]) -> Engine:
    """A sync engine on `path` whose every transaction starts with `begin`."""
    engine = create_engine(
        f"sqlite+rose_cart_units:///{path}",
        poolclass=NullPool,
        connect_args={"check_same_thread": False},
        begin=begin,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        for pragma in pragmas:
            dbapi_connection.execute(pragma)

    return engine


class _Writer:
    """The one thread that writes: group commit with a savepoint per unit."""

    def __init__(self, engine: Engine, max_batch: int, wakeups: Wakeups | None = None) -> None:
        self._engine = engine
        self._wakeups = wakeups
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0  # how many COMMITs; tests and benches read it

    def submit(self, job: Job) -> None:
        # Under the lock: a unit is either queued before stop()'s None or refused.
        with self._lock:
            if self._closed:
                raise RuntimeError("the database is closed: no more units")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
                self._thread.start()
            self._queue.put(job)

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        # This thread runs nothing but units: marked once, not per unit (store/held.py).
        with holding("a unit of work"), Connections(self._engine) as connections:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is None:
                    break
                jobs = [first]
                while len(jobs) < self._max_batch:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stopping = True
                        break
                    jobs.append(job)
                try:
                    connection = connections.get()
                except Exception as failure:  # the file cannot be opened: this batch fails
                    log.exception("cannot open the writer's connection")
                    answer_all(jobs, [(None, failure)] * len(jobs))
                    continue
                self._batch(connection, jobs)

    def _batch(self, connection: Connection, jobs: list[Job]) -> None:
        outcomes: list[Outcome] = []
        woken: set[str] = set()
        try:
            with connection.begin():  # BEGIN IMMEDIATE ... COMMIT once for the whole batch
                for fn, args, kwargs, _, _ in jobs:
                    outcomes.append(_in_savepoint(connection, fn, args, kwargs, woken))
        except BaseException as failure:  # BEGIN or COMMIT failed: nothing of it is stored
            log.exception("write batch failed", extra={"units": len(jobs)})
            answer_all(jobs, [(None, failure)] * len(jobs))
            return
        self.batches += 1
        if woken and self._wakeups is not None:
            self._wakeups.fire(*woken)
        answer_all(jobs, outcomes)


def _in_savepoint(
    connection: Connection,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    woken: set[str],
) -> tuple[Any, BaseException | None]:
    """Run one unit in a SAVEPOINT of the batch; its failure rolls back only itself.

    The wake-up channels a kept unit named are added to `woken`, fired after the COMMIT.
    Any exception, a BaseException too, is the caller's answer: the thread goes on.
    """
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        result = fn(session, *args, **kwargs)
        session.commit()  # RELEASE SAVEPOINT: durable with the batch's COMMIT
        woken |= pending(session)
        return result, None
    except BaseException as error:
        session.rollback()  # ROLLBACK TO SAVEPOINT; if even that fails, the batch fails
        return None, error
    finally:
        session.close()


class ThreadUnits:
    """SQLite: one writer thread (group commit) and reader threads on WAL snapshots."""

    def __init__(
        self,
        path: str,
        *,
        busy_timeout_ms: int,
        readers: int = READERS,
        max_batch: int = MAX_BATCH,
        wakeups: Wakeups | None = None,
    ) -> None:
        common = (
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={busy_timeout_ms}",
            # The statement journal of the batch's SAVEPOINTs in memory: by default SQLite
            # keeps it in a temporary file, created, written and unlinked in /var/tmp for
            # every write batch (strace of serve under bench federation: 92 open/unlink
            # pairs in 3 s). It only ever rolls a savepoint back; nothing durable is in it.
            TEMP_IN_MEMORY,
        )
        self._write_engine = _sqlite_engine(
            path,
            begin="BEGIN IMMEDIATE",
            # FULL: an acknowledged order survives power loss, not only a process crash.
            pragmas=("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", *common),
        )
        self._read_engine = _sqlite_engine(
            path, begin="BEGIN", pragmas=("PRAGMA query_only=ON", *common)
        )
        self.writer = _Writer(self._write_engine, max_batch, wakeups)
        self._readers = Readers(self._read_engine, readers)

    async def write(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self.writer.submit((fn, args, kwargs, loop, future))
        return await future

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._readers.submit((fn, args, kwargs, loop, future))
        return await future

    async def close(self) -> None:
        await asyncio.to_thread(self.writer.stop)
        await asyncio.to_thread(self._readers.stop)
        self._write_engine.dispose()
        self._read_engine.dispose()


class BridgedUnits:
    """PostgreSQL (and SQLite in memory): the same unit through the async engine's run_sync."""

    def __init__(self, engine: AsyncEngine, wakeups: Wakeups | None = None) -> None:
        # With the Wakeups in its info, a unit's COMMIT fires the channels it named.
        info = {WAKEUPS: wakeups} if wakeups is not None else {}
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, info=info)
        self._read_only = engine.dialect.name == "postgresql"

    async def write(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._sessions() as session, session.begin():
            with holding("a unit of work"):
                return await session.run_sync(fn, *args, **kwargs)

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._sessions() as session:
            if self._read_only:  # as SQLite's query_only readers: a write here fails at once
                await session.execute(text("SET TRANSACTION READ ONLY"))
            with holding("a unit of work"):
                return await session.run_sync(fn, *args, **kwargs)

    async def close(self) -> None:
        return None
