"""The SSRF guard: outgoing fetches reach only public addresses.

Anyone can make us fetch a URL: a keyId in a signature, an actor IRI in an activity.
Without a guard that is a way into the operator's network (cloud metadata services,
admin ports on loopback). The check runs on the address we actually connect to: the
network backend below resolves the host once, refuses the connection if any address
is not public, and then connects to that very address (the pool above still uses the
host name for the Host header and for TLS), so a DNS answer that changes between check
and connect (DNS rebinding) cannot slip a private address in. Every new connection
goes through it, so every hop of a redirect chain is checked the same way.

Every request through these transports also checks first that its task holds no database
connection (`store.outside_units`), whichever call site sent it: network I/O never
happens inside a unit of work.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import cache
from typing import Any

import httpcore
import httpx

from actor.exceptions import BlockedAddress
from store.held import outside_units

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
SocketOption = Any  # httpcore's socket option tuples
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5)

# NAT64 (RFC 6052) embeds an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether the address is globally routable, looking through IPv6 wrappers of IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
    refused = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )
    # is_global also excludes shared address space (100.64.0.0/10, carrier NAT).
    return not refused and address.is_global


async def system_resolve(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone index
        if address not in seen:
            seen.append(address)
    return seen


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def checked_addresses(
    host: str, port: int, *, allow_private: bool, resolve: Resolver = system_resolve
) -> list[IPAddress]:
    """The addresses of `host`, or BlockedAddress if any of them is not public.

    One private address among public ones refuses the host: an attacker who controls
    the DNS answer would otherwise only need the connection to land on that one.
    """
    literal = _literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a) for a in await resolve(host, port)]
        except OSError as error:
            raise BlockedAddress(host, f"cannot resolve {host}: {error}") from error
        if not addresses:
            raise BlockedAddress(host, f"{host} has no addresses")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise BlockedAddress(
                    host,
                    f"{host} resolves to {address}, which is not a public address "
                    "(set ROSE_CART_ALLOW_PRIVATE_ADDRESSES to allow it)",
                )
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to checked addresses: the one place the guard is enforced.

    The connection pool above it still knows the host by name, so TLS verifies the
    certificate for that name and pooled connections are never shared between two names
    that happen to resolve to the same address (shared CDN front ends answer 421 to that).
    """

    def __init__(
        self,
        inner: httpcore.AsyncNetworkBackend | None = None,
        *,
        allow_private: bool = False,
        resolve: Resolver = system_resolve,
    ) -> None:
        self._inner = inner or httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._resolve = resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(
            host, port, allow_private=self._allow_private, resolve=self._resolve
        )
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress(path, "refusing to connect to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@cache
def tls_context() -> ssl.SSLContext:
    """The one TLS client context of the process: loading the CA bundle costs ~0.3 s, and
    every transport (fetcher, delivery worker, backfill) would otherwise load its own.
    A context is safe to share between connections and is never changed after this."""
    return httpx.create_ssl_context(trust_env=False)


class UnitFreeTransport(httpx.AsyncHTTPTransport):
    """An httpx transport that refuses to send while its task holds a DB connection."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        outside_units(f"{request.method} {request.url.copy_with(query=None)}")
        return await super().handle_async_request(request)


def guarded_transport(
    *,
    allow_private: bool = False,
    resolve: Resolver = system_resolve,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every new connection goes through GuardedBackend."""
    transport = UnitFreeTransport(verify=tls_context(), limits=limits, trust_env=False)
    # httpx offers no public hook for the network backend; its transport is a thin
    # adapter over this one httpcore pool, so we give it ours, built the way httpx
    # builds its own. tests/actor/test_guard.py fails loudly if this stops working.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(
            network_backend, allow_private=allow_private, resolve=resolve
        ),
    )
    return transport
