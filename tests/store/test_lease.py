"""Claiming due rows under a lease: batches, takeover of expired leases, disjoint workers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from inbox.models import InboxActivity, InboxStatus
from store import Database
from store.lease import RELEASED, claim, held_by

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def _rows(db: Database, count: int) -> None:
    async with db.transaction() as session:
        session.add_all(
            InboxActivity(
                ap_id=f"https://peer.example/a/{n}",
                ap_actor_id="https://peer.example/actor",
                activity_type="Follow",
                body="{}",
                status=InboxStatus.PENDING,
                attempts=0,
                received_at=NOW,
                next_attempt_at=NOW,
            )
            for n in range(count)
        )


def _claim_in(session: Session, now: datetime, limit: int) -> tuple[str, list[int]]:
    lease, rows = claim(
        session,
        InboxActivity,
        now=now,
        length=LEASE,
        due=[InboxActivity.status == InboxStatus.PENDING],
        order_by=[InboxActivity.id],
        limit=limit,
        returning=[InboxActivity.id],
        values={"attempts": InboxActivity.attempts + 1},
    )
    return lease.token, sorted(row_id for (row_id,) in rows)


async def _claim(db: Database, now: datetime, limit: int) -> tuple[str, list[int]]:
    return await db.write(_claim_in, now, limit)


async def test_workers_claim_disjoint_batches_until_none_is_left(db: Database) -> None:
    await _rows(db, 5)
    first_token, first = await _claim(db, NOW, 3)
    second_token, second = await _claim(db, NOW, 3)
    _, third = await _claim(db, NOW, 3)
    assert len(first) == 3 and len(second) == 2 and third == []
    assert not set(first) & set(second) and first_token != second_token
    async with db.transaction() as session:
        attempts = await session.scalar(select(func.sum(InboxActivity.attempts)))
    assert attempts == 5


async def test_an_expired_lease_is_taken_over_and_its_old_holder_can_no_longer_write(
    db: Database,
) -> None:
    await _rows(db, 1)
    old_token, (row_id,) = await _claim(db, NOW, 10)
    assert (await _claim(db, NOW + LEASE - timedelta(seconds=1), 10))[1] == []
    new_token, taken = await _claim(db, NOW + LEASE + timedelta(seconds=1), 10)
    assert taken == [row_id]
    async with db.transaction() as session:
        stale = await session.execute(
            update(InboxActivity)
            .where(InboxActivity.id == row_id, held_by(InboxActivity, old_token))
            .values(status=InboxStatus.DONE, **RELEASED)
        )
        assert stale.rowcount == 0  # type: ignore[attr-defined]
        row = await session.get(InboxActivity, row_id)
        assert row is not None
        assert (row.status, row.lease_token, row.attempts) == ("pending", new_token, 2)


async def test_on_postgresql_a_claim_skips_rows_another_open_claim_holds(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite serialises claims under its one write lock")
    await _rows(db, 4)
    async with db.transaction() as session:
        _, held = await session.run_sync(_claim_in, NOW, 2)
        # The first transaction is still open (its rows locked, not yet leased to
        # anyone who could see it): a second worker neither waits nor takes them.
        _, other = await asyncio.wait_for(_claim(db, NOW, 4), timeout=10)
    assert len(held) == 2 and len(other) == 2
    assert not set(held) & set(other)
