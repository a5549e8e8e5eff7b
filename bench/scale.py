"""bench/scale: throughput as processes are added, against one process on SQLite.

- deliveries/s with 1, 2 and 4 `rose-cart worker` processes on PostgreSQL: followers on
  50 loopback hosts (each a different address, so per-host limits do not cap the
  figure) that answer 202 at once; the figure counts from publish (one transaction)
  until every delivery row is done;
- inbox deliveries/s with 1 and 2 `rose-cart serve --no-workers` processes on
  PostgreSQL: pre-signed Follow deliveries over real loopback HTTP, split across the
  processes; afterwards every acknowledged delivery is counted in the database.

Each as a ratio to the same measurement with one process on SQLite in the same run
(the "bare" column below). The machine's core count bounds what more processes can
give: on 2 cores, expect little beyond 2.

Usage: ROSE_CART_BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
       .venv/bin/python -m bench scale
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import func, select

from bench._deployment import (
    Deployment,
    deployment,
    fresh_database,
    has_postgres,
    postgres_admin_url,
)
from bench._loadgen import run_load
from bench.fanout import _serve
from bench.harness import Figure, free_port, report
from bench.inbox import STRANGER_BUDGETS_OFF, Sender
from inbox.models import InboxActivity
from outbox.models import Follower, OutboxDelivery
from outbox.publish import publish
from outbox.states import DeliveryState, FollowerState
from store import Database, sqlite_url_for

HOSTS = 50
ACTIVITIES = int(os.environ.get("BENCH_SCALE_ACTIVITIES", "40"))  # x HOSTS deliveries
INBOX_DELIVERIES = int(os.environ.get("BENCH_SCALE_INBOX", "2000"))
CONCURRENCY = 32


def activity(origin: str, number: int) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{origin}/activities/{number:08d}",
        "type": "Create",
        "actor": f"{origin}/actor",
        "to": [f"{origin}/followers"],
        "object": {
            "id": f"{origin}/orders/{number}",
            "type": ["Object", "Order"],
            "content": "x" * 1200,
        },
    }


async def deliveries_per_second(deploy: Deployment, urls: list[str], workers: int) -> float:
    db = Database(deploy.database_url)
    try:
        async with db.transaction() as session:
            for n, url in enumerate(urls):
                session.add(
                    Follower(
                        ap_actor_id=f"http://f{n}.bench/actor",
                        follow_ap_id=f"http://f{n}.bench/f",
                        state=FollowerState.ACCEPTED,
                        inbox=url,
                    )
                )
        deploy.start_workers(workers)
        await asyncio.sleep(3)  # the workers start and go idle
        started = time.perf_counter()
        async with db.transaction() as session:
            for number in range(ACTIVITIES):
                await publish(session, activity(deploy.origin, number))
        total = ACTIVITIES * len(urls)
        while True:
            async with db.transaction() as session:
                done = await session.scalar(
                    select(func.count())
                    .select_from(OutboxDelivery)
                    .where(OutboxDelivery.status == DeliveryState.DONE)
                )
            if done == total:
                return total / (time.perf_counter() - started)
            if time.perf_counter() - started > 60:
                async with db.transaction() as session:
                    rows = (
                        await session.execute(
                            select(
                                OutboxDelivery.status,
                                OutboxDelivery.host,
                                OutboxDelivery.attempts,
                                OutboxDelivery.lease_until.is_not(None),
                                func.count(),
                            )
                            .where(OutboxDelivery.status != DeliveryState.DONE)
                            .group_by(
                                OutboxDelivery.status,
                                OutboxDelivery.host,
                                OutboxDelivery.attempts,
                                OutboxDelivery.lease_until.is_not(None),
                            )
                        )
                    ).all()
                raise RuntimeError(f"only {done} of {total} deliveries done: {rows}")
            await asyncio.sleep(0.05)
    finally:
        await db.dispose()


async def inbox_per_second(deploy: Deployment, sender: Sender, web: int) -> float:
    await deploy.start_web(web)
    target = f"{deploy.origin}/actor"
    share = INBOX_DELIVERIES // web
    # Every process is the shop behind one load balancer: each delivery is signed for the
    # shop's host (BASE_URL, the first port) whichever process it reaches, as a peer's
    # would be. Signed for a process's own port, it is refused as addressed elsewhere.
    host = deploy.web_ports[0]
    # One delivery per process alone first: each fetches and caches the sender's key
    # without the load generator (same event loop as the sender's server) starving it.
    first = [
        await run_load("127.0.0.1", port, sender.deliveries(host, 1, target), 1)
        for port in deploy.web_ports
    ]
    warm = await asyncio.gather(
        *(
            run_load("127.0.0.1", port, sender.deliveries(host, 100, target), 8)
            for port in deploy.web_ports
        )
    )
    loads = [sender.deliveries(host, share, target) for _ in deploy.web_ports]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            run_load("127.0.0.1", port, load, CONCURRENCY // web)
            for port, load in zip(deploy.web_ports, loads, strict=True)
        )
    )
    elapsed = time.perf_counter() - started
    for result in (*first, *warm, *results):
        assert set(result.statuses) == {202}, f"answers: {dict(result.statuses)}"
    db = Database(deploy.database_url)
    try:
        async with db.transaction() as session:
            kept = await session.scalar(select(func.count()).select_from(InboxActivity))
    finally:
        await db.dispose()
    sent = share * web + 101 * web
    assert kept == sent, f"acknowledged {sent}, found {kept}: LOST WORK"
    return share * web / elapsed


async def one_run(postgres: bool, measure: Any, settings: dict[str, str] | None = None) -> float:
    folder = Path(tempfile.mkdtemp())
    if postgres:
        async with (
            fresh_database(postgres_admin_url()) as url,
            deployment(url, folder, settings=settings) as deploy,
        ):
            return float(await measure(deploy))
    async with deployment(sqlite_url_for(folder), folder, settings=settings) as deploy:
        return float(await measure(deploy))


async def run(urls: list[str]) -> list[Figure]:
    async def deliver(workers: int) -> Any:
        return lambda deploy: deliveries_per_second(deploy, urls, workers)

    sqlite_deliveries = await one_run(False, await deliver(1))
    figures = []
    for workers in (1, 2, 4):
        rate = await one_run(True, await deliver(workers))
        figures.append(
            Figure(
                f"deliveries/s, {workers} worker(s), PostgreSQL",
                rate,
                sqlite_deliveries,
                "del/s",
                note="bare = 1 worker on SQLite",
            )
        )
    sender = Sender(free_port())
    server = uvicorn.Server(
        uvicorn.Config(sender.app(), port=int(sender.base.rsplit(":", 1)[1]), log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # each web process fetches the sender's key at its first
        await asyncio.sleep(0.01)
    try:
        # The sender is a stranger to the shop: its budgets off, as in bench/inbox.
        sqlite_inbox = await one_run(
            False, lambda deploy: inbox_per_second(deploy, sender, 1), STRANGER_BUDGETS_OFF
        )
        for web in (1, 2):
            rate = await one_run(
                True,
                lambda deploy, web=web: inbox_per_second(deploy, sender, web),
                STRANGER_BUDGETS_OFF,
            )
            figures.append(
                Figure(
                    f"inbox deliveries/s, {web} web process(es), PostgreSQL",
                    rate,
                    sqlite_inbox,
                    "req/s",
                    note="bare = 1 web process on SQLite",
                )
            )
    finally:
        server.should_exit = True
        await task
    return figures


def main() -> list[Figure]:
    if not has_postgres():
        print("  skipped: set ROSE_CART_BENCH_POSTGRES_URL (an admin postgresql+asyncpg:// URL)")
        return []
    started = time.perf_counter()
    receiver, child = multiprocessing.Pipe()
    hosts = multiprocessing.Process(target=_serve, args=(0, HOSTS, child), daemon=True)
    hosts.start()
    try:
        urls = receiver.recv()
        figures = asyncio.run(run(urls))
    finally:
        hosts.terminate()
        hosts.join()
    report(
        f"scale: {ACTIVITIES}x{HOSTS} deliveries, {INBOX_DELIVERIES} inbox deliveries, "
        f"{os.cpu_count()} cores",
        figures,
    )
    print(f"  (took {time.perf_counter() - started:.1f} s)")
    return figures


if __name__ == "__main__":
    main()
