"""Waking workers when work is written, instead of polling for it.

A transaction that writes work for a worker (an inbox row, a delivery, a backfill job)
names the worker's channel with `wake(session, channel)`. When that transaction
commits, and only then, the channel fires:

- in this process, through `Wakeups`: every loop waiting on the channel wakes at once
  (the events are set thread-safely, so a commit on a database thread works too);
- on PostgreSQL also through `NOTIFY`, sent inside the transaction, which PostgreSQL
  delivers to listeners when it commits and drops when it rolls back. `listen()` holds
  one connection per process that LISTENs and fires the local events, so a `rose-cart
  worker` process wakes when a web process writes.
- on SQLite, another process also writes the same file: the CLI (`deliveries retry`,
  `orders refund`), the demo's `market set-price`. `watch_sqlite()` reads
  `PRAGMA data_version` once a second on a connection of its own (it changes when any
  other connection commits, and costs microseconds) and wakes every channel when it does.

A wake-up is a hint, never the only way to find work: a worker still polls, rarely,
for what no write announces (a lease that ran out, a retry another process scheduled),
and after a lost listener connection it looks once at everything. A retry this process
schedules wakes it when due (`fire_later`). Writers outside a Session (the
inbox's group commit) call `Wakeups.fire` after their COMMIT and `notify_sql` inside it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Collection
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction

from store.loops import first_of

log = logging.getLogger("rose_cart.store.wakeups")

PREFIX = "rose_cart_"  # PostgreSQL channels are per database; the prefix keeps ours apart
WAKEUPS = "rose_cart.wakeups"  # Session.info key: this database's Wakeups
PENDING = "rose_cart.wake"  # Session.info key: channels to fire on commit
RECONNECT = (1.0, 30.0)  # the listener's first and longest wait before reconnecting
SQLITE_WATCH = 1.0  # seconds between two looks at an SQLite file's data_version


class Wakeups:
    """The channels of one Database in this process and the events waiting on them."""

    def __init__(self) -> None:
        self._events: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def event(self, channel: str) -> asyncio.Event:
        """An event set whenever `channel` fires; the caller clears it before looking."""
        waiter = asyncio.Event()
        self._events.setdefault(channel, []).append((asyncio.get_running_loop(), waiter))
        return waiter

    @property
    def channels(self) -> list[str]:
        return sorted(self._events)

    def fire(self, *channels: str) -> None:
        """Wake every loop waiting on these channels; safe to call from any thread."""
        for channel in channels:
            for loop, waiter in self._events.get(channel, ()):
                if loop.is_closed():
                    continue
                try:
                    running = asyncio.get_running_loop()
                except RuntimeError:
                    running = None
                if running is loop:
                    waiter.set()
                else:
                    loop.call_soon_threadsafe(waiter.set)

    def fire_later(self, channel: str, seconds: float) -> None:
        """Wake this process's loops on `channel` in `seconds`: when a retry it just
        scheduled falls due, so the safety poll need not come round often for it."""
        delay = max(0.0, seconds)
        for loop, waiter in self._events.get(channel, ()):
            if not loop.is_closed():
                loop.call_soon_threadsafe(loop.call_later, delay, waiter.set)


def wake(session: Any, *channels: str) -> None:
    """Fire these channels when the session's transaction commits (async or sync session)."""
    info = session.info
    info.setdefault(PENDING, set()).update(channels)


def notify_sql(channel: str) -> tuple[Any, dict[str, str]]:
    """The statement that sends a PostgreSQL NOTIFY on `channel` inside a transaction."""
    return text("SELECT pg_notify(:channel, '')"), {"channel": PREFIX + channel}


@event.listens_for(Session, "before_commit")
def _notify_before_commit(session: Session) -> None:
    channels = session.info.get(PENDING)
    if not channels or session.get_bind().dialect.name != "postgresql":
        return
    for channel in sorted(channels):
        session.execute(*notify_sql(channel))


# Sessions of `Database.sessions` carry their Wakeups and fire on their own COMMIT. A
# unit's session (store/units.py) commits only a SAVEPOINT of its batch: the writer
# thread collects its channels (`pending`) and fires them after the batch's COMMIT.


@event.listens_for(Session, "after_commit")
def _fire_after_commit(session: Session) -> None:
    wakeups = session.info.get(WAKEUPS)
    if wakeups is not None:
        channels = session.info.pop(PENDING, None)
        if channels:
            wakeups.fire(*channels)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (a commit popped them already).
    if transaction.parent is None and WAKEUPS in session.info:
        session.info.pop(PENDING, None)


def pending(session: Session) -> set[str]:
    """The channels a committed unit named, for a writer that commits them later."""
    return set(session.info.get(PENDING, ()))


async def listen(
    dsn: str, wakeups: Wakeups, channels: Collection[str], stop: asyncio.Event
) -> None:
    """LISTEN on `channels` until `stop`, firing `wakeups`; reconnects after a failure."""
    import asyncpg  # only PostgreSQL deployments have (and need) it

    delay = RECONNECT[0]
    while not stop.is_set():
        lost = asyncio.Event()
        try:
            connection = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("cannot LISTEN for work; retrying", extra={"error": str(error)})
        else:
            try:
                connection.add_termination_listener(lambda _connection, done=lost: done.set())
                for channel in channels:
                    await connection.add_listener(
                        PREFIX + channel,
                        lambda _c, _pid, name, _payload: wakeups.fire(name.removeprefix(PREFIX)),
                    )
                # Whatever was written while we were not listening: look once.
                wakeups.fire(*channels)
                delay = RECONNECT[0]
                await first_of(stop, lost)
            finally:
                if not connection.is_closed():
                    await connection.close(timeout=5)
        if not stop.is_set():
            await first_of(stop, seconds=delay)
            delay = min(RECONNECT[1], delay * 2)


async def watch_sqlite(
    path: str,
    wakeups: Wakeups,
    channels: Collection[str],
    stop: asyncio.Event,
    *,
    every: float = SQLITE_WATCH,
) -> None:
    """Until `stop`: wake `channels` when another connection commits to the SQLite file.

    The change may be another process's (the CLI) or this process's own; the second
    only costs a worker one look that finds nothing, at most once every `every` s.

    Idle, this look is one of the few things that wakes a `serve` process, so it is a
    plain timer callback (no task, no future) due on the whole `every` seconds: the
    server's own once-a-second tick (service/server.py) falls due at the same moment,
    and the two cost one wake-up of the process, not two.
    """
    # Read-only and outside any transaction: data_version is read from the WAL index,
    # so this never waits for, nor blocks, a writer.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    loop = asyncio.get_running_loop()
    timer: asyncio.TimerHandle | None = None
    try:
        seen = connection.execute("PRAGMA data_version").fetchone()[0]

        def look() -> None:
            nonlocal seen, timer
            try:
                version = connection.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error as error:  # a locked or replaced file: look again later
                log.warning("cannot read data_version", extra={"error": str(error)})
            else:
                if version != seen:
                    seen = version
                    wakeups.fire(*channels)
            timer = loop.call_at(_next_whole(loop, every), look)

        wakeups.fire(*channels)  # whatever was written before we watched: look once
        timer = loop.call_at(_next_whole(loop, every), look)
        await stop.wait()
    finally:
        if timer is not None:
            timer.cancel()
        connection.close()


def _next_whole(loop: asyncio.AbstractEventLoop, every: float) -> float:
    """The loop's time of the next whole multiple of `every` seconds of wall time."""
    return loop.time() + every - time.time() % every
