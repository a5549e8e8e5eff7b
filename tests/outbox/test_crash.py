"""A worker SIGKILLed mid-batch loses nothing: after a restart every delivery completes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from starlette.requests import Request
from starlette.responses import Response

from outbox.publish import publish
from outbox.states import DeliveryState
from outbox.worker import DeliveryWorker
from store import Database
from tests.outbox.support import (
    LOOPBACK,
    RSA_KEY,
    Receiver,
    add_follower,
    create_note,
    deliveries,
    local_actor,
    signature_auth,
)
from tests.support.clock import Clock
from tests.support.loopback import serving

ACTOR = local_actor()
ROOT = Path(__file__).resolve().parents[2]
COUNT = 20


async def test_a_worker_killed_mid_batch_leaves_nothing_undelivered(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    stalled = asyncio.Event()
    answered = 0

    async def first_five_then_stall(request: Request, document: dict[str, Any]) -> Response:
        nonlocal answered
        if answered >= 5 and not stalled.is_set():
            await asyncio.wait_for(stalled.wait(), 30)  # held open until the worker is dead
        answered += 1
        return Response(status_code=202)

    # A receiver that dedupes on the activity id, as docs/protocol.md asks of receivers.
    receiver = Receiver(ACTOR, answer=first_five_then_stall)
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        RSA_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    async with serving(receiver, lifespan="off") as base_url:
        receiver.base_url = base_url
        await add_follower(db, "https://x/ann", receiver.url("/inbox"))
        await add_follower(db, "https://y/bob", receiver.url("/bob/inbox"))
        async with db.transaction() as session:
            for number in range(COUNT):
                await publish(session, create_note(ACTOR, number))

        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.outbox.crash_worker",
            database_url,
            str(key_file),
            ACTOR.key_id,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            for _ in range(600):  # start-up, the first batch, then its first outcomes recorded
                rows = await deliveries(db)
                if len(receiver.arrivals) > 6 and any(r.status == DeliveryState.DONE for r in rows):
                    break
                await asyncio.sleep(0.05)
            assert len(receiver.arrivals) > 6, "the worker never got going"
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        rows = await deliveries(db)
        recorded = {r.id for r in rows if r.status == DeliveryState.DONE}
        assert recorded and any(r.status == DeliveryState.PENDING for r in rows)  # killed mid-batch
        arrivals_before = len(receiver.arrivals)
        stalled.set()

        clock = Clock.from_wall_time()
        clock.advance(timedelta(minutes=6))  # the dead worker's lease runs out
        worker = DeliveryWorker(db, signature_auth(ACTOR), LOOPBACK, clock=clock)
        try:
            while await worker.step():
                pass
        finally:
            await worker.aclose()

    assert {row.status for row in await deliveries(db)} == {DeliveryState.DONE}
    # What the killed worker had recorded is not sent again; the rest is, at least once.
    assert len(receiver.arrivals) - arrivals_before == 2 * COUNT - len(recorded)
    expected = {create_note(ACTOR, n)["id"] for n in range(COUNT)}
    for path in ("/inbox", "/bob/inbox"):
        assert set(receiver.seen(path)) == expected  # every activity, each once after dedupe
