"""A client too slow to send its request is answered 408 and let go (service/server.py).

uvicorn holds a connection for ever while a request's head or body is still coming, so a
few thousand clients each sending a byte now and then could hold as many connections and
tasks. `rose-cart serve` runs uvicorn with `TimelyHttpTools`: a fresh connection's first
byte, and each request whole, must arrive within their deadlines. Here the deadlines are
a fraction of a second, on a real uvicorn over loopback with raw sockets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from service.server import TimelyHttpTools, _deadlines
from tests.support.inbox_peers import Served
from tests.support.loopback import free_socket, wait_until

ENOUGH = 10.0  # seconds: far past every deadline here; only a hang reaches it


class Hurried(TimelyHttpTools):
    first_byte_seconds = 0.3
    request_seconds = 0.5
    tick_seconds = 0.05


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"{len(await request.body())} bytes")


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = Starlette(routes=[Route("/", echo, methods=["GET", "POST"])])
    config = uvicorn.Config(app, http=Hurried, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    sock = free_socket()
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await wait_until(lambda: server.started, within=ENOUGH)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def _all_until_closed(reader: asyncio.StreamReader) -> bytes:
    async with asyncio.timeout(ENOUGH):
        return await reader.read()  # up to EOF: the server closed the connection


def _request(body: bytes = b"", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%b" % (size, body)


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # nothing at all
        b"GET / HTTP/1.1\r\nHost: x\r\n",  # a head with no blank line
        _request(b"{", length=100),  # 1 byte of a 100-byte body
    ],
    ids=["no-byte", "head-unfinished", "body-unfinished"],
)
async def test_a_request_that_does_not_arrive_in_time_is_408_and_closed(
    port: int, sent: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    answer = await _all_until_closed(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive whole in time" in answer


async def test_requests_in_time_are_answered_on_one_kept_alive_connection(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for body in (b"hello", b"again, on the same connection"):
        writer.write(_request(body))
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        assert await reader.readexactly(length) == b"%d bytes" % len(body)
    writer.close()


@pytest.fixture
def over_the_network() -> bool:
    return True


async def test_a_client_that_leaves_mid_body_is_not_logged_as_our_error(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rose_cart")
    host, port = served.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /login HTTP/1.1\r\nHost: %b\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: 100\r\n\r\nemail=a" % served.base_url.encode()
    )
    await writer.drain()
    writer.close()
    await wait_until(
        lambda: any("client left" in r.getMessage() for r in caplog.records), within=ENOUGH
    )
    assert not [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]


async def test_the_deadline_timer_stops_when_no_connection_is_open(port: int) -> None:
    # One timer looks over every open connection's deadline; idle, nothing ticks.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    deadlines = _deadlines[asyncio.get_running_loop()]
    await wait_until(lambda: deadlines.timer is not None, within=ENOUGH)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await _all_until_closed(reader)).startswith(b"HTTP/1.1 200 ")
    writer.close()
    await wait_until(lambda: not deadlines.connections and deadlines.timer is None, within=ENOUGH)


async def test_a_connection_upgraded_to_a_websocket_leaves_the_deadlines(port: int) -> None:
    # uvicorn hands an upgraded connection to another protocol and never tells this one
    # it closed: it must not stay among the connections the timer looks over.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    deadlines = _deadlines[asyncio.get_running_loop()]
    writer.write(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    answer = await _all_until_closed(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 403 ")  # no websocket route: refused
    await wait_until(lambda: not deadlines.connections and deadlines.timer is None, within=ENOUGH)
