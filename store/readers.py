"""SQLite's reader threads: read units on WAL snapshots, a Session only when one is asked for.

Each reader thread has its own `query_only` connection in WAL mode: a read sees the last
committed snapshot and never waits for the writer, and a unit that writes through
`read()` fails at once instead of racing. Units reach the threads through one queue and
are answered with `call_soon_threadsafe` (store/handoff.py), not `run_in_executor`,
whose two futures and their callbacks cost more CPU than the hop itself (bench/units).

A read unit is given a `ReadSession`, not a SQLAlchemy `Session`: building a Session and
closing it cost ~40 µs a unit, more than the one indexed SELECT most page reads are. The
statements of store/direct.py need only the connection, which a ReadSession has at once;
anything else a unit asks of it (`execute`, `scalars`, `get`, `info`, ...) is answered by
a real Session, made on first use and joined to the same transaction, so the unit sees
one snapshot whichever way it reads. The snapshot's transaction is rolled back when the
unit ends, and what the unit returns is detached before the event loop touches it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from store.handoff import Connections, Job, answer
from store.held import holding


class ReadSession:
    """A read unit's session: the reader's connection now, a `Session` if asked for.

    `connection()` and `get_bind()` (all store/direct.py uses) answer without a Session;
    every other attribute is the real Session's. Never shared between threads or units.
    """

    __slots__ = ("_connection", "_session")

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._session: Session | None = None

    def connection(self, *args: Any, **kwargs: Any) -> Connection:
        """The unit's connection, its snapshot's transaction begun (as `Session.connection`)."""
        if args or kwargs or self._session is not None:
            return self.session.connection(*args, **kwargs)
        if not self._connection.in_transaction():
            self._connection.begin()
        return self._connection

    def get_bind(self, *args: Any, **kwargs: Any) -> Connection:
        if args or kwargs or self._session is not None:
            return cast(Connection, self.session.get_bind(*args, **kwargs))
        return self._connection

    @property
    def session(self) -> Session:
        """The real Session, made on first use. If a statement already began the
        snapshot's transaction, the Session joins it (and does not end it: `end` does)."""
        if self._session is None:
            self._session = Session(bind=self._connection, expire_on_commit=False)
        return self._session

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def end(self) -> None:
        """Close the Session if one was made, and let the snapshot go (ROLLBACK)."""
        try:
            if self._session is not None:
                self._session.close()
        finally:
            if self._connection.in_transaction():
                self._connection.rollback()


def read_unit(
    connection: Connection, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Run one read unit on `connection`; its snapshot ends with it, whatever it did."""
    session = ReadSession(connection)
    try:
        return fn(cast(Session, session), *args, **kwargs)
    finally:
        session.end()


class Readers:
    """Reader threads, each with its own `query_only` connection, taking units from one queue."""

    def __init__(self, engine: Engine, count: int) -> None:
        self._engine = engine
        self._count = count
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: Job) -> None:
        # Under the lock: a unit is either queued before stop()'s Nones or refused (a
        # read during close() would otherwise start new readers that take those Nones).
        with self._lock:
            if self._closed:
                raise RuntimeError("the database is closed: no more units")
            while len(self._threads) < self._count:
                name = f"db-read-{len(self._threads)}"
                thread = threading.Thread(target=self._run, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)
            self._queue.put(job)

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            threads, self._threads = self._threads, []
            for _ in threads:
                self._queue.put(None)
        for thread in threads:
            thread.join()

    def _run(self) -> None:
        # This thread runs nothing but units: marked once, not per unit (store/held.py).
        with holding("a unit of work"), Connections(self._engine) as connections:
            while (job := self._queue.get()) is not None:
                fn, args, kwargs, loop, future = job
                try:
                    result, error = read_unit(connections.get(), fn, args, kwargs), None
                # The unit's (a BaseException too: the thread goes on), or opening the
                # connection failed.
                except BaseException as failure:
                    result, error = None, failure
                answer(loop, future, result, error)
