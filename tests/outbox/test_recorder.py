"""A batch's outcomes are written once, even when a flush is cut short.

The delivery worker records outcomes every second from a ticker and once more when the
batch ends. A flush that was cancelled mid-write (the ticker stopped as the batch ended)
or failed used to lose the outcomes it had taken out of its buffer: the deliveries had
been sent but stayed leased and "pending", and were sent again after the lease ran out.
A flush's write is a unit of work, which commits or rolls back whole whether or not its
caller is still waiting: a cancelled flush waits for its unit and keeps for the next
flush only what the unit did not write; a failed one keeps everything. On both engines.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from actor.schemes import SchemeMemory
from outbox import recorder
from outbox.models import DeliveryState
from outbox.publish import publish
from outbox.queue import Claimed, Result, claim
from outbox.recorder import OutcomeLog
from store import Database
from tests.outbox.support import add_follower, create_note, deliveries, local_actor
from tests.support.locks import writes_blocked

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ACTOR = local_actor()


async def claimed_deliveries(db: Database, count: int) -> list[Claimed]:
    for n in range(count):
        await add_follower(db, f"https://peer{n}.example/actor", f"https://peer{n}.example/inbox")
    async with db.transaction() as session:
        await publish(session, create_note(ACTOR, 1), now=NOW)
    return await db.write(claim, now=NOW, lease=timedelta(minutes=5), limit=10)


async def sent_to(db: Database, followers: int) -> OutcomeLog:
    """A batch's log holding one answered (202) delivery per follower, not yet written."""
    outcomes = OutcomeLog(db, SchemeMemory(), NOW)
    for item in await claimed_deliveries(db, followers):
        outcomes.add(Result(item, DeliveryState.DONE, status=202), host_failed=False)
    return outcomes


async def test_a_flush_cancelled_mid_write_still_records_its_outcomes_once(
    db: Database,
) -> None:
    outcomes = await sent_to(db, 3)
    async with writes_blocked(db, "outbox_deliveries"):
        flushing = asyncio.create_task(outcomes.flush())
        while outcomes._results:  # taken out of the buffer: the write is under way
            await asyncio.sleep(0)
        flushing.cancel()  # the ticker stopped as the batch ended
        for _ in range(10):
            await asyncio.sleep(0)
        assert not flushing.done()  # it waits for its unit's outcome
        assert {row.status for row in await deliveries(db)} == {DeliveryState.PENDING}
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(flushing, 20)

    assert [row.status for row in await deliveries(db)] == [DeliveryState.DONE] * 3
    await outcomes.flush()  # the batch's last flush: nothing left to write
    assert outcomes.lost == 0


async def test_a_flush_cancelled_twice_whose_write_then_fails_keeps_its_outcomes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled again while it waits for its unit, the flush still waits: the unit fails
    once the lock is free, and the next flush writes what it could not."""
    outcomes = await sent_to(db, 2)
    real_finish = recorder.finish

    def failing_finish(session: Session, *args: Any, **kwargs: Any) -> int:
        session.execute(text("UPDATE outbox_deliveries SET last_error = 'touched'"))
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr(recorder, "finish", failing_finish)
    async with writes_blocked(db, "outbox_deliveries"):
        flushing = asyncio.create_task(outcomes.flush())
        while outcomes._results:  # taken out of the buffer: the write is under way
            await asyncio.sleep(0)
        for _ in range(2):
            flushing.cancel()
            for _ in range(10):
                await asyncio.sleep(0)
        assert not flushing.done()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(flushing, 20)

    monkeypatch.setattr(recorder, "finish", real_finish)
    await outcomes.flush()
    rows = await deliveries(db)
    assert [row.status for row in rows] == [DeliveryState.DONE] * 2
    assert {row.last_error for row in rows} == {None}  # the failed unit left nothing


async def test_a_failed_flush_keeps_its_outcomes_and_the_next_one_writes_them(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = await sent_to(db, 2)
    real_finish = recorder.finish

    def failing_finish(*args: Any, **kwargs: Any) -> int:
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr(recorder, "finish", failing_finish)
    with pytest.raises(ConnectionResetError):
        await outcomes.flush()
    monkeypatch.setattr(recorder, "finish", real_finish)
    await outcomes.flush()

    assert [row.status for row in await deliveries(db)] == [DeliveryState.DONE] * 2
