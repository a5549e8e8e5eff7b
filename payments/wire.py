"""A lean HTTP/1.1 client for the provider's API: one origin, keep-alive connections.

httpx and httpcore cost about two thirds of the serve process's main-thread CPU of a
checkout POST (bench checkout over HTTP, py-spy, 2026-11-28), much of it the pool
checking every pooled connection's expiry with a socket poll on each request. The
provider's API needs little of that: one origin (https in production, http for a
sandbox), requests with small JSON bodies, answers framed by Content-Length or chunked.

- `check` (the caller's, e.g. `store.held.outside_units`) runs before every request, as
  actor/guard's transports run it: no request leaves while its task holds a database
  connection. The origin is the operator's setting, not a stranger's URL, so there is no
  address check here (the httpx client this replaces had none either).
- Every call has `timeout` seconds for all of it: the wait for a pooled connection, then
  connect (and TLS), send, the answer, and a stale keep-alive's second attempt.
- Keep-alive: idle connections are reused most recent first. One idle for
  `keepalive_expiry` or longer, or that the server has closed (the event loop has seen
  its FIN), or that has unread bytes waiting (a late `408`), is closed when found,
  without a system call per pooled connection.
- A stale keep-alive: the server closed a reused connection before any byte of an
  answer came back. An idempotent request (GET, or a POST the caller marks idempotent,
  such as a create the provider dedupes by reference) is then sent once more, on a new
  connection; any other request fails.
- Errors are httpx's types (ConnectError, ReadError, ReadTimeout, RemoteProtocolError),
  so callers catch one family whichever client they were given.
- Answers are bounded: the head to 64 KiB, the body to 4 MiB.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

MAX_HEAD = 64 * 1024
MAX_BODY = 4 * 1024 * 1024
KEEPALIVE_EXPIRY = 4.0  # seconds; below uvicorn's default 5 s keep-alive timeout
_NO_BODY = frozenset((204, 304))
_HEX = b"0123456789abcdefABCDEF"
_MID_ANSWER = "the server closed the connection mid-answer"


@dataclass(frozen=True)
class WireResponse:
    """An answer: its status, its headers (names in lower case) and its whole body."""

    status_code: int
    headers: dict[str, str]
    content: bytes


class _Stale(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A reused connection was closed before any byte of the answer arrived."""


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        return (
            now - self.idle_since < expiry
            and self.quiet()
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def quiet(self) -> bool:
        """Nothing unread is waiting: bytes that came after an answer (a `408` a server
        sends on an idle connection before closing it, or more body than its length said)
        would otherwise be read as the answer to the next request. StreamReader has no
        public way to ask, hence its buffer."""
        return not getattr(self.reader, "_buffer", b"")

    def close(self) -> None:
        self.writer.close()


def _clean(text: str, what: str) -> str:
    if "\r" in text or "\n" in text or "\0" in text:
        raise ValueError(f"{what} holds a line break")
    return text


class ProviderHTTP:
    """Requests to one origin (`base_url`, whose path prefixes every request's path)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
        check: Callable[[str], None] | None = None,
        max_connections: int = 100,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) origin: {base_url!r}")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("the provider's URL takes no credentials, query or fragment")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._tls = tls
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._prefix = _clean(parts.path.rstrip("/"), "the URL")
        fixed = {"Host": parts.netloc, "Accept-Encoding": "identity", **(headers or {})}
        self._head = "".join(
            f"{_clean(name, 'a header name')}: {_clean(value, 'a header value')}\r\n"
            for name, value in fixed.items()
        )
        try:  # a head that cannot go on the wire fails here, not on every request
            self._head.encode("latin-1")
        except UnicodeEncodeError as error:
            raise ValueError("a header holds a character HTTP/1.1 cannot carry") from error
        self._timeout = timeout
        self._check = check
        self._expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._closed = False

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the call's one deadline, in seconds
    ) -> WireResponse:
        """Send one request and read its whole answer. `idempotent`: whether it may be
        sent again after a stale keep-alive (default: only GET and HEAD)."""
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        if self._check is not None:
            self._check(f"{method} {self._origin}{self._prefix}{path}")
        if self._closed:
            raise RuntimeError("the provider client is closed")
        payload = self._payload(method, _clean(target, "the path"), headers, json_body)
        again = method in ("GET", "HEAD") if idempotent is None else idempotent
        limit = self._timeout if timeout is None else timeout
        # One deadline for the whole call: the wait for a pooled connection, the attempt
        # and a stale keep-alive's second attempt. A provider made slow cannot make one
        # shopper wait for a slot, then a timeout, then another.
        deadline = asyncio.get_running_loop().time() + limit
        try:
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        except TimeoutError as error:
            raise httpx.PoolTimeout(f"no free connection within {limit} s") from error
        try:
            connection = self._take()
            if connection is not None:
                try:
                    return await self._attempt(connection, payload, method, deadline, limit)
                except _Stale as stale:
                    if not again:
                        raise httpx.ReadError(
                            "the server closed a kept-alive connection without an answer"
                        ) from stale.__cause__
            return await self._attempt(None, payload, method, deadline, limit)
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    # -- the wire ------------------------------------------------------------------------

    def _payload(
        self, method: str, target: str, headers: Mapping[str, str] | None, json_body: Any
    ) -> bytes:
        lines = [f"{_clean(method, 'the method')} {target} HTTP/1.1\r\n", self._head]
        for name, value in (headers or {}).items():
            lines.append(f"{_clean(name, 'a header name')}: {_clean(value, 'a header value')}\r\n")
        body = b""
        if json_body is not None:
            body = json.dumps(
                json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
            lines.append("Content-Type: application/json\r\n")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}\r\n")
        lines.append("\r\n")
        return "".join(lines).encode("latin-1") + body

    def _take(self) -> _Connection | None:
        """The most recently used idle connection that is still good, if any."""
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.usable(now, self._expiry):
                return connection
            connection.close()
        return None

    def _put(self, connection: _Connection) -> None:
        if not connection.quiet():
            connection.close()
            return
        now = time.monotonic()
        connection.idle_since = now
        # The oldest idle ones are at the front: drop those past their time.
        while self._idle and now - self._idle[0].idle_since >= self._expiry:
            self._idle.pop(0).close()
        if self._closed:
            connection.close()
        else:
            self._idle.append(connection)

    async def _connect(self) -> _Connection:
        tls = None
        if self._https:
            tls = self._tls = self._tls or httpx.create_ssl_context()
        try:
            reader, writer = await asyncio.open_connection(
                self._host,
                self._port,
                ssl=tls,
                server_hostname=self._host if tls else None,
                limit=MAX_HEAD,
            )
        except OSError as error:  # refused, unreachable, DNS, TLS verification
            raise httpx.ConnectError(f"{type(error).__name__}: {error}") from error
        return _Connection(reader, writer)

    async def _attempt(
        self,
        connection: _Connection | None,
        payload: bytes,
        method: str,
        deadline: float,
        limit: float,
    ) -> WireResponse:
        """One attempt, until the call's `deadline` (loop time; `limit` s after it began).
        Raises _Stale only for a reused connection closed before any byte of the answer;
        the connection goes back to the pool only after a whole answer."""
        reused = connection is not None
        kept = False
        try:
            async with asyncio.timeout_at(deadline):
                if connection is None:
                    connection = await self._connect()
                head = await self._send(connection, payload, reused)
                response, kept = await self._read(connection.reader, head, method)
        except TimeoutError as error:
            stage = "connect" if connection is None else "answer"
            exception = httpx.ConnectTimeout if connection is None else httpx.ReadTimeout
            raise exception(f"no {stage} within {limit} s") from error
        finally:
            if connection is not None:
                if kept:
                    self._put(connection)
                else:
                    connection.close()
        return response

    @staticmethod
    async def _send(connection: _Connection, payload: bytes, reused: bool) -> bytes:
        """Write the request; the answer's head (status line and headers)."""
        try:
            connection.writer.write(payload)
            await connection.writer.drain()
            return await connection.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if reused and not error.partial:
                raise _Stale() from error
            raise httpx.RemoteProtocolError(
                "the server closed the connection mid-answer"
            ) from error
        except asyncio.LimitOverrunError as error:
            raise httpx.RemoteProtocolError("the answer's head is too large") from error
        except ConnectionError as error:  # reset, broken pipe
            if reused:
                raise _Stale() from error
            raise httpx.ReadError(f"{type(error).__name__}: {error}") from error
        except OSError as error:  # a TLS error mid-stream, an unreachable host: never stale
            raise httpx.ReadError(f"{type(error).__name__}: {error}") from error

    async def _read(
        self, reader: asyncio.StreamReader, head: bytes, method: str
    ) -> tuple[WireResponse, bool]:
        """The whole answer after `head`, and whether the connection can be kept."""
        try:
            status, version, headers = _parse_head(head)
            while 100 <= status < 200:  # interim answers (100 Continue): the real one follows
                if status == 101:
                    raise httpx.RemoteProtocolError("the server switched protocols")
                status, version, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
            keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
            if method == "HEAD" or status in _NO_BODY:
                return WireResponse(status, headers, b""), keep
            if "transfer-encoding" in headers:
                # We ask for identity: anything but plain chunked (e.g. "gzip, chunked")
                # would hand the caller bytes it cannot read.
                if headers["transfer-encoding"].lower() != "chunked":
                    raise httpx.RemoteProtocolError("unknown transfer encoding")
                # Both framings at once: read it as chunked, but never trust the connection.
                keep = keep and "content-length" not in headers
                return WireResponse(status, headers, await _chunked(reader)), keep
            length = headers.get("content-length")
            if length is not None:
                # ASCII digits only (payments imports nothing of ours: vocab/numbers.py's
                # rule, inline): int() reads "١٢" as 12 and refuses "²".
                digits = length.isascii() and length.isdigit() and len(length) <= 18
                size = int(length) if digits else None
                if size is None or size > MAX_BODY:
                    raise httpx.RemoteProtocolError(f"bad Content-Length {length[:20]!r}")
                return WireResponse(status, headers, await reader.readexactly(size)), keep
            body = await reader.read(MAX_BODY + 1)  # framed by the end of the connection
            while body and len(body) <= MAX_BODY and not reader.at_eof():
                more = await reader.read(MAX_BODY + 1 - len(body))
                if not more:
                    break
                body += more
            if len(body) > MAX_BODY:
                raise httpx.RemoteProtocolError("the answer is too large")
            return WireResponse(status, headers, body), False
        except asyncio.IncompleteReadError as error:
            raise httpx.RemoteProtocolError(
                "the server closed the connection mid-answer"
            ) from error
        except (asyncio.LimitOverrunError, ValueError) as error:
            raise httpx.RemoteProtocolError(f"unreadable answer: {error}") from error
        except OSError as error:  # reset, broken pipe, a TLS error mid-stream
            raise httpx.ReadError(f"{type(error).__name__}: {error}") from error


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    """Status, HTTP version and headers (lower-case names) of an answer's head."""
    lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if (
        version not in ("HTTP/1.1", "HTTP/1.0")
        or len(code) != 3
        or not code.isascii()
        or not code.isdigit()
        or rest[3:4] not in ("", " ")
    ):
        raise httpx.RemoteProtocolError(f"not an HTTP/1.x status line: {lines[0][:40]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        name = name.lower()
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError("malformed header line")
        value = value.strip()
        if name in headers:
            if name == "content-length" and headers[name] != value:
                raise httpx.RemoteProtocolError("conflicting Content-Length headers")
            value = f"{headers[name]}, {value}" if name != "content-length" else value
        headers[name] = value
    return int(code), version, headers


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body, trailers skipped."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 8 or size_text.strip(_HEX):
            raise httpx.RemoteProtocolError("bad chunk size")
        size = int(size_text, 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > MAX_BODY:
            raise httpx.RemoteProtocolError("the answer is too large")
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise httpx.RemoteProtocolError("a chunk does not end in CRLF")
