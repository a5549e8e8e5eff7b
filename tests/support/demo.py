"""The demo co-op as `make run` starts it, for the tests that drive its three processes.

One launcher (`python -m demo run` on free loopback ports, with none of the caller's
ROSE_CART_* settings) and one synchronous wait on a condition, so that each demo test
states only what it checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.loopback import free_ports

# How long the three processes may take to start, make their keys, migrate and federate
# until the cart shows both peers' pages: 41-51 s were measured on a machine shared by
# several test runs (load average 9-13 on 2 cores), so the bound is generous. It bounds a
# wait for a condition; nothing asserts how fast it is.
DEMO_START = 180.0


@dataclass(frozen=True)
class DemoPorts:
    cart: int
    market: int
    calendar: int


def demo_env() -> dict[str, str]:
    """The environment the demo runs in: the machine's, without our settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_")}


def start_demo(data_dir: Path, **popen: Any) -> tuple[subprocess.Popen[Any], DemoPorts]:
    """Start the co-op in `data_dir`; `popen` chooses where its output goes."""
    ports = DemoPorts(*free_ports(3))
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "demo",
            "run",
            "--data-dir",
            str(data_dir),
            "--cart-port",
            str(ports.cart),
            "--market-port",
            str(ports.market),
            "--calendar-port",
            str(ports.calendar),
        ],
        env=demo_env(),
        **popen,
    )
    return launcher, ports


def eventually(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Wait until `check()` holds, failing with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.3)
