"""The delivery queue in the database: claiming due rows, recording outcomes, operator views.

Every function a worker calls here is a unit of work (store/units.py): a plain
function of a sync `Session`, run whole on the database's thread, so no delivery
batch holds a connection or SQLite's write lock across an await.

A claim (store/lease.py) is one committed statement that leases a batch of due rows
(PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint batches;
SQLite: the statement runs under its single write lock). A row whose lease has expired
(its worker died) is due again, so a delivery is never lost, only perhaps sent twice:
delivery is at least once, and receivers dedupe on the stable activity id. Outcomes are
written for a whole batch in one transaction, each conditional on the lease still ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from outbox.hosts import blocked_hosts, hold_for_unavailable_hosts
from outbox.models import DELIVERIES_CHANNEL, OutboxActivity, OutboxDelivery
from outbox.states import DELIVERIES, DeliveryState
from store import wake
from store.lease import RELEASED, extend_statement, held_by
from store.lease import claim as lease_rows


@dataclass(frozen=True)
class Claimed:
    id: int
    activity_id: int
    inbox: str | None
    host: str | None
    recipient: str | None
    attempts: int
    retry_from: datetime
    token: str


def claim(session: Session, *, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """A unit: hold what waits for an unavailable host, then lease up to `limit` due
    deliveries (ordered by id)."""
    hold_for_unavailable_hosts(session)
    taken, rows = lease_rows(
        session,
        OutboxDelivery,
        now=now,
        length=lease,
        due=[
            OutboxDelivery.status == DeliveryState.PENDING,
            OutboxDelivery.next_attempt_at <= now,
            blocked_hosts(now),
        ],
        order_by=[OutboxDelivery.next_attempt_at, OutboxDelivery.id],
        limit=limit,
        returning=[
            OutboxDelivery.id,
            OutboxDelivery.activity_id,
            OutboxDelivery.inbox,
            OutboxDelivery.host,
            OutboxDelivery.recipient,
            OutboxDelivery.attempts,
            OutboxDelivery.retry_from,
        ],
    )
    claimed = (Claimed(**row._mapping, token=taken.token) for row in rows)
    return sorted(claimed, key=lambda c: c.id)


def extend_leases(session: Session, token: str, until: datetime) -> int:
    """A unit: push out the lease of the rows still held under `token` (finished rows
    hold none)."""
    result = session.execute(extend_statement(OutboxDelivery, token, until))
    return int(result.rowcount)  # type: ignore[attr-defined]


def bodies(session: Session, activity_ids: Iterable[int]) -> dict[int, bytes]:
    wanted = list(set(activity_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(OutboxActivity.id, OutboxActivity.body).where(OutboxActivity.id.in_(wanted))
    )
    return {row_id: body.encode() for row_id, body in rows.all()}


def _ours(delivery_id: int, token: str) -> Any:
    return and_(OutboxDelivery.id == delivery_id, held_by(OutboxDelivery, token))


@dataclass(frozen=True)
class Result:
    """What became of one claimed delivery; `status` None means no HTTP answer."""

    claimed: Claimed
    state: DeliveryState
    status: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None


def finish(session: Session, results: Sequence[Result], *, now: datetime) -> int:
    """Write a batch's outcomes, each only if the lease is still ours; returns rows written."""
    written = 0
    # The common case, inboxes answering 2xx, is one statement per (lease, status).
    done: dict[tuple[str, int | None], list[int]] = {}
    for result in results:
        DELIVERIES.move(DeliveryState.PENDING, result.state)
        if result.state is DeliveryState.DONE:
            done.setdefault((result.claimed.token, result.status), []).append(result.claimed.id)
    for (token, status), ids in done.items():
        for start in range(0, len(ids), 500):
            outcome = session.execute(
                update(OutboxDelivery)
                .where(
                    OutboxDelivery.id.in_(ids[start : start + 500]),
                    held_by(OutboxDelivery, token),
                )
                .values(
                    status=DeliveryState.DONE,
                    attempts=OutboxDelivery.attempts + (1 if status is not None else 0),
                    last_status=status,
                    last_error=None,
                    finished_at=now,
                    **RELEASED,
                )
                .execution_options(synchronize_session=False)
            )
            written += int(outcome.rowcount)  # type: ignore[attr-defined]
    for result in results:
        if result.state is DeliveryState.DONE:
            continue
        values: dict[str, Any] = {
            "status": result.state,
            "attempts": OutboxDelivery.attempts + 1,
            "last_status": result.status,
            "last_error": result.error[:2000] if result.error else None,
            **RELEASED,
        }
        if result.state is DeliveryState.PENDING and result.next_attempt_at is not None:
            values["next_attempt_at"] = result.next_attempt_at
        if result.state is DeliveryState.DEAD:
            values["finished_at"] = now
        outcome = session.execute(
            update(OutboxDelivery)
            .where(_ours(result.claimed.id, result.claimed.token))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        written += int(outcome.rowcount)  # type: ignore[attr-defined]
    return written


def release(session: Session, claimed: Sequence[Claimed]) -> None:
    """Give back leased rows untried (their host's breaker opened meanwhile)."""
    for item in claimed:
        session.execute(
            update(OutboxDelivery)
            .where(_ours(item.id, item.token))
            .values(**RELEASED)
            .execution_options(synchronize_session=False)
        )


def resolved(session: Session, item: Claimed, inbox: str, host: str) -> bool:
    """A unit: fill in a resolved inbox; False if the activity already has a delivery to it."""
    existing = session.execute(
        select(OutboxDelivery.id).where(
            OutboxDelivery.activity_id == item.activity_id, OutboxDelivery.inbox == inbox
        )
    )
    if existing.first() is not None:
        return False
    session.execute(
        update(OutboxDelivery)
        .where(_ours(item.id, item.token))
        .values(inbox=inbox, host=host)
        .execution_options(synchronize_session=False)
    )
    return True


# -- operator views (`rose-cart deliveries status|failed|retry`) --------------------------


@dataclass(frozen=True)
class FailedDelivery:
    id: int
    activity_ap_id: str
    inbox: str | None
    recipient: str | None
    attempts: int
    last_status: int | None
    last_error: str | None
    finished_at: datetime | None


async def delivery_status(session: AsyncSession) -> dict[str, int]:
    """How many deliveries are in each state (every state listed, zeros included)."""
    rows = await session.execute(
        select(OutboxDelivery.status, func.count()).group_by(OutboxDelivery.status)
    )
    counts = {state.value: 0 for state in DeliveryState}
    counts.update({status: count for status, count in rows.all()})
    return counts


async def failed_deliveries(session: AsyncSession, *, limit: int = 100) -> list[FailedDelivery]:
    """Dead deliveries, most recent first."""
    rows = await session.execute(
        select(
            OutboxDelivery.id,
            OutboxActivity.ap_id,
            OutboxDelivery.inbox,
            OutboxDelivery.recipient,
            OutboxDelivery.attempts,
            OutboxDelivery.last_status,
            OutboxDelivery.last_error,
            OutboxDelivery.finished_at,
        )
        .join(OutboxActivity, OutboxActivity.id == OutboxDelivery.activity_id)
        .where(OutboxDelivery.status == DeliveryState.DEAD)
        .order_by(OutboxDelivery.finished_at.desc(), OutboxDelivery.id.desc())
        .limit(limit)
    )
    return [FailedDelivery(*row) for row in rows.all()]


async def retry_deliveries(
    session: AsyncSession, ids: Iterable[int] | Literal["all"], *, now: datetime
) -> int:
    """Put dead deliveries back in the queue, due now, with a fresh 72 h window."""
    condition = OutboxDelivery.status == DeliveryState.DEAD
    if ids != "all":
        condition = and_(condition, OutboxDelivery.id.in_(list(ids)))
    DELIVERIES.move(DeliveryState.DEAD, DeliveryState.PENDING)
    wake(session, DELIVERIES_CHANNEL)
    result = await session.execute(
        update(OutboxDelivery)
        .where(condition)
        .values(status=DeliveryState.PENDING, next_attempt_at=now, retry_from=now, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
