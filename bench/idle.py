"""bench/idle: what an idle `rose-cart serve` costs, in CPU, measured from /proc.

One `serve` process with its workers on (SQLite, sandbox payments), left alone: after a
settling pause, its user+system CPU time is read from /proc/PID/stat at the start and
the end of a window (BENCH_IDLE_SECONDS, default 60). Target: under 0.3 % of one core.
/proc/PID/stat counts in clock ticks (10 ms: 0.017 % of a 60 s window), so the run
time the scheduler keeps in nanoseconds (/proc/PID/task/*/schedstat, summed over the
threads) is reported beside it.

Workers wake when work is written (store/wakeups.py); what remains is their safety
polls (a minute apart, the reconciler's 30 s) and one wake-up a second for the server's
Date header and the SQLite file's data_version, both due on the whole second
(service/server.py, store/wakeups.py).

The floor, in the same window: a process that only wakes on every whole second (uvloop,
as `serve`) and does nothing. What one wake-up costs moves with the machine: on this
VM (2026-11-29) an asyncio loop sleeping a second at a time spent 1.26 ms of CPU a
wake-up at 13:45 UTC and the floor 0.4 ms at 13:55, and one `serve` read 0.067 % in the
morning and 0.25-0.57 % in the afternoon, the morning's code as much as the afternoon's.
The floor says how much of a reading is the machine's.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench._deployment import deployment, wait_ready
from bench.harness import report

SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "60"))
SETTLE = 5.0
TARGET = 0.3  # percent of one core


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_seconds(pid: int) -> float:
    """Time on a CPU so far, summed over the process's threads (their schedstat's first
    field, in nanoseconds); a thread that ended is not counted."""
    return schedstat(pid)[0]


def schedstat(pid: int) -> tuple[float, int]:
    """(seconds on a CPU, times it was put on one) so far, summed over the threads."""
    ran, slices = 0, 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        ran, slices = ran + int(fields[0]), slices + int(fields[2])
    return ran / 1e9, slices


# Wakes on every whole second, as serve's main loop does, and does nothing else.
FLOOR = """
import asyncio, time, uvloop
async def tick():
    while True:
        await asyncio.sleep(1.0 - time.time() % 1.0)
uvloop.run(tick())
"""


@dataclass
class Idle:
    percent: float  # /proc/PID/stat
    precise: float  # schedstat
    wakeups: float  # a second
    floor_percent: float  # the floor's schedstat
    floor_wakeups: float
    pid: int


async def measure(seconds: float) -> Idle:
    with tempfile.TemporaryDirectory(prefix="rose-cart-idle-") as tmp:
        data = Path(tmp)
        url = f"sqlite+aiosqlite:///{data / 'rose-cart.sqlite3'}"
        async with deployment(url, data, sandbox=False) as deploy:
            port = deploy.web_ports[0]
            process = deploy.spawn("service", "serve", "--port", str(port))
            floor = subprocess.Popen([sys.executable, "-c", FLOOR])
            try:
                await wait_ready(f"http://127.0.0.1:{port}/readyz", process)
                await asyncio.sleep(SETTLE)
                before = cpu_seconds(process.pid)
                ran, slices = schedstat(process.pid)
                floor_ran, floor_slices = schedstat(floor.pid)
                started = time.monotonic()
                await asyncio.sleep(seconds)
                used = cpu_seconds(process.pid) - before
                ran_after, slices_after = schedstat(process.pid)
                floor_after, floor_slices_after = schedstat(floor.pid)
                elapsed = time.monotonic() - started
            finally:
                floor.terminate()
                floor.wait()
                deploy.stop()
    return Idle(
        100 * used / elapsed,
        100 * (ran_after - ran) / elapsed,
        (slices_after - slices) / elapsed,
        100 * (floor_after - floor_ran) / elapsed,
        (floor_slices_after - floor_slices) / elapsed,
        process.pid,
    )


def main() -> None:
    idle = asyncio.run(measure(SECONDS))
    report(
        "idle serve (one process, workers on, SQLite)",
        [],
        [
            f"CPU over {SECONDS:.0f} s from /proc/{idle.pid}/stat: {idle.percent:.3f} % of one "
            f"core (target < {TARGET} %)",
            f"run time from schedstat: {idle.precise:.3f} % of one core, "
            f"{idle.wakeups:.1f} times on a CPU a second",
            f"floor, a process that wakes every whole second and does nothing: "
            f"{idle.floor_percent:.3f} %, {idle.floor_wakeups:.1f} times a second; "
            f"serve over the floor {idle.precise / max(idle.floor_percent, 1e-9):.1f}x",
        ],
    )


if __name__ == "__main__":
    main()
