"""The inbox worker: runs each stored activity's handler, once in effect, with retries.

Two units of work per round (store/units.py), each one hop to the database thread:

1. **claim**: one statement leases up to `batch` due rows and counts the attempt, and
   commits, so a handler that crashes the whole process still moves its row towards
   `failed` instead of looping forever.
2. **apply**: every claimed activity in turn, in one SAVEPOINT for the batch, then the
   rows' marks in one statement per outcome (`done`, `ignored`), conditional on our
   lease. If a handler raises or a row is no longer ours, that SAVEPOINT is rolled back
   and the rows still held are applied again one at a time, each in its own SAVEPOINT
   with its own mark: an activity that fails then rolls back alone and is scheduled for
   a retry (or marked `failed`) in the same unit, and a worker whose lease was taken
   over applies nothing twice. Handlers write only to the database, so running one again
   after its writes were rolled back changes nothing. The whole batch commits once. A
   crash before that COMMIT keeps nothing of it: the rows stay leased, and are taken
   over when the lease runs out and applied then.

The receiver hands over what it parsed (inbox/handoff.py), so a row is parsed here
only after a restart or when another process received it. What every activity of a
batch looks up is read once per batch: the apply unit is one session, whose identity
map keeps the ORM rows handlers load, and handlers that read through Core (the Follow's
follower row and cached inboxes) keep theirs in the unit's memo (store/memo.py), which
a rollback empties. Handlers get the batch's
`now` from this worker's clock. Tests call `step()`; `run()` loops it for `serve` and
`rose-cart worker`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session

from actor.incoming import IncomingActivity
from inbox.handoff import Handoff, Parsed
from inbox.models import INBOX_CHANNEL, InboxActivity, InboxStatus
from inbox.registry import HandlerRegistry
from store import Clock, Database, batching, direct, repeat, utcnow
from store.lease import (
    NOW,
    RELEASED,
    Lease,
    claim_parameters,
    claim_template,
    held_by,
    new_lease,
)

log = logging.getLogger("rose_cart.inbox.worker")

LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 8
BATCH = 100
# 10 s, 20 s, 40 s … 640 s between attempts: about 21 minutes from first try to `failed`.
FIRST_DELAY = timedelta(seconds=10)
# Work written is announced (store/wakeups.py), and so is a retry we schedule when it
# falls due; this poll finds only a lease that ran out or another process's retry.
SAFETY_POLL = 60.0

# Built once: constructing an ORM statement per activity cost more than running it.
_MARK = (
    update(InboxActivity)
    .where(InboxActivity.id == bindparam("row_id"), InboxActivity.lease_token == bindparam("token"))
    .values(status=bindparam("status"), processed_at=bindparam("now"), last_error=None, **RELEASED)
)
# A batch's rows of one outcome, marked in one statement (its rowcount is exact on both
# engines, which an executemany's is not).
_MARK_ALL = (
    update(InboxActivity)
    .where(
        InboxActivity.id.in_(bindparam("row_ids", expanding=True)),
        InboxActivity.lease_token == bindparam("token"),
    )
    .values(status=bindparam("status"), processed_at=bindparam("now"), last_error=None, **RELEASED)
)
_HELD = select(InboxActivity.id).where(
    InboxActivity.id.in_(bindparam("row_ids", expanding=True)),
    InboxActivity.lease_token == bindparam("token"),
)
_BODY = select(InboxActivity.body).where(InboxActivity.id == bindparam("row_id"))


class OnProcessed(Protocol):
    """Told, in the apply unit, of the senders whose activities were processed, once per
    batch (the outbox lifts a delivery hold on a host that talks to us again)."""

    def __call__(self, session: Session, senders: list[str], /, *, now: datetime) -> object: ...


class LeaseLost(Exception):
    """Our lease expired and another worker claimed the row; our work is rolled back."""


def backoff(attempts: int) -> timedelta:
    return FIRST_DELAY * int(2 ** max(0, attempts - 1))


@dataclass(frozen=True, order=True)
class Claimed:
    row_id: int
    ap_id: str
    sender: str
    activity_type: str
    attempts: int


@dataclass(frozen=True)
class Batch:
    """What one apply unit works on: the claimed rows, the receiver's parses of them,
    our lease's token and the batch's `now`."""

    rows: list[Claimed]
    given: dict[str, Parsed]
    token: str
    now: datetime


@dataclass(frozen=True)
class Retry:
    ap_id: str
    attempts: int
    gave_up: bool
    error: str


def _keep_for_the_batch(session: Session) -> None:
    """Hold every row the unit's session loads or stores until the unit ends.

    The identity map holds rows weakly: a row one activity's handler read (a mirrored
    product, our follow of a peer) is gone when it returns, and the next activity about
    it would read it again. Kept here, the session finds it in the map instead: the
    per-batch cache. Any rollback, a SAVEPOINT's too, expires every kept row (as the
    unit's memo is emptied, store/memo.py): SQLAlchemy expires only the rows it saw
    changed, and a row a handler moved with a statement and reloaded would otherwise be
    read again as moved after the move was rolled back.
    """
    kept: list[object] = []
    session.info["inbox.kept"] = kept

    def keep(_session: Session, instance: object) -> None:
        kept.append(instance)

    def forget(rolled_back: Session, _previous: object) -> None:
        rolled_back.expire_all()

    event.listen(session, "loaded_as_persistent", keep)
    event.listen(session, "pending_to_persistent", keep)
    event.listen(session, "after_soft_rollback", forget)


class InboxWorker:
    def __init__(
        self,
        db: Database,
        registry: HandlerRegistry,
        parse: Callable[[dict[str, Any]], Any],
        *,
        clock: Clock = utcnow,
        batch: int = BATCH,
        max_attempts: int = MAX_ATTEMPTS,
        on_processed: OnProcessed | None = None,
        handoff: Handoff | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.parse = parse
        self.clock = clock
        self.batch = batch
        self.max_attempts = max_attempts
        self.on_processed = on_processed
        self.handoff = handoff if handoff is not None else Handoff()
        # Built once: an ORM statement built and run through the session at every round
        # cost ~3 % of the serving process's CPU under bench/federation.
        self._claim_statement = claim_template(
            InboxActivity,
            due=[
                InboxActivity.status == InboxStatus.PENDING,
                InboxActivity.next_attempt_at <= NOW,
            ],
            order_by=[InboxActivity.id],
            limit=batch,
            returning=[
                InboxActivity.id,
                InboxActivity.ap_id,
                InboxActivity.ap_actor_id,
                InboxActivity.activity_type,
                InboxActivity.attempts,
            ],
            values={"attempts": InboxActivity.attempts + 1},
        )

    def _claim(self, session: Session, lease: Lease, now: datetime) -> list[Claimed]:
        claimed = direct.rows(session, self._claim_statement, claim_parameters(lease, now))
        # Sender by sender, each sender's in the order received: the rows a handler locks
        # are mostly its sender's (the Follow's follower row), so two workers' batches take
        # those locks in one order. In id order they interleaved senders and deadlocked on
        # PostgreSQL, each deadlock a second's wait and the batch applied again one by one.
        return sorted((Claimed(*row) for row in claimed), key=lambda row: (row.sender, row.row_id))

    def _parsed(self, session: Session, row: Claimed, given: Parsed | None) -> Parsed:
        if given is not None and given.sender == row.sender:
            return given
        body = session.connection().execute(_BODY, {"row_id": row.row_id}).scalar_one()
        document = orjson.loads(body)
        return Parsed(row.sender, self.parse(document), document)

    def _handle(
        self, session: Session, row: Claimed, given: Parsed | None, now: datetime
    ) -> InboxStatus:
        """Run the activity's handler; the status its row is to be marked with."""
        if not self.registry.knows(row.activity_type):
            return InboxStatus.IGNORED
        parsed = self._parsed(session, row, given)
        delivery = IncomingActivity(row.ap_id, row.sender, parsed.activity, parsed.document)
        if self.registry.dispatch(session, delivery, now) is None:
            return InboxStatus.IGNORED
        return InboxStatus.DONE

    def _apply_one(
        self, session: Session, row: Claimed, token: str, given: Parsed | None, now: datetime
    ) -> None:
        status = self._handle(session, row, given, now)
        marked = session.connection().execute(
            _MARK, {"row_id": row.row_id, "token": token, "status": status, "now": now}
        )
        if marked.rowcount != 1:
            raise LeaseLost(row.row_id)

    def _apply_all(self, session: Session, batch: Batch) -> None:
        """Every activity of the batch, and their marks, in the caller's one SAVEPOINT.

        Raises what a handler raised, or LeaseLost when a row is no longer ours; the
        caller then rolls the whole batch back and applies it one activity at a time.
        """
        outcomes: dict[InboxStatus, list[int]] = {}
        # What handlers put off (the Follows' Accepts, store/batching.py) is written
        # together, before any other kind of activity's handler runs, so that one reads
        # what it would have read, and the rows are written in the same order.
        batching.start(session)
        try:
            for row in batch.rows:
                if row.activity_type != "Follow":
                    batching.flush(session)
                status = self._handle(session, row, batch.given.get(row.ap_id), batch.now)
                outcomes.setdefault(status, []).append(row.row_id)
            batching.flush(session)
        finally:
            batching.stop(session)
        for status, row_ids in outcomes.items():
            values = {"row_ids": row_ids, "token": batch.token, "status": status, "now": batch.now}
            if direct.execute(session, _MARK_ALL, values) != len(row_ids):
                raise LeaseLost(row_ids[0])

    def _apply_each(
        self, session: Session, batch: Batch, rows: list[Claimed]
    ) -> tuple[list[str], list[Retry]]:
        """Each activity in its own SAVEPOINT: one that fails rolls back alone and is
        scheduled again; the senders whose activities stand, and the retries."""
        retries: list[Retry] = []
        senders: list[str] = []
        for row in rows:
            try:
                with session.begin_nested():  # this activity's SAVEPOINT
                    given = batch.given.get(row.ap_id)
                    self._apply_one(session, row, batch.token, given, batch.now)
            except LeaseLost:
                log.info("inbox lease lost; another worker has it", extra={"row": row.row_id})
                continue
            except Exception as error:  # a handler's failure is recorded, never fatal here
                retry = self._retry_later(session, row, batch.token, error, batch.now)
                if retry is not None:
                    retries.append(retry)
                continue
            if row.sender not in senders:
                senders.append(row.sender)
        return senders, retries

    def _retry_later(
        self, session: Session, row: Claimed, token: str, error: BaseException, now: datetime
    ) -> Retry | None:
        gave_up = row.attempts >= self.max_attempts
        message = f"{type(error).__name__}: {error}"[:2000]
        marked = session.execute(
            update(InboxActivity)
            .where(InboxActivity.id == row.row_id, held_by(InboxActivity, token))
            .values(
                status=InboxStatus.FAILED if gave_up else InboxStatus.PENDING,
                next_attempt_at=now + backoff(row.attempts),
                last_error=message,
                **RELEASED,
            )
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another worker has it now
        return Retry(row.ap_id, row.attempts, gave_up, message)

    def _apply(
        self,
        session: Session,
        rows: list[Claimed],
        given: dict[str, Parsed],
        token: str,
        now: datetime,
    ) -> list[Retry]:
        _keep_for_the_batch(session)
        batch = Batch(rows, given, token, now)
        retries: list[Retry] = []
        try:
            with session.begin_nested():  # the whole batch's SAVEPOINT
                self._apply_all(session, batch)
            senders = list(dict.fromkeys(row.sender for row in rows))
        except Exception:  # rolled back whole: again, one SAVEPOINT per activity
            log.debug("inbox batch rolled back; applying it one by one", exc_info=True)
            values = {"row_ids": [row.row_id for row in rows], "token": token}
            held = set(session.connection().execute(_HELD, values).scalars())
            if len(held) < len(rows):
                log.info("inbox lease lost; another worker has it", extra={"rows": len(rows)})
            ours = [row for row in rows if row.row_id in held]
            senders, retries = self._apply_each(session, batch, ours)
        if self.on_processed is not None and senders:
            try:
                with session.begin_nested():
                    self.on_processed(session, senders, now=now)
            except Exception:  # the activities stand; the hold lifts next time
                log.exception("inbox on_processed failed", extra={"senders": len(senders)})
        return retries

    async def step(self) -> int:
        """Process what is due now; returns how many rows were claimed."""
        now = self.clock()
        lease = new_lease(now, LEASE)
        claimed = await self.db.write(self._claim, lease, now)
        if not claimed:
            return 0
        # Taken on the event loop, where the receiver offers them.
        given = {
            row.ap_id: parsed
            for row in claimed
            if (parsed := self.handoff.take(row.ap_id)) is not None
        }
        retries = await self.db.write(self._apply, claimed, given, lease.token, now)
        for retry in retries:
            if not retry.gave_up:
                self.db.wakeups.fire_later(INBOX_CHANNEL, backoff(retry.attempts).total_seconds())
            log.warning(
                "inbox handler failed" + ("; giving up" if retry.gave_up else "; will retry"),
                extra={"ap_id": retry.ap_id, "attempts": retry.attempts, "error": retry.error},
            )
        return len(claimed)

    async def run(self, stop: asyncio.Event, idle: float = SAFETY_POLL) -> None:
        """Loop `step()` until `stop` is set. When nothing is due it sleeps until a commit
        stores an activity (a wake-up), or `idle` seconds for retries and lost leases."""
        wake = self.db.wakeups.event(INBOX_CHANNEL)
        await repeat("inbox worker", self.step, stop, idle=idle, wake=wake)
