"""What every benchmark shares: timing loops, percentiles and one report format.

Machines here are shared and noisy, so a figure alone means little: each benchmark
measures our path and a bare baseline in the same run and reports their ratio.
"""

from __future__ import annotations

import os
import socket
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Figure:
    name: str
    ours: float
    baseline: float
    unit: str
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")

    def line(self) -> str:
        direction = "higher is better" if self.higher_is_better else "lower is better"
        text = (
            f"{self.name:<44} ours {self.ours:>12,.1f} {self.unit:<10} "
            f"bare {self.baseline:>12,.1f}  ratio {self.ratio:6.3f} ({direction})"
        )
        return f"{text}  {self.note}" if self.note else text


def rate(operation: Callable[[], object], *, seconds: float = 1.0, repeats: int = 5) -> float:
    """Operations per second: the best of several timed rounds (the least disturbed)."""
    best = 0.0
    for _ in range(repeats):
        count, started = 0, time.perf_counter()
        deadline = started + seconds / repeats
        while True:
            operation()
            count += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, count / (now - started))
    return best


# The one setting a bench's servers take from the bench's own environment, to compare.
PASSED_THROUGH = ("ROSE_CART_CPU_PIN",)


@contextmanager
def server_core() -> Iterator[int | None]:
    """One CPU for the server under test, the others for this process (the load).

    Yields the server's CPU, with this process (and what it starts) moved off it until
    the block ends; None where the OS cannot pin or there is one CPU. A floor and ours
    that both run on the yielded CPU get the same core, and neither shares it with the
    clients that load it: left to the kernel, the client woken by a server's answer was
    often run on that server's pinned core.
    """
    if not hasattr(os, "sched_getaffinity"):
        yield None
        return
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        yield None
        return
    os.sched_setaffinity(0, set(allowed[:-1]))
    try:
        yield allowed[-1]
    finally:
        os.sched_setaffinity(0, set(allowed))


def server_env() -> dict[str, str]:
    """The environment for a server process of ours: this one's, without any ROSE_CART_
    setting (the bench sets each it needs) but those in PASSED_THROUGH."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_") or k in PASSED_THROUGH
    }


def free_port() -> int:
    """A free TCP port on loopback for a server a benchmark starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def counting(seen: Counter[int] | None) -> dict[str, list[Callable[[httpx.Response], Any]]]:
    """httpx event hooks that count each response's status into `seen` as it arrives."""
    if seen is None:
        return {}

    async def count(response: httpx.Response) -> None:
        seen[response.status_code] += 1

    return {"response": [count]}


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def report(title: str, figures: list[Figure], extra: list[str] | None = None) -> None:
    print(f"== {title}")
    for figure in figures:
        print("  " + figure.line())
    for line in extra or []:
        print("  " + line)
