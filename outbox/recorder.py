"""Writing a batch's outcomes as they come in, not only when the batch ends.

Deliveries in one batch finish at very different times (a fast inbox in milliseconds,
a hanging one at the 30 s cap). Outcomes are buffered and written in one transaction
every `flush_every` results or `flush_seconds`, whichever comes first, and once more
at the end: a worker killed mid-batch then re-sends only what it had not yet recorded,
and the common case (hundreds of 2xx) still costs one statement per flush.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from actor.schemes import SchemeMemory, save_learned
from actor.signature_types import Scheme
from outbox.followers import remove_followers_at
from outbox.hosts import record_failures, record_successes
from outbox.models import DELIVERIES_CHANNEL
from outbox.queue import Claimed, Result, finish, release
from store import Database

log = logging.getLogger("rose_cart.outbox.worker")


class OutcomeLog:
    def __init__(
        self,
        db: Database,
        memory: SchemeMemory,
        now: datetime,
        *,
        flush_every: int = 200,
        flush_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.memory = memory
        self.now = now
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self._results: list[Result] = []
        self._released: list[Claimed] = []
        self._answered: set[str] = set()  # hosts that answered something other than "later"
        self._failed: Counter[str] = Counter()
        self._lock = asyncio.Lock()
        self._last_flush = time.monotonic()
        self.lost = 0

    def add(self, result: Result, *, host_failed: bool | None = None) -> None:
        """`host_failed`: None when no request was made (nothing learned about the host)."""
        self._results.append(result)
        host = result.claimed.host
        if host is not None and host_failed is not None:
            if host_failed:
                self._failed[host] += 1
            else:
                self._answered.add(host)

    def release(self, item: Claimed) -> None:
        self._released.append(item)

    async def maybe_flush(self) -> None:
        due = time.monotonic() - self._last_flush >= self.flush_seconds
        if len(self._results) >= self.flush_every or (due and self._results):
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            results, self._results = self._results, []
            released, self._released = self._released, []
            answered, self._answered = self._answered, set()
            failed, self._failed = self._failed, Counter()
            self._last_flush = time.monotonic()
            if not (results or released):
                return
            learned = self.memory.take_learned()  # on the loop, where auth adds to it
            write = asyncio.ensure_future(self._write(results, released, answered, failed, learned))
            # The unit is never cut off halfway: it commits or rolls back whole on the
            # database's thread whether or not this flush is cancelled meanwhile (the
            # ticker stopped as the batch ended). So the flush waits for it, through any
            # cancel (a unit's wait is bounded by the engine's lock timeout), and its
            # outcome decides: what it wrote is counted once, what it did not is kept for
            # the next flush (written twice, the leases would be gone and counted lost).
            cancelled: asyncio.CancelledError | None = None
            while not write.done():
                try:
                    await asyncio.wait({write})
                except asyncio.CancelledError as error:
                    cancelled = error
            unwritten = write.cancelled() or write.exception() is not None
            if unwritten:
                self._results[:0] = results
                self._released[:0] = released
                self._answered |= answered
                self._failed.update(failed)
                self.memory.relearn(learned)
            else:
                self._account(results, write.result())
        if cancelled is not None:
            raise cancelled
        if unwritten:
            write.result()  # the unit's error, for the caller

    def _account(self, results: list[Result], written: int) -> None:
        """After a flush committed: wake the worker for its first retry, count leases lost."""
        retries = [r.next_attempt_at for r in results if r.next_attempt_at is not None]
        if retries:  # wake the worker when the first retry falls due
            seconds = (min(retries) - self.now).total_seconds()
            self.db.wakeups.fire_later(DELIVERIES_CHANNEL, seconds)
        if written != len(results):
            self.lost += len(results) - written
            log.info(
                "some delivery leases were lost; another worker had them",
                extra={"lost": len(results) - written},
            )

    async def _write(
        self,
        results: list[Result],
        released: list[Claimed],
        answered: set[str],
        failed: Counter[str],
        learned: dict[str, Scheme],
    ) -> int:
        """One unit of work for one flush; returns how many results were still ours."""
        failed_only = {h: n for h, n in failed.items() if h not in answered}
        written, removed = await self.db.write(
            _record, results, released, answered, failed_only, learned, self.now
        )
        if removed:
            log.info("inbox gone; followers removed", extra={"followers": removed})
        return written


def _record(
    session: Session,
    results: list[Result],
    released: list[Claimed],
    answered: set[str],
    failed: dict[str, int],
    learned: dict[str, Scheme],
    now: datetime,
) -> tuple[int, list[str]]:
    """A unit: a flush's outcomes, releases, host health, followers gone and learned
    signature schemes; (results still ours, followers removed)."""
    written = finish(session, results, now=now)
    release(session, released)
    record_successes(session, answered, now)
    record_failures(session, failed, now)
    removed: list[str] = []
    for result in results:
        if result.status == 410 and result.claimed.inbox is not None:
            removed += remove_followers_at(session, result.claimed.inbox, now)
    save_learned(session, learned, now)
    return written, removed
