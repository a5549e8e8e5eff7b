"""bench/load: the mixed run. Page views, adds, checkouts and inbox deliveries at once.

Issue 18 asks for the shopper's p99 under a mixed load, on SQLite with one process and on
PostgreSQL with 2 web + 2 worker processes, reported side by side. The same load runs
against each deployment in turn, for BENCH_LOAD_SECONDS each (default 20; an operator
about to trust a deployment should try 180):
- B browsers (BENCH_LOAD_BROWSERS, default 4) load the catalogue and their cart;
- N shoppers (BENCH_LOAD_SHOPPERS, default 8) add a line, open the page cart and check
  out (a 303 to the SumUp sandbox's hosted page), again and again;
- M peers (BENCH_LOAD_PEERS, default 4) deliver signed Follows to the inbox, each
  from a loopback address of its own, as each co-op instance is a host of its own (from
  one address they shared one pacing budget and measured paced 429s).
Requests alternate between a deployment's web processes; one co-op follower receives
our deliveries. Rates and latencies count only the answers expected (a 303, a 200, a
202); anything else is an error, and a run with errors exits 1.

Once the workers have drained the queues it checks each deployment: zero errors (every
answer the one expected), zero lost work (every acknowledged delivery stored and
processed, every order that got its 303 exists with its Create(Order), every delivery to
the follower done). Reported: p50/p99 and rate per request kind, side by side. The
PostgreSQL side needs ROSE_CART_BENCH_POSTGRES_URL (or ROSE_CART_TEST_POSTGRES_URL), an
admin URL; without it only SQLite runs.

Usage: ROSE_CART_BENCH_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
       .venv/bin/python -m bench load
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from bench._deployment import deployment, fresh_database, has_postgres, postgres_admin_url
from bench._load_parts import (
    Peer,
    Stats,
    browser,
    counts,
    follower_inbox,
    peer_loop,
    seed,
    shopper,
)
from bench.harness import free_port, percentile
from store import sqlite_url_for

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
SHOPPERS = int(os.environ.get("BENCH_LOAD_SHOPPERS", "8"))
BROWSERS = int(os.environ.get("BENCH_LOAD_BROWSERS", "4"))
PEERS = int(os.environ.get("BENCH_LOAD_PEERS", "4"))
DRAIN_SECONDS = 120
KINDS = ("page view", "add line", "checkout", "inbox delivery")


@dataclass
class Outcome:
    name: str
    stats: Stats
    summary: str
    lost: list[str]


async def one_deployment(name: str, database_url: str, web: int, workers: int) -> Outcome:
    """Run the whole mixed load against one deployment; `workers` 0: in the web process."""
    stats = Stats()
    peers = [Peer() for _ in range(PEERS)]
    servers = [
        uvicorn.Server(uvicorn.Config(p.app(), port=p.port, log_level="warning")) for p in peers
    ]
    follower_port = free_port()
    servers.append(
        uvicorn.Server(uvicorn.Config(follower_inbox, port=follower_port, log_level="warning"))
    )
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    try:
        # The peers are co-op instances (trusted PEERS), as the co-op's followers are.
        trusted = {"ROSE_CART_PEERS": ",".join(f"coop={p.actor}" for p in peers)}
        async with deployment(database_url, Path(tempfile.mkdtemp()), settings=trusted) as deploy:
            follower = f"http://127.0.0.1:{follower_port}/inbox"
            items = await seed(database_url, follower)
            await deploy.start_web(web, workers=workers == 0)
            deploy.start_workers(workers)
            stop = time.perf_counter() + SECONDS
            target = f"{deploy.origin}/actor"
            hosted = deploy.env["ROSE_CART_SUMUP_API_URL"]
            ports = deploy.web_ports
            placed = await asyncio.gather(
                *(shopper(n, ports, items, stop, stats, hosted) for n in range(SHOPPERS)),
                *(browser(n, ports, stop, stats) for n in range(BROWSERS)),
                *(peer_loop(p, n, ports, target, stop, stats) for n, p in enumerate(peers)),
            )
            orders_placed = sum(n for n in placed if isinstance(n, int))
            acknowledged = sum(len(p.sent) for p in peers)
            drained_at = time.perf_counter()
            while True:
                found = await counts(database_url, follower)
                if found["inbox not processed"] == 0 and found["deliveries not done"] == 0:
                    break
                if time.perf_counter() - drained_at > DRAIN_SECONDS:
                    break
                await asyncio.sleep(0.5)
            drain = time.perf_counter() - drained_at
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)
    summary = (
        f"orders placed {orders_placed}, inbox deliveries acknowledged {acknowledged}, "
        f"deliveries to the follower {found['deliveries']}; queues drained {drain:.1f} s "
        "after the load"
    )
    return Outcome(name, stats, summary, lost_work(found, orders_placed, acknowledged))


def lost_work(found: dict[str, int], orders_placed: int, acknowledged: int) -> list[str]:
    lost = []
    if found["inbox stored"] != acknowledged:
        lost.append(f"inbox: acknowledged {acknowledged}, stored {found['inbox stored']}")
    if found["inbox not processed"]:
        lost.append(f"inbox: {found['inbox not processed']} not processed")
    if found["orders"] != orders_placed or found["Create activities"] != orders_placed:
        lost.append(
            f"orders: placed {orders_placed}, found {found['orders']}, "
            f"Create {found['Create activities']}"
        )
    if found["orders without items"]:
        lost.append(f"{found['orders without items']} orders without items")
    if found["deliveries"] != orders_placed:
        lost.append(f"follower: {orders_placed} orders, {found['deliveries']} deliveries")
    if found["deliveries not done"]:
        lost.append(f"{found['deliveries not done']} deliveries not done")
    return lost


def report(outcomes: list[Outcome]) -> None:
    ms = 1000
    print("  " + " " * 16 + "".join(f"{o.name:>34}" for o in outcomes))
    for kind in KINDS:
        cells = []
        for outcome in outcomes:
            samples = outcome.stats.latencies.get(kind, [])
            if not samples:
                cells.append(f"{'-':>34}")
                continue
            cells.append(
                f"{len(samples) / SECONDS:>8.1f}/s p50 {percentile(samples, 0.5) * ms:6.1f}"
                f" p99 {percentile(samples, 0.99) * ms:6.1f} ms"
            )
        print(f"  {kind:<16}" + "".join(cells))
    for outcome in outcomes:
        print(f"  {outcome.name}: {outcome.summary}")
        print(f"    errors: {dict(outcome.stats.errors) or 'none'}")
        print(f"    lost work: {'; '.join(outcome.lost) or 'none'}")


async def run() -> int:
    print(
        f"load: {BROWSERS} browsers, {SHOPPERS} shoppers and {PEERS} peers at once, "
        f"{SECONDS:.0f} s on each deployment"
    )
    outcomes = []
    url = sqlite_url_for(Path(tempfile.mkdtemp()))
    outcomes.append(await one_deployment("SQLite, 1 process", url, web=1, workers=0))
    if has_postgres():
        async with fresh_database(postgres_admin_url()) as url:
            outcomes.append(
                await one_deployment("PostgreSQL, 2 web + 2 worker", url, web=2, workers=2)
            )
    else:
        print("  PostgreSQL skipped: set ROSE_CART_BENCH_POSTGRES_URL (an admin URL)")
    report(outcomes)
    return 1 if any(o.stats.errors or o.lost for o in outcomes) else 0


def main() -> None:
    started = time.perf_counter()
    status = asyncio.run(run())
    print(f"  (took {time.perf_counter() - started:.1f} s)")
    if status:
        raise SystemExit(status)


if __name__ == "__main__":
    main()
