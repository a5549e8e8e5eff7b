"""The inbox worker: runs each stored activity's handler, once in effect, with retries.

A claim (one statement, committed) leases a batch of due rows and counts the attempt, so
a handler that crashes the whole process still moves its row towards `failed` instead
of looping forever. Each row is then processed in its own transaction: the handler's
writes and the row's `done` mark commit together, and the mark is conditional on our
lease, so a worker whose lease was taken over rolls back instead of applying twice.
Tests call `step()`; `run()` loops it for `serve` and `rose-cart worker`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from actor.incoming import IncomingActivity
from inbox.models import INBOX_CHANNEL, InboxActivity, InboxStatus
from inbox.registry import HandlerRegistry
from store import Clock, Database, repeat, utcnow
from store.lease import RELEASED, claim, held_by

log = logging.getLogger("rose_cart.inbox.worker")

LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 8
# 10 s, 20 s, 40 s … 640 s between attempts: about 21 minutes from first try to `failed`.
FIRST_DELAY = timedelta(seconds=10)
# Work written is announced (store/wakeups.py), and so is a retry we schedule when it
# falls due; this poll finds only a lease that ran out or another process's retry.
SAFETY_POLL = 60.0


class LeaseLost(Exception):
    """Our lease expired and another worker claimed the row; our work is rolled back."""


def backoff(attempts: int) -> timedelta:
    return FIRST_DELAY * int(2 ** max(0, attempts - 1))


class InboxWorker:
    def __init__(
        self,
        db: Database,
        registry: HandlerRegistry,
        parse: Callable[[dict[str, Any]], Any],
        *,
        clock: Clock = utcnow,
        batch: int = 50,
        max_attempts: int = MAX_ATTEMPTS,
        on_processed: Callable[[AsyncSession, str], Awaitable[object]] | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.parse = parse
        self.clock = clock
        self.batch = batch
        self.max_attempts = max_attempts
        # Told, in the same transaction, of every sender whose activity was processed
        # (the outbox uses it to lift a delivery hold on a host that talks to us again).
        self.on_processed = on_processed

    async def _claim(self) -> list[tuple[int, str]]:
        now = self.clock()
        async with self.db.transaction() as session:
            lease, rows = await claim(
                session,
                InboxActivity,
                now=now,
                length=LEASE,
                due=[
                    InboxActivity.status == InboxStatus.PENDING,
                    InboxActivity.next_attempt_at <= now,
                ],
                order_by=[InboxActivity.id],
                limit=self.batch,
                returning=[InboxActivity.id],
                values={"attempts": InboxActivity.attempts + 1},
            )
        return [(row_id, lease.token) for (row_id,) in sorted(rows)]

    async def _process(self, row_id: int, token: str) -> None:
        async with self.db.transaction() as session:
            row = await session.get(InboxActivity, row_id)
            if row is None or row.lease_token != token:
                raise LeaseLost(row_id)
            status = InboxStatus.IGNORED
            if self.registry.knows(row.activity_type):
                document = orjson.loads(row.body)
                delivery = IncomingActivity(
                    row.ap_id, row.ap_actor_id, self.parse(document), document
                )
                if await self.registry.dispatch(session, delivery) is not None:
                    status = InboxStatus.DONE
            if self.on_processed is not None:
                await self.on_processed(session, row.ap_actor_id)
            marked = await session.execute(
                update(InboxActivity)
                .where(InboxActivity.id == row_id, held_by(InboxActivity, token))
                .values(status=status, processed_at=self.clock(), last_error=None, **RELEASED)
                .execution_options(synchronize_session=False)
            )
            if marked.rowcount != 1:  # type: ignore[attr-defined]
                raise LeaseLost(row_id)

    async def _record_failure(self, row_id: int, token: str, error: BaseException) -> None:
        async with self.db.transaction() as session:
            row = await session.get(InboxActivity, row_id)
            if row is None or row.lease_token != token:
                return
            gave_up = row.attempts >= self.max_attempts
            row.status = InboxStatus.FAILED if gave_up else InboxStatus.PENDING
            row.next_attempt_at = self.clock() + backoff(row.attempts)
            if not gave_up:
                self.db.wakeups.fire_later(INBOX_CHANNEL, backoff(row.attempts).total_seconds())
            row.lease_token = row.lease_until = None
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
        log.warning(
            "inbox handler failed" + ("; giving up" if gave_up else "; will retry"),
            extra={"ap_id": row.ap_id, "attempts": row.attempts, "error": row.last_error},
        )

    async def step(self) -> int:
        """Process what is due now; returns how many rows were claimed."""
        claimed = await self._claim()
        for row_id, token in claimed:
            try:
                await self._process(row_id, token)
            except LeaseLost:
                log.info("inbox lease lost; another worker has it", extra={"row": row_id})
            except Exception as error:  # a handler's failure is recorded, never fatal here
                await self._record_failure(row_id, token, error)
        return len(claimed)

    async def run(self, stop: asyncio.Event, idle: float = SAFETY_POLL) -> None:
        """Loop `step()` until `stop` is set. When nothing is due it sleeps until a commit
        stores an activity (a wake-up), or `idle` seconds for retries and lost leases."""
        wake = self.db.wakeups.event(INBOX_CHANNEL)
        await repeat("inbox worker", self.step, stop, idle=idle, wake=wake)
