"""Real `rose-cart worker` processes over one PostgreSQL: killed mid-batch, run two at once.

A receiver that dedupes on the activity id (as docs/protocol.md asks of followers) must see
every activity once in effect, and no delivery may be in flight twice at the same time.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from starlette.requests import Request
from starlette.responses import Response

from outbox.models import OutboxDelivery
from outbox.publish import publish
from outbox.states import DeliveryState
from store import Database, utcnow
from tests.outbox.support import Receiver, add_follower, create_note, deliveries
from tests.scale.conftest import Processes, prepared, process_env
from tests.support.loopback import serving

pytestmark = pytest.mark.slow
FOLLOWERS = 3


class Overlaps:
    """Answers slowly and notes any (inbox, activity) that arrives while already in flight."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.in_flight: set[tuple[str, str]] = set()
        self.overlaps: list[tuple[str, str]] = []

    async def __call__(self, request: Request, document: dict[str, Any]) -> Response:
        key = (request.url.path, str(document.get("id")))
        if key in self.in_flight:
            self.overlaps.append(key)
        self.in_flight.add(key)
        try:
            await asyncio.sleep(self.rng.uniform(0, 0.02))
        finally:
            self.in_flight.discard(key)
        return Response(status_code=202)


async def settle(db: Database) -> list[OutboxDelivery]:
    """The deliveries once all are done, or as they stand after 40 s."""
    for _ in range(400):
        rows = await deliveries(db)
        if rows and all(r.status == DeliveryState.DONE for r in rows):
            return rows
        await asyncio.sleep(0.1)
    return await deliveries(db)


async def expire_leases(db: Database) -> None:
    """What five minutes of waiting would do: the dead worker's leases run out."""
    async with db.transaction() as session:
        await session.execute(
            update(OutboxDelivery)
            .where(OutboxDelivery.lease_until.is_not(None))
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )


async def publish_notes(db: Database, actor: Any, receiver: Receiver, count: int) -> set[str]:
    for n in range(FOLLOWERS):
        await add_follower(db, f"https://coop{n}.test/actor", receiver.url(f"/coop{n}/inbox"))
    async with db.transaction() as session:
        for number in range(count):
            await publish(session, create_note(actor, number))
    return {create_note(actor, n)["id"] for n in range(count)}


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_worker_killed_at_a_random_point_mid_batch_loses_and_doubles_nothing(
    fresh_postgres: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a reproducible kill moment, not a secret
    db, actor = await prepared(fresh_postgres, tmp_path)
    answer = Overlaps(rng)
    receiver = Receiver(actor, answer=answer)
    processes = Processes(process_env(fresh_postgres, tmp_path))
    try:
        async with serving(receiver, lifespan="off") as base_url:
            receiver.base_url = base_url
            expected = await publish_notes(db, actor, receiver, 60)
            worker = await processes.start("worker")
            for _ in range(1200):  # wait for the first deliveries, then a random moment more
                if receiver.arrivals:
                    break
                await asyncio.sleep(0.05)
            assert receiver.arrivals, "the worker never delivered"
            await asyncio.sleep(rng.uniform(0, 0.5))
            await processes.kill(worker)
            before = await deliveries(db)
            await expire_leases(db)

            await processes.start("worker")
            rows = await settle(db)
    finally:
        await processes.kill_all()
        await db.dispose()

    assert {r.status for r in rows} == {DeliveryState.DONE}, "a delivery never completed"
    assert len(rows) == FOLLOWERS * len(expected)
    assert all(a.verified for a in receiver.arrivals)  # signed with the key sealed in the DB
    for n in range(FOLLOWERS):
        assert set(receiver.seen(f"/coop{n}/inbox")) == expected  # each once, after dedupe
    # Only what the dead worker had not recorded may arrive twice.
    recorded_before = sum(1 for r in before if r.status == DeliveryState.DONE)
    assert len(receiver.arrivals) <= len(rows) + (len(rows) - recorded_before)
    assert answer.overlaps == []


async def test_two_workers_at_once_never_send_one_delivery_twice(
    fresh_postgres: str, tmp_path: Path
) -> None:
    db, actor = await prepared(fresh_postgres, tmp_path)
    answer = Overlaps(random.Random(3))  # noqa: S311 - reproducible delays
    receiver = Receiver(actor, answer=answer)
    processes = Processes(process_env(fresh_postgres, tmp_path))
    try:
        async with serving(receiver, lifespan="off") as base_url:
            receiver.base_url = base_url
            expected = await publish_notes(db, actor, receiver, 80)
            await asyncio.gather(processes.start("worker"), processes.start("worker"))
            rows = await settle(db)
    finally:
        await processes.kill_all()
        await db.dispose()

    assert {r.status for r in rows} == {DeliveryState.DONE}
    assert answer.overlaps == []
    # Nobody died, so nothing is sent twice at all: exactly one POST per delivery row.
    sent = [(a.path, a.activity_id) for a in receiver.arrivals]
    assert len(sent) == len(set(sent)) == FOLLOWERS * len(expected)
