"""From a Starlette request (and its body, already read under a size cap) to the core.

The URL is rebuilt from what arrived on the wire: the raw path as the client sent it
(percent-encoding untouched), the raw query string, and the received Host header, so
the signing string matches what the peer signed. Behind a TLS-terminating proxy the
ASGI scheme may say "http": pass `scheme` (from BASE_URL) to say what peers used.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request

from actor.signatures import Message, field_map
from actor.verification import KeyResolver, VerificationResult, authority_of, verify_request


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
