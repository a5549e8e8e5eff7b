"""Group commit: concurrent deliveries share one transaction instead of one each.

A commit through SQLAlchemy async on SQLite costs ~0.4 ms, mostly hand-offs, not disk
(PERFORMANCE.md), so committing each delivery alone caps the inbox near 2k/s. Here
every request adds its row to a queue and awaits its future; one writer task commits
whatever has gathered while the previous commit ran, then answers them all. A request
is answered 202 only after the commit that holds its row returned. On SQLite the
batch is a unit on the database's one writer thread (inbox/sqlite_commit.py); on
PostgreSQL it goes through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.schema import Table

from inbox.models import INBOX_CHANNEL, InboxActivity
from inbox.sqlite_commit import insert_rows
from store import Database
from store.wakeups import notify_sql

log = logging.getLogger("rose_cart.inbox.group_commit")
MAX_BATCH = 500
STOP_SECONDS = 10.0


def _insert_ignoring_duplicates(db: Database) -> Any:
    """INSERT … ON CONFLICT (ap_id) DO NOTHING RETURNING ap_id, in each engine's dialect."""
    # Core, not the ORM: ORM bulk inserts cost several times more per row here.
    table = cast(Table, InboxActivity.__table__)
    dialect_insert = sqlite_insert if db.is_sqlite else pg_insert
    statement = dialect_insert(table).on_conflict_do_nothing(index_elements=["ap_id"])
    return statement.returning(table.c.ap_id)


class InboxWriter:
    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: list[tuple[Mapping[str, Any], asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._statement = _insert_ignoring_duplicates(db)
        database = db.engine.url.database
        # A SQLite file: the one writer thread's units (an in-memory one: SQLAlchemy).
        self._sqlite = bool(db.is_sqlite and database and database != ":memory:")

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        """Commit what is queued, the batch committing now among it, answer every waiter,
        then stop. Cancelling the writer mid-commit, as it once did, left that batch's
        waiters unanswered for good (their rows committed or not). A commit that does not
        end within STOP_SECONDS is cancelled after all: a shutdown must end."""
        if self._task is None:
            return
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=STOP_SECONDS)
        if not done:
            log.error("inbox writer still committing after %s s; stopped", STOP_SECONDS)
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def store(self, row: Mapping[str, Any]) -> bool:
        """Store one activity row; True if it was new, False if its ap_id was already held."""
        if self._task is None:
            raise RuntimeError("InboxWriter.start() was not called")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((row, future))
        self._wake.set()
        # Not shielded: a waiter cancelled (the server shutting down) leaves its row in
        # the batch, committed all the same, and the batch skips answering it. A shield
        # cost a second future and a callback per delivery, ~3 % of one under load.
        return await future

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            await self._drain()

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                new = await self._commit([row for row, _ in batch])
            except Exception as error:  # every waiter learns its row was not stored
                log.exception("inbox batch commit failed", extra={"rows": len(batch)})
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for row, future in batch:
                # a duplicate within the batch: only the first occurrence is new, even
                # when the first one's waiter is gone
                fresh = new.pop(row["ap_id"], None) is not None
                if not future.done():
                    future.set_result(fresh)

    async def _commit(self, rows: list[Mapping[str, Any]]) -> dict[str, bool]:
        unique: dict[str, Mapping[str, Any]] = {}
        for row in rows:
            unique.setdefault(row["ap_id"], row)
        if self._sqlite:
            new = dict.fromkeys(await self.db.write(insert_rows, list(unique.values())), True)
        else:
            async with self.db.engine.begin() as connection:
                result = await connection.execute(self._statement, list(unique.values()))
                new = {ap_id: True for ap_id in result.scalars()}
                if new:  # delivered to every process's listener when this commits
                    await connection.execute(*notify_sql(INBOX_CHANNEL))
        if new:
            self.db.wakeups.fire(INBOX_CHANNEL)
        return new
