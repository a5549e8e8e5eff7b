"""From a Starlette request (and its body, read under a size cap by `read_within`) to the core.

The URL is rebuilt from what arrived on the wire: the raw path as the client sent it
(percent-encoding untouched), the raw query string, and the received Host header, so
the signing string matches what the peer signed. Behind a TLS-terminating proxy the
ASGI scheme may say "http": pass `scheme` (from BASE_URL) to say what peers used.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import ClientDisconnect, Request

from actor.signatures import Message, field_map
from actor.verification import KeyResolver, VerificationResult, authority_of, verify_request
from vocab.numbers import parse_natural


class BadContentLength(Exception):
    """The Content-Length header is not a number."""


class BodyTooLarge(Exception):
    """The body, as declared or as it arrived, is over the caller's limit."""


def declared_length(request: Request, limit: int) -> int | None:
    """The Content-Length the request declares (None: none), refused over `limit`."""
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    length = parse_natural(declared)
    if length is None:
        raise BadContentLength()
    if length > limit:
        raise BodyTooLarge()
    return length


async def read_within(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk and refused as soon as it passes `limit` bytes (at
    once when its Content-Length says so). Raises BadContentLength, BodyTooLarge, and
    ClientDisconnect when the client goes before the body is whole. Each caller answers
    these in its own words (an inbox's problem types, a form's page)."""
    declared_length(request, limit)
    chunks, size = [], 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def message_from_request(request: Request, body: bytes, *, scheme: str | None = None) -> Message:
    scope = request.scope
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    headers = field_map(
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
    )
    host = headers.get("host") or ""
    url = f"{scheme or request.url.scheme}://{host}{path}" + (f"?{query}" if query else "")
    return Message(scope["method"].upper(), url, headers, body)


async def verify_starlette_request(
    request: Request,
    body: bytes,
    keys: KeyResolver,
    *,
    scheme: str | None = None,
    base_url: str | None = None,
    clock: Callable[[], float] = time.time,
) -> VerificationResult:
    """For routes that require a signed request (inbox POSTs, authorized fetch GETs).

    `base_url` is ours (BASE_URL): it gives the scheme peers used and the only Host a
    signed request may name. Without it (tests of the adapter alone) any Host passes.
    """
    if base_url is not None:
        scheme = scheme or base_url.split("://", 1)[0]
    message = message_from_request(request, body, scheme=scheme)
    authority = authority_of(base_url) if base_url is not None else None
    return await verify_request(message, keys, clock=clock, authority=authority)
