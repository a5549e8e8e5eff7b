"""Real servers on loopback, for the tests where the network is the thing under test.

One way to pick a port (`free_socket`/`free_port`), one way to run an ASGI app under
uvicorn on it (`serving`, in the test's event loop; `serving_in_thread`, for a server
shared by many tests), and one way to wait for something to become true (`wait_until`)
instead of sleeping a fixed time. Where the network is not what a test is about, use an
in-process `httpx.ASGITransport` instead: it costs no port, no server and no lifespan.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal

import httpx
import uvicorn

STARTUP_TIMEOUT = 10.0  # seconds; a loaded CI machine is slow, a hung start is a failure


def free_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, not yet listening.

    Pass it to `serving` when the app must know its own URL before it runs: the port is
    held from the start, so nothing else can take it in between.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_ports(count: int) -> list[int]:
    """`count` different ports free on 127.0.0.1 now, for processes started by the test (a
    CLI, a subprocess) that bind them themselves. In-process servers take `free_socket()`.
    """
    sockets = [free_socket() for _ in range(count)]
    ports = [int(sock.getsockname()[1]) for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def free_port() -> int:
    """One port free on 127.0.0.1 now (see `free_ports`)."""
    return free_ports(1)[0]


# Origins served in process (httpx.ASGITransport) instead of on a socket; `client()`
# routes requests for them there. See `in_process`.
_IN_PROCESS: dict[str, httpx.AsyncBaseTransport] = {}


@contextmanager
def in_process(origin: str, app: Any) -> Iterator[None]:
    """Requests that `client()` sends to `origin` go straight to `app`, in process.

    For tests where the network is not the point: no port, no uvicorn start and stop.
    The app keeps its public origin (BASE_URL), so signatures and ids are unchanged.
    """
    _IN_PROCESS[origin] = httpx.ASGITransport(app=app)
    try:
        yield
    finally:
        del _IN_PROCESS[origin]


def client(**options: Any) -> httpx.AsyncClient:
    """An httpx client that reaches in-process origins in process and the rest over TCP."""
    mounts = {origin: transport for origin, transport in _IN_PROCESS.items()}
    return httpx.AsyncClient(mounts=mounts, **options)


def origin_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


class _Server(uvicorn.Server):
    """uvicorn, stopping as soon as it is told to and its connections have closed.

    uvicorn's own loop looks for `should_exit` every 0.1 s, and its shutdown sleeps 0.1 s
    and then waits for connections and tasks in 0.1 s steps: 130-200 ms to stop one
    server, and a test with a few peers paid half a second in teardown, some 70 s of the
    suite. Here the same waits look every 10 ms."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(_LOOK)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        while (self.server_state.connections or self.server_state.tasks) and not self.force_exit:
            await asyncio.sleep(_LOOK)
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


_LOOK = 0.01  # seconds between looks at a server's stop flag and a stopping one's connections


def _server(app: Any, lifespan: Literal["on", "off"]) -> uvicorn.Server:
    config = uvicorn.Config(
        app, lifespan=lifespan, log_level="warning", ws="none", http="h11", access_log=False
    )
    return _Server(config)


@asynccontextmanager
async def serving(
    app: Any, sock: socket.socket | None = None, *, lifespan: Literal["on", "off"] = "on"
) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on `sock` (a free loopback port if none); yields its origin."""
    sock = sock or free_socket()
    server = _server(app, lifespan)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_until(lambda: server.started or task.done(), within=STARTUP_TIMEOUT)
        if not server.started:
            task.result()  # raises what stopped it
            raise RuntimeError("uvicorn did not start")
        yield origin_of(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextmanager
def serving_in_thread(
    app: Any, sock: socket.socket | None = None, *, lifespan: Literal["on", "off"] = "on"
) -> Iterator[str]:
    """Serve `app` on a free loopback port in its own thread and event loop.

    For a server shared by many tests (a module- or session-scoped fixture), or one that
    synchronous test code talks to.
    """
    sock = sock or free_socket()
    server = _server(app, lifespan)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield origin_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    within: float = 10.0,
    interval: float = 0.01,
    message: str = "the condition never became true",
) -> None:
    """Return as soon as `condition()` is true; fail after `within` seconds.

    The wait is on the condition, never a fixed sleep: a fast machine moves on at once,
    a slow one gets the whole `within`.
    """
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{message} within {within} s")
        await asyncio.sleep(interval)
