"""bench/federation: signed Follows received AND applied per second, against the bare verifier.

The same pre-signed 1.6 KB Follows as bench/inbox, over real loopback HTTP, to one
`rose-cart serve` process with its workers on (SQLite WAL). The clock stops when the
inbox worker has applied every one (no row of `inbox_activities` left pending), so the
figure is sustained federation, not only acknowledgement. The baseline is the bare
verify endpoint (bench/_bare_inbox.py) in the same run. Target: ratio >= 0.5.

The sender is an actor we do not follow, so the bench turns off the budgets a stranger
meets (bench.inbox.serve_env, each with its documented "0: no limit"): with them on, all
but the first few hundred Follows are answered 429 and nothing is measured. It reports the serve
process's CPU (user + system, from /proc) per Follow, over the measured run.

With BENCH_FEDERATION_WORKER_PROCESS=1 the inbox is applied by a `rose-cart worker`
process beside `serve --no-workers`-like serve (WORKERS=false) on the same SQLite file,
the option docs/design.md measures: the CPU is then both processes'. The worker learns
of new rows from the file's data_version (store/wakeups.py, once a second).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvicorn

from bench._loadgen import run_load, wait_ready
from bench.harness import Figure, free_port, report
from bench.idle import cpu_seconds
from bench.inbox import CONCURRENCY, Sender, serve_env
from bench.inbox import measure as measure_bare

FOLLOWS = int(os.environ.get("BENCH_FEDERATION_FOLLOWS", "3000"))
WORKER_PROCESS = os.environ.get("BENCH_FEDERATION_WORKER_PROCESS", "") == "1"
WARMUP = 200


def pending(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM inbox_activities WHERE status = 'pending'"
        ).fetchone()
    return int(count)


async def applied_rate(sender: Sender, data: Path) -> tuple[float, float, float]:
    """(received/s, received-and-applied/s, server CPU seconds per Follow) for FOLLOWS
    Follows to one serve process."""
    port = free_port()
    env = serve_env(data, port, workers=not WORKER_PROCESS)
    subprocess.run(
        [sys.executable, "-m", "service", "init"], env=env, check=True, capture_output=True
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    processes = [server]
    if WORKER_PROCESS:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "service", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    database = data / "rose-cart.sqlite3"
    try:
        await wait_ready(f"http://127.0.0.1:{port}/", server)
        target = f"http://127.0.0.1:{port}/actor"
        warm = await run_load("127.0.0.1", port, sender.deliveries(port, WARMUP, target), 8)
        assert set(warm.statuses) == {202}, f"warm-up answers: {dict(warm.statuses)}"
        while pending(database):
            await asyncio.sleep(0.05)
        follows = sender.deliveries(port, FOLLOWS, target)
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        started = time.perf_counter()
        load = await run_load("127.0.0.1", port, follows, CONCURRENCY)
        assert set(load.statuses) == {202}, f"answers: {dict(load.statuses)}"
        while pending(database):
            await asyncio.sleep(0.02)
        applied = time.perf_counter() - started
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    return FOLLOWS / load.seconds, FOLLOWS / applied, cpu / FOLLOWS


async def run() -> None:
    sender_port = free_port()
    sender = Sender(sender_port)
    web = uvicorn.Server(uvicorn.Config(sender.app(), port=sender_port, log_level="warning"))
    sender_task = asyncio.create_task(web.serve())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pem = Path(tmp) / "sender.pem"
            pem.write_bytes(sender.pem)
            bare_port = free_port()
            bare = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench._bare_inbox",
                    str(bare_port),
                    str(pem),
                    f"{sender.actor}#main-key",
                    sender.actor,
                ]
            )
            try:
                bare_rate, _, _ = await measure_bare(sender, bare_port, bare)
            finally:
                bare.terminate()
                bare.wait()
            received, applied, cpu = await applied_rate(sender, Path(tmp))
    finally:
        web.should_exit = True
        await sender_task
    processes = (
        "a serve process and a worker process"
        if WORKER_PROCESS
        else "one serve process with its workers"
    )
    report(
        f"federation: {FOLLOWS} signed Follows, {CONCURRENCY} connections, {processes}, "
        "until every one is applied",
        [
            Figure(
                "received and applied Follows/s", applied, bare_rate, "/s", note="target >= 0.5"
            ),
            Figure("received (202) Follows/s", received, bare_rate, "/s"),
        ],
        [f"server CPU per Follow (received and applied, all its processes): {cpu * 1000:.2f} ms"],
    )


def main() -> None:
    started = time.perf_counter()
    asyncio.run(run())
    print(f"  (took {time.perf_counter() - started:.1f} s)")
