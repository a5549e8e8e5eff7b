"""bench/fanout: one activity to 1,000 distinct inboxes, against a bare signed-POST loop.

The inboxes are 1,000 distinct origins (127.0.x.y, each its own listening socket) served
by uvicorn in two child processes, so the receivers' CPU is not ours. "Ours" is the
whole outbox path after publish(): DeliveryWorker.step() claiming the 1,000 rows from
SQLite, signing each request (draft-cavage, RSA-2048), POSTing through the guarded
transport with the same concurrency, and recording the outcomes. "Bare" signs and
POSTs the same body to the same URLs with httpx at the same concurrency and records
nothing. Rounds alternate; the best of each is compared. Target: ours <= 1.3x bare.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa

from actor.http_auth import SignatureAuth
from actor.signatures import SigningKey
from bench.harness import Figure, report
from outbox.models import Follower
from outbox.publish import publish
from outbox.states import FollowerState
from outbox.worker import DeliverySettings, DeliveryWorker
from store import Database, sqlite_url_for, upgrade

INBOXES = 1000
PROCESSES = 2
CONCURRENCY = 64
ROUNDS = 4
BASE = "https://cart.bench"


async def _accept_all(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _serve(first: int, count: int, pipe: Connection) -> None:
    import uvicorn

    sockets = []
    for index in range(first, first + count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((f"127.0.{1 + index // 250}.{1 + index % 250}", 0))
        sockets.append(sock)
    pipe.send([f"http://{s.getsockname()[0]}:{s.getsockname()[1]}/inbox" for s in sockets])
    config = uvicorn.Config(
        _accept_all, lifespan="off", ws="none", log_level="warning", access_log=False, backlog=4096
    )
    asyncio.run(uvicorn.Server(config).serve(sockets=sockets))


async def _bare(
    client: httpx.AsyncClient, urls: list[str], body: bytes, auth: SignatureAuth
) -> float:
    """One client for every round, as the worker keeps one."""
    gate = asyncio.Semaphore(CONCURRENCY)
    headers = {"Content-Type": "application/activity+json"}

    async def post(url: str) -> int:
        async with gate:
            # Like the worker, do not read the answer's body: with client.post() the bare
            # loop measured 1.6x slower than ours, which would flatter the ratio.
            request = client.build_request("POST", url, content=body, headers=headers)
            response = await client.send(request, auth=auth, stream=True)
            await response.aclose()
            return response.status_code

    started = time.perf_counter()
    statuses = await asyncio.gather(*(post(url) for url in urls))
    elapsed = time.perf_counter() - started
    assert all(status == 202 for status in statuses), "bare: some inbox did not answer 202"
    return elapsed


def _activity(number: int) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{BASE}/activities/{number:08d}",
        "type": "Create",
        "actor": f"{BASE}/actor",
        "to": [f"{BASE}/followers"],
        "object": {
            "id": f"{BASE}/orders/{number}",
            "type": ["Object", "Order"],
            "content": "x" * 1200,
        },
    }


async def _ours(db: Database, worker: DeliveryWorker, number: int) -> float:
    async with db.transaction() as session:
        await publish(session, _activity(number))
    started = time.perf_counter()
    sent = 0
    while claimed := await worker.step():
        sent += claimed
    elapsed = time.perf_counter() - started
    assert sent == INBOXES, f"ours: {sent} deliveries claimed"
    return elapsed


async def _run(urls: list[str], folder: Path) -> tuple[float, float]:
    db = Database(sqlite_url_for(folder))
    await upgrade(db.engine)
    async with db.transaction() as session:
        session.add_all(
            Follower(
                ap_actor_id=f"{url}#actor",
                follow_ap_id=f"{url}#follow",
                state=FollowerState.ACCEPTED,
                inbox=url,
            )
            for url in urls
        )
    key = SigningKey(
        f"{BASE}/actor#main-key", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    worker = DeliveryWorker(
        db,
        SignatureAuth(key),
        DeliverySettings(allow_private=True, concurrency=CONCURRENCY, batch=INBOXES),
    )
    body = orjson.dumps(_activity(0))  # the same size as what ours sends
    ours, bare = [], []
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    client = httpx.AsyncClient(limits=limits, trust_env=False)
    try:
        for number in range(1, ROUNDS + 1):
            # Alternate which goes first: the first visit to a fresh socket costs more.
            if number % 2:
                ours.append(await _ours(db, worker, number))
                bare.append(await _bare(client, urls, body, SignatureAuth(key)))
            else:
                bare.append(await _bare(client, urls, body, SignatureAuth(key)))
                ours.append(await _ours(db, worker, number))
    finally:
        await client.aclose()
        await worker.aclose()
        await db.dispose()
    return min(ours), min(bare)


def main() -> list[Figure]:
    context = multiprocessing.get_context("spawn")
    children, urls = [], []
    per = INBOXES // PROCESSES
    for first in range(0, INBOXES, per):
        mine, theirs = context.Pipe()
        child = context.Process(target=_serve, args=(first, per, theirs), daemon=True)
        child.start()
        children.append(child)
        urls.extend(mine.recv())
    try:
        time.sleep(1.0)  # let the servers start listening loops
        with tempfile.TemporaryDirectory() as folder:
            ours, bare = asyncio.run(_run(urls, Path(folder)))
    finally:
        for child in children:
            child.terminate()
            child.join()
    figure = Figure(
        f"fan-out to {INBOXES} inboxes (c={CONCURRENCY})",
        INBOXES / ours,
        INBOXES / bare,
        "deliv/s",
        note=f"wall time ours/bare = {ours / bare:.2f}x (target <= 1.3x)",
    )
    report("Outbox fan-out: DeliveryWorker.step() vs a bare signed httpx loop", [figure])
    return [figure]


if __name__ == "__main__":
    main()
