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
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
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
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return total / 1e9


async def measure(seconds: float) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory(prefix="rose-cart-idle-") as tmp:
        data = Path(tmp)
        url = f"sqlite+aiosqlite:///{data / 'rose-cart.sqlite3'}"
        async with deployment(url, data, sandbox=False) as deploy:
            port = deploy.web_ports[0]
            process = deploy.spawn("service", "serve", "--port", str(port))
            try:
                await wait_ready(f"http://127.0.0.1:{port}/readyz", process)
                await asyncio.sleep(SETTLE)
                before, ran = cpu_seconds(process.pid), run_seconds(process.pid)
                started = time.monotonic()
                await asyncio.sleep(seconds)
                used, ran = cpu_seconds(process.pid) - before, run_seconds(process.pid) - ran
                elapsed = time.monotonic() - started
            finally:
                deploy.stop()
    return 100 * used / elapsed, 100 * ran / elapsed, process.pid


def main() -> None:
    percent, precise, pid = asyncio.run(measure(SECONDS))
    report(
        "idle serve (one process, workers on, SQLite)",
        [],
        [
            f"CPU over {SECONDS:.0f} s from /proc/{pid}/stat: {percent:.3f} % of one core "
            f"(target < {TARGET} %)",
            f"run time from schedstat: {precise:.3f} % of one core",
        ],
    )


if __name__ == "__main__":
    main()
