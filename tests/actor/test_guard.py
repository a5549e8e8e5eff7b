"""The SSRF guard: only public addresses, checked on every hop, pinned against rebinding."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import httpcore
import httpx
import pytest

from actor.exceptions import BlockedAddress, FetchFailed
from actor.fetch import Fetched, Fetcher, FetchSettings
from actor.guard import checked_addresses, guarded_transport, is_public
from tests.actor.loopback import running_peer

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 (an address under test, not a bind)
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "fec0::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC_V4, "8.8.8.8", PUBLIC_V6])
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def _resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


async def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    resolve = _resolver({"mixed.example": [PUBLIC_V4, "10.0.0.7"]})
    with pytest.raises(BlockedAddress, match="10.0.0.7"):
        await checked_addresses("mixed.example", 443, allow_private=False, resolve=resolve)
    allowed = await checked_addresses("mixed.example", 443, allow_private=True, resolve=resolve)
    assert [str(a) for a in allowed] == [PUBLIC_V4, "10.0.0.7"]


class Recording(httpcore.AsyncNetworkBackend):
    """Stands in for the network: records where connections go and which name TLS checks."""

    def __init__(self, answer: bytes) -> None:
        self.mock = httpcore.AsyncMockBackend([answer])
        self.connected: list[tuple[str, int]] = []
        self.tls_names: list[str | None] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        stream = await self.mock.connect_tcp(host, port, timeout, local_address, socket_options)
        recording = self

        class Stream(httpcore.AsyncMockStream):
            async def start_tls(
                self,
                ssl_context: Any,
                server_hostname: str | None = None,
                timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
            ) -> httpcore.AsyncNetworkStream:
                recording.tls_names.append(server_hostname)
                return self

        return Stream(list(stream._buffer))  # type: ignore[attr-defined]

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AssertionError("not used")

    async def sleep(self, seconds: float) -> None:
        await self.mock.sleep(seconds)


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_the_connection_goes_to_the_checked_address_not_a_second_dns_answer() -> None:
    # A rebinding DNS server answers public first, private afterwards. The guard asks
    # once and connects to what it checked; TLS still verifies the host name.
    answers = iter([[PUBLIC_V4], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    network = Recording(OK)
    transport = guarded_transport(resolve=rebinding, network_backend=network)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get("https://peer.example/actor")
    assert response.text == "ok"
    assert network.connected == [(PUBLIC_V4, 443)]
    assert network.tls_names == ["peer.example"]


async def test_two_names_on_one_address_never_share_a_connection() -> None:
    resolve = _resolver({"a.example": [PUBLIC_V4], "b.example": [PUBLIC_V4]})
    network = Recording(OK)
    transport = guarded_transport(resolve=resolve, network_backend=network)
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://a.example/actor")
        await client.get("https://b.example/actor")
    assert network.tls_names == ["a.example", "b.example"]


async def test_a_redirect_to_a_private_host_is_refused_at_that_hop() -> None:
    resolve = _resolver({"peer.example": [PUBLIC_V4], "internal.example": ["10.0.0.5"]})
    network = Recording(
        b"HTTP/1.1 302 Found\r\nLocation: http://internal.example/admin\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    fetcher = Fetcher(resolve=resolve, network_backend=network)
    try:
        with pytest.raises(BlockedAddress, match="internal.example resolves to 10.0.0.5"):
            await fetcher.fetch("http://peer.example/actor")
    finally:
        await fetcher.aclose()
    assert network.connected == [(PUBLIC_V4, 80)]


async def test_only_http_and_https_are_fetched() -> None:
    fetcher = Fetcher(FetchSettings(allow_private=True))
    try:
        with pytest.raises(FetchFailed, match="UnsupportedProtocol"):
            await fetcher.fetch("ftp://127.0.0.1/actor")
    finally:
        await fetcher.aclose()


async def test_given_the_guard_on_a_fetch_of_a_loopback_actor_is_refused_before_any_request() -> (
    None
):
    async with running_peer() as peer:
        peer.serve_json("/actor", {"id": peer.url("/actor"), "type": "Service"})
        localhost = peer.url("/actor").replace("127.0.0.1", "localhost")
        guarded = Fetcher(FetchSettings(allow_private=False))
        try:
            with pytest.raises(BlockedAddress, match="not a public address"):
                await guarded.fetch(peer.url("/actor#main-key"))
            with pytest.raises(BlockedAddress, match="not a public address"):
                await guarded.fetch(localhost)
        finally:
            await guarded.aclose()
        assert peer.hits["/actor"] == 0

        allowed = Fetcher(FetchSettings(allow_private=True))
        try:
            result = await allowed.fetch(peer.url("/actor#main-key"))
        finally:
            await allowed.aclose()
        assert isinstance(result, Fetched)
        assert result.document["type"] == "Service"
        assert peer.hits["/actor"] == 1
