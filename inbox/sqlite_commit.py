"""SQLite's group commit, on a thread of its own with a stdlib connection.

Through SQLAlchemy async, one batch costs several hand-offs between the event loop and
aiosqlite's thread (begin, execute, commit), each waiting for a loop busy verifying
signatures; a batch took ~5 ms that way. Here a batch is one hand-off: the thread runs
BEGIN IMMEDIATE, one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, and COMMIT,
then answers. Values are written in the formats SQLAlchemy reads back (timestamps as
naive-UTC ISO text, see store.base.UTCDateTime), and a test reads them back through the ORM.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from store.engine import SQLITE_BUSY_TIMEOUT_MS

COLUMNS = (
    "ap_id",
    "ap_actor_id",
    "activity_type",
    "object_type",
    "body",
    "status",
    "attempts",
    "received_at",
    "next_attempt_at",
)
# SQLite allows 32,766 bound parameters per statement.
MAX_ROWS = 32_766 // len(COLUMNS)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    return value


class SqliteCommitter:
    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-commit")
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            self._connection = connection
        return self._connection

    def _commit(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        connection = self._connect()
        placeholders = "(" + ", ".join("?" * len(COLUMNS)) + ")"
        # Only our own column names and "?" placeholders are joined in; values are bound.
        columns = ", ".join(COLUMNS)
        statement = (
            f"INSERT INTO inbox_activities ({columns}) VALUES "  # noqa: S608
            + ", ".join([placeholders] * len(rows))
            + " ON CONFLICT (ap_id) DO NOTHING RETURNING ap_id"
        )
        values = [_sqlite_value(row[column]) for row in rows for column in COLUMNS]
        connection.execute("BEGIN IMMEDIATE")
        try:
            new = {ap_id for (ap_id,) in connection.execute(statement, values).fetchall()}
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return new

    async def commit(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        loop = asyncio.get_running_loop()
        new: set[str] = set()
        for start in range(0, len(rows), MAX_ROWS):
            chunk = rows[start : start + MAX_ROWS]
            new |= await loop.run_in_executor(self._executor, self._commit, chunk)
        return new

    def close(self) -> None:
        self._executor.submit(self._close).result()
        self._executor.shutdown()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
