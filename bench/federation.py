"""bench/federation: signed Follows received AND applied per second, against the bare verifier.

The same pre-signed 1.6 KB Follows as bench/inbox, over real loopback HTTP, to one
`rose-cart serve` process with its workers on (SQLite WAL). The clock stops when the
inbox worker has applied every one (no row of `inbox_activities` left pending), so the
figure is sustained federation, not only acknowledgement. The baseline is the bare
verify endpoint (bench/_bare_inbox.py), running beside ours: ROUNDS rounds of
FOLLOWS / ROUNDS Follows each, the two sides alternating (which goes first alternates
too), and the figure is the median of the rounds' ratios. Measured one after the other
in one run each, the ratio read anywhere from 0.26 to 0.55 within minutes on a quiet
machine, as the bare side's rate swung from 3,400 to 6,400/s. Target: ratio >= 0.5.

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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from bench._loadgen import run_load, wait_ready
from bench.harness import Figure, free_port, median, report, server_core
from bench.idle import cpu_seconds
from bench.inbox import CONCURRENCY, Sender, serve_env
from bench.inbox import measure as measure_bare

FOLLOWS = int(os.environ.get("BENCH_FEDERATION_FOLLOWS", "5000"))  # all rounds
ROUNDS = int(os.environ.get("BENCH_FEDERATION_ROUNDS", "5"))
WORKER_PROCESS = os.environ.get("BENCH_FEDERATION_WORKER_PROCESS", "") == "1"
WARMUP = 200


def pending(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM inbox_activities WHERE status = 'pending'"
        ).fetchone()
    return int(count)


@dataclass
class Ours:
    """Our serve process (and worker, with WORKER_PROCESS), warmed up, between rounds."""

    port: int
    processes: list[subprocess.Popen[bytes]]
    database: Path
    received: list[float] = field(default_factory=list)  # each round's Follows/s
    applied: list[float] = field(default_factory=list)
    cpu: float = 0.0  # all its processes' CPU seconds over the rounds
    follows: int = 0


@asynccontextmanager
async def ours_served(sender: Sender, data: Path, core: int | None = None) -> AsyncIterator[Ours]:
    port = free_port()
    env = serve_env(data, port, workers=not WORKER_PROCESS)
    if core is not None:
        env["ROSE_CART_CPU_PIN"] = str(core)
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
    ours = Ours(port, processes, data / "rose-cart.sqlite3")
    try:
        await wait_ready(f"http://127.0.0.1:{port}/", server)
        warm = await run_load("127.0.0.1", port, sender.deliveries(port, WARMUP, actor(port)), 8)
        assert set(warm.statuses) == {202}, f"warm-up answers: {dict(warm.statuses)}"
        while pending(ours.database):
            await asyncio.sleep(0.05)
        yield ours
    finally:
        for process in processes:
            process.terminate()
            process.wait()


def actor(port: int) -> str:
    return f"http://127.0.0.1:{port}/actor"


async def ours_round(sender: Sender, ours: Ours, count: int) -> None:
    """`count` Follows, the clock stopped when the worker has applied every one."""
    follows = sender.deliveries(ours.port, count, actor(ours.port))
    cpu_before = sum(cpu_seconds(p.pid) for p in ours.processes)
    started = time.perf_counter()
    load = await run_load("127.0.0.1", ours.port, follows, CONCURRENCY)
    assert set(load.statuses) == {202}, f"answers: {dict(load.statuses)}"
    while pending(ours.database):
        await asyncio.sleep(0.005)  # the clock stops within 5 ms of the last apply
    applied = time.perf_counter() - started
    ours.cpu += sum(cpu_seconds(p.pid) for p in ours.processes) - cpu_before
    ours.follows += count
    ours.received.append(count / load.seconds)
    ours.applied.append(count / applied)


@dataclass
class Bare:
    """The bare verifier's process, and its CPU over the rounds."""

    port: int
    pid: int
    cpu: float = 0.0
    deliveries: int = 0


async def bare_round(sender: Sender, bare: Bare, count: int) -> float:
    deliveries = sender.deliveries(bare.port, count, actor(bare.port))
    cpu_before = cpu_seconds(bare.pid)
    load = await run_load("127.0.0.1", bare.port, deliveries, CONCURRENCY)
    bare.cpu += cpu_seconds(bare.pid) - cpu_before
    bare.deliveries += count
    assert set(load.statuses) == {202}, f"bare answers: {dict(load.statuses)}"
    return load.rate


async def run() -> None:
    sender_port = free_port()
    sender = Sender(sender_port)
    web = uvicorn.Server(uvicorn.Config(sender.app(), port=sender_port, log_level="warning"))
    sender_task = asyncio.create_task(web.serve())
    per_round = max(1, FOLLOWS // ROUNDS)
    bare_rates: list[float] = []
    try:
        # Ours and the floor on one CPU, this process (the load) on the others.
        with tempfile.TemporaryDirectory() as tmp, server_core() as core:
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
                    *([] if core is None else [str(core)]),
                ]
            )
            try:
                await measure_bare(sender, bare_port, bare)  # ready, and warmed up
                verifier = Bare(bare_port, bare.pid)
                async with ours_served(sender, Path(tmp), core) as ours:
                    # Alternate which side goes first, so a drift in the machine's load
                    # falls on both alike.
                    for number in range(ROUNDS):
                        if number % 2:
                            await ours_round(sender, ours, per_round)
                        bare_rates.append(await bare_round(sender, verifier, per_round))
                        if not number % 2:
                            await ours_round(sender, ours, per_round)
            finally:
                bare.terminate()
                bare.wait()
    finally:
        web.should_exit = True
        await sender_task
    ratios = [applied / floor for applied, floor in zip(ours.applied, bare_rates, strict=True)]
    processes = (
        "a serve process and a worker process"
        if WORKER_PROCESS
        else "one serve process with its workers"
    )
    report(
        f"federation: {ours.follows} signed Follows in {ROUNDS} rounds alternating with the "
        f"bare verifier, {CONCURRENCY} connections, {processes}, each round until every "
        "Follow is applied",
        [
            Figure(
                "received and applied Follows/s",
                median(ratios),
                1.0,
                "x bare",
                note="target >= 0.5; median of the rounds' ratios",
            ),
            Figure(
                "received and applied Follows/s, medians",
                median(ours.applied),
                median(bare_rates),
                "/s",
            ),
            Figure(
                "received (202) Follows/s, medians", median(ours.received), median(bare_rates), "/s"
            ),
        ],
        [
            "received and applied / bare in each round: "
            + ", ".join(f"{ratio:.2f}" for ratio in ratios),
            "server CPU per Follow (received and applied, all its processes): "
            f"{ours.cpu / ours.follows * 1000:.2f} ms; the bare verifier's a delivery: "
            f"{verifier.cpu / verifier.deliveries * 1000:.2f} ms; the bare's over ours "
            f"{verifier.cpu / verifier.deliveries / (ours.cpu / ours.follows):.2f}",
        ],
    )


def main() -> None:
    started = time.perf_counter()
    asyncio.run(run())
    print(f"  (took {time.perf_counter() - started:.1f} s)")
