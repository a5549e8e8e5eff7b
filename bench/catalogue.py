"""bench/catalogue: GET / costs the same with 100 or 10,000 items in the catalogue.

One server process (the whole app, SQLite WAL, as bench/cart runs it), 32 concurrent
anonymous shoppers over loopback. The catalogue is filled to 100 items (10 shops),
GET / is measured; then to 10,000 items (the same 10 shops, 1,000 each) and measured
again, in the same process and run. Target: p50 at 10,000 within 1.5x of p50 at 100.
One shop's shelf (`/?shop=...`) and a search are measured at 10,000 too, and the size
of each answer is reported: the page must stay small, not only fast.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx

from bench._loadgen import http_request, run_load, wait_ready
from bench.cart import CONCURRENCY, start
from bench.harness import Figure, free_port, percentile, report

REQUESTS = int(os.environ.get("BENCH_CATALOGUE_REQUESTS", "2000"))
WARMUP = 200
SHOPS = 10


async def fill(data_dir: Path, items: int, first: int) -> None:
    """Add items `first` .. `items - 1` over the SHOPS shops (created with the first fill)."""
    from store import Database, sqlite_url_for
    from tests.support.catalogue import fill_catalogue

    db = Database(sqlite_url_for(data_dir))
    try:
        await fill_catalogue(db, items, pages=SHOPS, first=first)
    finally:
        await db.dispose()


async def shoppers(port: int) -> list[str]:
    """A session cookie for each client: returning shoppers, as on bench/cart's pages."""
    cookies = []
    for _ in range(CONCURRENCY):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/login")
            cookies.append(client.cookies["rose_cart_session"])
    return cookies


async def measure(port: int, path: str, cookies: list[str]) -> tuple[float, list[float], int]:
    requests = [
        http_request(
            "GET",
            path,
            {
                "Host": f"127.0.0.1:{port}",
                "Accept": "text/html",
                "Cookie": f"rose_cart_session={cookies[n % len(cookies)]}",
            },
        )
        for n in range(REQUESTS)
    ]
    await run_load("127.0.0.1", port, requests[:WARMUP], CONCURRENCY)
    result = await run_load("127.0.0.1", port, requests, CONCURRENCY)
    assert set(result.statuses) == {200}, f"answers: {dict(result.statuses)}"
    async with httpx.AsyncClient() as client:
        size = len((await client.get(f"http://127.0.0.1:{port}{path}")).content)
    return result.rate, result.latencies, size


async def run() -> None:
    ms = 1000
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start("ours", port, tmp)
        try:
            await asyncio.sleep(0)
            await wait_ready(f"http://127.0.0.1:{port}/login", server)
            cookies = await shoppers(port)
            await fill(Path(tmp), 100, 0)
            small_rate, small, small_size = await measure(port, "/", cookies)
            await fill(Path(tmp), 10_000, 100)
            big_rate, big, big_size = await measure(port, "/", cookies)
            async with httpx.AsyncClient() as client:
                front = (await client.get(f"http://127.0.0.1:{port}/")).text
            shop = front.split('<a href="/?shop=', 1)[1].split('"', 1)[0]
            _, shelf, shelf_size = await measure(port, f"/?shop={shop}", cookies)
            _, found, found_size = await measure(port, "/?q=smoked+ja", cookies)
        finally:
            server.terminate()
            server.wait()

    p50_small, p50_big = percentile(small, 0.5) * ms, percentile(big, 0.5) * ms
    report(
        f"catalogue: GET / at 10,000 items against 100 items, {CONCURRENCY} clients, SQLite, "
        "one server process, same run",
        [
            Figure("GET / p50 at 10,000 items", p50_big, p50_small, "ms", higher_is_better=False),
            Figure("GET / req/s at 10,000 items", big_rate, small_rate, "req/s"),
        ],
        [
            f"100 items: p50 {p50_small:.2f} ms, p99 {percentile(small, 0.99) * ms:.2f} ms, "
            f"{small_size:,} bytes",
            f"10,000 items: p50 {p50_big:.2f} ms, p99 {percentile(big, 0.99) * ms:.2f} ms, "
            f"{big_size:,} bytes (target: p50 within 1.5x of 100 items)",
            f"one shop's shelf at 10,000: p50 {percentile(shelf, 0.5) * ms:.2f} ms, "
            f"{shelf_size:,} bytes; search 'smoked ja': p50 {percentile(found, 0.5) * ms:.2f} ms, "
            f"{found_size:,} bytes",
        ],
    )


def main() -> None:
    started = time.perf_counter()
    asyncio.run(run())
    print(f"  (took {time.perf_counter() - started:.1f} s)")
