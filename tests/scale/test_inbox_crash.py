"""A worker SIGKILLed at a random point while it processes the inbox, on both engines.

Co-op peers' Follows wait in the inbox, more than two of the worker's batches (inbox/
worker.py: up to 100 applied in one transaction). A worker starts on them and is killed
at a seeded random moment after its first batch committed, so in or between the later
ones; a second one finishes. Each Follow must take effect exactly once: one accepted
follower and one Accept each, whatever the moment of the kill.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from inbox.models import InboxActivity, InboxStatus
from outbox.models import Follower, OutboxActivity
from store import sqlite_url_for
from tests.scale.conftest import Processes, prepared, process_env

pytestmark = pytest.mark.slow
PEERS = 250  # two and a half batches


# Peers on a closed loopback port: the Accepts we queue for them fail fast, locally.
NOWHERE = "http://127.0.0.1:9"


def coop(n: int) -> str:
    return f"{NOWHERE}/coop{n}/actor"


async def test_a_worker_killed_mid_inbox_processing_applies_each_follow_once(
    fresh_postgres: str, tmp_path: Path
) -> None:
    await killed_mid_inbox(fresh_postgres, tmp_path)


async def test_on_sqlite_a_worker_killed_mid_batch_applies_each_follow_once(
    tmp_path: Path,
) -> None:
    """The same on SQLite, where a batch is one unit on the writer thread."""
    await killed_mid_inbox(sqlite_url_for(tmp_path), tmp_path)


async def killed_mid_inbox(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(7)  # noqa: S311 - a reproducible kill moment, not a secret
    db, actor = await prepared(database_url, tmp_path)
    now = datetime.now(UTC) - timedelta(seconds=1)
    async with db.transaction() as session:
        for n in range(PEERS):
            document = {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{NOWHERE}/coop{n}/follows/1",
                "type": "Follow",
                "actor": coop(n),
                "object": actor.id,
            }
            session.add(
                InboxActivity(
                    ap_id=document["id"],
                    ap_actor_id=coop(n),
                    activity_type="Follow",
                    object_type=None,
                    body=json.dumps(document),
                    status=InboxStatus.PENDING,
                    attempts=0,
                    received_at=now,
                    next_attempt_at=now,
                )
            )
    peers = ",".join(f"coop={coop(n)}" for n in range(PEERS))
    processes = Processes(process_env(database_url, tmp_path, ROSE_CART_PEERS=peers))

    async def done() -> int:
        async with db.transaction() as session:
            return int(
                await session.scalar(
                    select(func.count()).where(InboxActivity.status == InboxStatus.DONE)
                )
                or 0
            )

    try:
        worker = await processes.start("worker")
        for _ in range(600):  # until it has started on them, then a random moment more
            if await done():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0, 0.3))
        await processes.kill(worker)
        async with db.transaction() as session:  # its leases would otherwise wait 2 minutes
            await session.execute(update(InboxActivity).values(lease_until=None))
        await processes.start("worker")
        for _ in range(600):
            if await done() == PEERS:
                break
            await asyncio.sleep(0.05)
        async with db.transaction() as session:
            followers = (await session.execute(select(Follower.ap_actor_id, Follower.state))).all()
            accepts = (
                (
                    await session.execute(
                        select(OutboxActivity.body).where(OutboxActivity.activity_type == "Accept")
                    )
                )
                .scalars()
                .all()
            )
            statuses = set((await session.execute(select(InboxActivity.status))).scalars())
    finally:
        await processes.kill_all()
        await db.dispose()

    assert statuses == {InboxStatus.DONE}
    assert sorted(followers) == sorted((coop(n), "accepted") for n in range(PEERS))
    answered = sorted(json.loads(body)["to"][0] for body in accepts)
    assert answered == sorted(coop(n) for n in range(PEERS)), "each Follow answered exactly once"
