"""uvicorn's Server, waking once a second instead of ten times.

uvicorn's `Server.main_loop` sleeps 0.1 s at a time to look whether it should stop and,
every tenth time, to put a new `Date` into its default headers. Idle, those ten wake-ups
a second were most of what `rose-cart serve` cost (docs/design.md, "Idle"). Here the
loop sleeps until the next whole second, when the `Date` changes, and a signal asking
it to stop wakes it at once, so shutting down is no slower. Everything else (signals,
graceful shutdown, `limit_max_requests`) is uvicorn's own.
"""

from __future__ import annotations

import asyncio
import sys
import time
from types import FrameType

import uvicorn

TICKS = 10  # uvicorn's on_tick refreshes the Date header when its counter is a multiple of 10
WRAP = 864000  # and wraps its counter at this, as its own loop does
STARTUP_FAILURE = 3  # the status `uvicorn.run` exits with when start-up fails


class QuietServer(uvicorn.Server):
    _loop: asyncio.AbstractEventLoop | None = None
    _waiter: asyncio.Future[None] | None = None

    async def main_loop(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(1.0 - time.time() % 1.0, _wake, waiter)
            if self.should_exit:  # a signal came before there was a waiter to wake
                _wake(waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
            counter = (counter + TICKS) % WRAP
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        waiter, loop = self._waiter, self._loop
        if waiter is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(_wake, waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def run(config: uvicorn.Config) -> None:
    """What `uvicorn.run` does for one process, with a QuietServer: a failed start-up
    exits with uvicorn's start-up failure status, Ctrl-C ends quietly."""
    server = QuietServer(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    if not server.started:
        sys.exit(STARTUP_FAILURE)
