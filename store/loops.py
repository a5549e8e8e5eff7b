"""Background loops over the database: run a step until it finds nothing to do, then sleep
until work is written (a wake-up, store/wakeups.py) or a long safety poll comes round.

Every worker (inbox, delivery, backfill, clean-up) is a `step()` that tests call
directly and this loop runs in `serve` and `rose-cart worker`. Idle, a loop costs
nothing but its safety poll: the inbox worker used to poll every 0.2 s, and that alone
kept an idle `serve` at 2-3 % of a core.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("rose_cart.loops")


async def first_of(*events: asyncio.Event, seconds: float | None = None) -> None:
    """Wait until one of `events` is set, or `seconds` pass."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def repeat(
    name: str,
    step: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
    *,
    idle: float,
    wake: asyncio.Event | None = None,
) -> None:
    """Call `step` again at once while it reports work done (truthy); otherwise wait for
    `wake` (set when work is written) or `idle` seconds, whichever comes first."""
    while not stop.is_set():
        if wake is not None:
            wake.clear()  # before the step: a write during it wakes the next round
        try:
            busy = bool(await step())
        except Exception:  # a failing step must not end the loop; it is logged and retried
            log.exception("background step failed", extra={"loop": name})
            busy = False
        if not busy:
            await first_of(stop, *([wake] if wake is not None else []), seconds=idle)
