"""The provider client's own HTTP (payments/wire.py) against a scripted server on loopback.

What a shop would notice: kept-alive connections are reused; a stale one (the provider
closed it as the next request went out) costs an idempotent call nothing, while a refund
is never sent twice; odd or slow answers become ProviderUnavailable; nothing is sent
while a database connection is held.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from payments.exceptions import ProviderUnavailable
from payments.sumup import SumUpClient
from payments.wire import ProviderHTTP
from store.held import HeldAcrossWork, holding, outside_units

CHECKOUT = (
    b'{"id":"c-1","checkout_reference":"order-1","amount":10.1,"currency":"EUR",'
    b'"status":"PENDING","hosted_checkout_url":"https://pay.test/c-1"}'
)


def answer(status: int, body: bytes = b"", *, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%b\r\n%b" % (status, len(body), extra, body)


def chunked(status: int, body: bytes) -> bytes:
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%b\r\n" % (len(part), part) for part in (body[:half], body[half:]))
    return b"HTTP/1.1 %d X\r\nTransfer-Encoding: chunked\r\n\r\n%b0\r\n\r\n" % (status, chunks)


# (connection number, request number on it, the request's head) -> bytes to send, or None
# to close the connection without answering, or "hang" to never answer.
Script = Callable[[int, int, bytes], "bytes | str | None"]


@dataclass
class Provider:
    origin: str
    heads: list[bytes] = field(default_factory=list)
    connections: int = 0


@asynccontextmanager
async def provider(script: Script, *, close_after: bool = False) -> AsyncIterator[Provider]:
    """`close_after`: the server closes each connection after its first answer."""
    seen = Provider("")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.connections += 1
        number = seen.connections
        try:
            for index in range(100):
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                seen.heads.append(head)
                reply = script(number, index, head)
                if reply is None:
                    return
                if reply == "hang":
                    await asyncio.Event().wait()
                assert isinstance(reply, bytes)
                writer.write(reply)
                await writer.drain()
                if close_after:
                    return
        except asyncio.IncompleteReadError:
            return
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    seen.origin = f"http://127.0.0.1:{port}"
    async with server:
        yield seen


def client(origin: str, **options: object) -> SumUpClient:
    return SumUpClient(api_key="k", merchant_code="M1", base_url=origin, **options)  # type: ignore[arg-type]


async def create(sumup: SumUpClient) -> object:
    return await sumup.create_checkout(
        reference="order-1",
        amount=Decimal("10.10"),
        currency="EUR",
        description="Order 1",
        return_url=None,
        redirect_url=None,
        valid_until=datetime(2030, 1, 1, tzinfo=UTC),
    )


async def test_calls_reuse_one_kept_alive_connection() -> None:
    async with provider(lambda _c, _i, _h: answer(201, CHECKOUT)) as seen:
        async with client(seen.origin) as sumup:
            for _ in range(3):
                checkout = await create(sumup)
                assert checkout.hosted_checkout_url == "https://pay.test/c-1"  # type: ignore[attr-defined]
    assert seen.connections == 1
    assert len(seen.heads) == 3
    first = seen.heads[0]
    assert first.startswith(b"POST /v0.1/checkouts HTTP/1.1\r\n")
    assert b"Authorization: Bearer k\r\n" in first
    assert b"Content-Type: application/json\r\n" in first


def stale_after_first(connection: int, index: int, _head: bytes) -> bytes | None:
    """The first connection answers once, then is closed as the next request arrives."""
    if connection == 1 and index == 1:
        return None
    return answer(201, CHECKOUT)


async def test_a_create_on_a_stale_connection_is_sent_again_on_a_new_one() -> None:
    async with provider(stale_after_first) as seen:
        async with client(seen.origin) as sumup:
            await create(sumup)
            checkout = await create(sumup)  # the provider dedupes by reference
    assert checkout.id == "c-1"  # type: ignore[attr-defined]
    assert seen.connections == 2
    assert len(seen.heads) == 3


async def test_a_refund_on_a_stale_connection_is_not_sent_twice() -> None:
    def script(connection: int, index: int, head: bytes) -> bytes | None:
        if head.startswith(b"POST /v1.0/"):
            return None if connection == 1 else answer(201, b"{}")
        return answer(201, CHECKOUT)

    async with provider(script) as seen:
        async with client(seen.origin) as sumup:
            await create(sumup)
            with pytest.raises(ProviderUnavailable):
                await sumup.refund("t-1")
    refunds = [head for head in seen.heads if head.startswith(b"POST /v1.0/")]
    assert len(refunds) == 1


async def test_a_fresh_connection_closed_without_an_answer_is_not_retried() -> None:
    async with provider(lambda _c, _i, _h: None) as seen:
        async with client(seen.origin) as sumup:
            with pytest.raises(ProviderUnavailable):
                await create(sumup)
    assert len(seen.heads) == 1


async def test_a_chunked_answer_is_read_whole() -> None:
    async with provider(lambda _c, _i, _h: chunked(200, CHECKOUT)) as seen:
        async with client(seen.origin) as sumup:
            checkout = await sumup.fetch_checkout("c-1")
            again = await sumup.fetch_checkout("c-1")
    assert checkout.reference == again.reference == "order-1"
    assert seen.connections == 1


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 201 X\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}",
        b"HTTP/1.1 201 X\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 201 X\r\nContent-Length: \xb2\r\n\r\n{}",  # "\u00b2".isdigit() is true
        b"HTTP/1.1 201 X\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"SSH-2.0-OpenSSH_9.0\r\n\r\n",
        b"HTTP/1.1 201 X\r\nContent-Length: 100\r\n\r\n{}",  # then the server closes
        # Each of these would read as a good answer to a lenient parser:
        b"HTTP/1.1 2000 X\r\nContent-Length: %d\r\n\r\n%b" % (len(CHECKOUT), CHECKOUT),
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n" + answer(200, CHECKOUT),
        chunked(200, CHECKOUT).replace(b"chunked", b"gzip, chunked"),
    ],
)
async def test_an_unreadable_answer_is_provider_unavailable(reply: bytes) -> None:
    def script(_connection: int, _index: int, _head: bytes) -> bytes | None:
        return reply

    async with provider(script, close_after=True) as seen, client(seen.origin) as sumup:
        with pytest.raises(ProviderUnavailable):
            await sumup.fetch_checkout("c-1")


async def test_a_provider_that_never_answers_times_out() -> None:
    async with provider(lambda _c, _i, _h: "hang") as seen:
        async with client(seen.origin, timeout=0.2) as sumup:
            with pytest.raises(ProviderUnavailable):
                await sumup.fetch_checkout("c-1")


async def test_nothing_is_sent_while_a_database_connection_is_held() -> None:
    async with provider(lambda _c, _i, _h: answer(201, CHECKOUT)) as seen:
        async with client(seen.origin, check=outside_units) as sumup:
            with holding("a test's unit"), pytest.raises(HeldAcrossWork):
                await create(sumup)
            await create(sumup)
    assert len(seen.heads) == 1


async def test_the_connection_closes_when_the_provider_says_so() -> None:
    reply = answer(200, CHECKOUT, extra=b"Connection: close\r\n")
    async with provider(lambda _c, _i, _h: reply) as seen:
        async with client(seen.origin) as sumup:
            await sumup.fetch_checkout("c-1")
            await sumup.fetch_checkout("c-1")
    assert seen.connections == 2


# A server that, after answering, sends a 408 on the idle connection and closes it (as
# some servers do), all in one write here so the bytes are waiting before the next call.
TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


async def test_bytes_waiting_on_an_idle_connection_are_not_the_next_answer() -> None:
    def script(connection: int, index: int, head: bytes) -> bytes | None:
        if head.startswith(b"POST /v1.0/"):
            return answer(204)
        return answer(201, CHECKOUT) + (TIMED_OUT if connection == 1 else b"")

    async with provider(script) as seen:
        async with client(seen.origin) as sumup:
            await create(sumup)
            refund = await sumup.refund("t-1")  # not idempotent: must not meet the 408
    assert refund.transaction_id == "t-1"
    assert seen.connections == 2
    refunds = [head for head in seen.heads if head.startswith(b"POST /v1.0/")]
    assert len(refunds) == 1


async def test_more_body_than_its_length_said_is_not_the_next_answer() -> None:
    def script(connection: int, _index: int, _head: bytes) -> bytes | None:
        extra = b"HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n" if connection == 1 else b""
        return answer(200, CHECKOUT) + extra

    async with provider(script) as seen:
        async with client(seen.origin) as sumup:
            first = await sumup.fetch_checkout("c-1")
            second = await sumup.fetch_checkout("c-1")
    assert first.reference == second.reference == "order-1"
    assert seen.connections == 2


def test_a_header_http_cannot_carry_is_refused_when_the_client_is_made() -> None:
    from payments.wire import ProviderHTTP

    with pytest.raises(ValueError, match="cannot carry"):
        ProviderHTTP("https://api.sumup.test", headers={"User-Agent": "rosé-cart ✿"})


async def test_waiting_for_a_pooled_connection_counts_against_the_calls_deadline() -> None:
    """A provider made slow holds every pooled connection: a call that cannot get one
    fails by its own deadline, not a whole timeout after a connection comes free."""
    async with provider(lambda _c, _i, _h: "hang") as seen:
        wire = ProviderHTTP(seen.origin, max_connections=1)
        try:
            first = asyncio.create_task(wire.request("GET", "/v0.1/checkouts/c-1", timeout=30))
            while not seen.heads:  # the first call holds the only connection
                await asyncio.sleep(0.01)
            with pytest.raises(httpx.PoolTimeout):
                await wire.request("GET", "/v0.1/checkouts/c-2", timeout=0.2)
            assert not first.done()  # it gave up while the slot was still taken
            assert len(seen.heads) == 1  # and sent nothing
            first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first
        finally:
            await wire.aclose()
