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
import weakref
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
TICK_SECONDS = 1.0  # how often the deadlines are looked at: each is kept to within this
_TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 41\r\n\r\n"
    b"The request did not arrive whole in time."
)


class _Deadlines:
    """Every open connection of one event loop, looked over by one timer a tick.

    A timer per request (armed at its first byte, cancelled when it was whole) cost a
    TimerHandle, a heap push and a cancel on every request, ~2 % of an inbox delivery's
    CPU; one sweep a tick over the connections costs nothing per request, and nothing at
    all while no connection is open. A deadline is kept to within a tick.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)  # not the key of `_deadlines` held by its value
        self.tick = TICK_SECONDS  # or a connection's shorter one (tests)
        self.connections: set[TimelyHttpTools] = set()
        self.timer: asyncio.TimerHandle | None = None

    def add(self, connection: TimelyHttpTools) -> None:
        self.connections.add(connection)
        self.tick = min(self.tick, connection.tick_seconds)
        if self.timer is None:
            self.timer = connection.loop.call_later(self.tick, self._sweep)

    def _sweep(self) -> None:
        loop = self._loop()
        if loop is None:
            return
        now = loop.time()
        for late in [c for c in self.connections if c.due is not None and c.due <= now]:
            late.too_slow()
        self.timer = loop.call_later(self.tick, self._sweep) if self.connections else None


_deadlines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Deadlines] = (
    weakref.WeakKeyDictionary()
)


class TimelyHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request does not arrive
    whole in time (408 when no answer has started)."""

    first_byte_seconds = FIRST_BYTE_SECONDS
    request_seconds = REQUEST_SECONDS
    tick_seconds = TICK_SECONDS
    due: float | None = None  # the loop's time by which the awaited bytes must be here
    _deadlines: _Deadlines | None = None

    def too_slow(self) -> None:
        self.due = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or not cycle.response_started:
            self.transport.write(_TOO_SLOW)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        deadlines = _deadlines.get(self.loop)
        if deadlines is None:
            deadlines = _deadlines[self.loop] = _Deadlines(self.loop)
        deadlines.add(self)
        self._deadlines = deadlines
        self.due = self.loop.time() + self.first_byte_seconds

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.due = self.loop.time() + self.request_seconds

    def on_message_complete(self) -> None:
        self.due = None
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        # The transport goes to another protocol, and this one never hears of it again.
        self._forget()
        super().handle_websocket_upgrade()

    def _forget(self) -> None:
        self.due = None
        if self._deadlines is not None:
            self._deadlines.connections.discard(self)
