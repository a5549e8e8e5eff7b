"""Background loops over the database: run a step until it finds nothing to do, wait, repeat.

Every worker (inbox, delivery, backfill, clean-up) is a `step()` that tests call
directly and this loop runs in `serve` and `rose-cart worker`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("rose_cart.loops")


async def repeat(
    name: str, step: Callable[[], Awaitable[object]], stop: asyncio.Event, *, idle: float
) -> None:
    """Call `step` again at once while it reports work done (truthy), else after `idle` s."""
    while not stop.is_set():
        try:
            busy = bool(await step())
        except Exception:  # a failing step must not end the loop; it is logged and retried
            log.exception("background step failed", extra={"loop": name})
            busy = False
        if not busy:
            try:
                await asyncio.wait_for(stop.wait(), idle)
            except TimeoutError:
                pass
