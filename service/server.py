"""uvicorn's Server, waking once a second instead of ten times, and its HTTP protocol with
deadlines for slow clients.

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
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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


# A fresh connection's first byte, and each request whole (head and body) from its first
# byte. uvicorn has no such deadlines: a client that sent "GET / HTTP/1.1" and no blank
# line, or a Content-Length of 100 and one byte, was held open for ever, a connection and
# a task each with no bound on how many (found by a fuzzing run on 2026-11-29). Between
# requests, uvicorn's own keep-alive timeout (5 s) closes an idle connection.
FIRST_BYTE_SECONDS = 10.0
REQUEST_SECONDS = 30.0  # the largest body we take (256 KiB) needs 2 s at 1 Mbit/s
_TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 41\r\n\r\n"
    b"The request did not arrive whole in time."
)


class TimelyHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request does not arrive
    whole in time (408 when no answer has started)."""

    first_byte_seconds = FIRST_BYTE_SECONDS
    request_seconds = REQUEST_SECONDS
    _deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or not cycle.response_started:
            self.transport.write(_TOO_SLOW)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.first_byte_seconds)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.request_seconds)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
