"""Authorized fetch on our side: a route that serves private JSON asks who is asking.

Outbox items and orders dereference only for followers and addressed actors, so their
routes require a signed GET and learn the signer's actor IRI from it. The route keeps
the decision of what that actor may see; this helper only answers "who, provably".
Rejections become HTTP answers through verification.problem_for, the one place that
maps them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Scope

from actor.starlette_adapter import verify_starlette_request
from actor.verification import (
    KeyResolver,
    Rejected,
    VerificationResult,
    accept_signature,
    problem_for,
)

# What a 401 for a GET says: sign, and how (RFC 9421 section 5.1).
UNAUTHORIZED = {
    "WWW-Authenticate": 'Signature realm="rose-cart"',
    "Accept-Signature": accept_signature("GET"),
}

# Given the request, the outcome of checking its signature.
Verifier = Callable[[Request], Awaitable[VerificationResult]]
_KEY_ID = re.compile(rb'keyid="([^"]{1,2048})"', re.IGNORECASE)
_SIGNATURE_HEADERS = (b"signature-input", b"signature")  # in the order a keyId is looked for


class HeldKeys(Protocol):
    async def holds(self, key_id: str) -> bool: ...


def _claimed(scope: Scope) -> str | None:
    # One pass over the headers (ASGI names are lower-case): RFC 9421's Signature-Input
    # names the key when present, else draft-cavage's Signature.
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _SIGNATURE_HEADERS:
            found.setdefault(name, bytes(value))
    for name in _SIGNATURE_HEADERS:
        match = _KEY_ID.search(found[name]) if name in found else None
        if match is not None:
            return match.group(1).decode("latin-1")
    return None


def claimed_key_id(request: Request) -> str | None:
    """The keyId a request's signature names, unverified (RFC 9421 or draft-cavage)."""
    return _claimed(request.scope)


def _origin(iri: str) -> str:
    parts = urlsplit(iri)
    return f"{parts.scheme}://{parts.netloc}".lower()


def claimed_key_origin(scope: Scope) -> str | None:
    """The origin of the keyId a request's signature names (unverified: only a claim),
    from the ASGI scope alone, so the pacing at the edge can ask before any Request."""
    key_id = _claimed(scope)
    if key_id is None:
        return None
    try:
        return _origin(key_id)
    except ValueError:  # not a URL: the signature check refuses it
        return None


def origins_of(iris: Iterable[str]) -> frozenset[str]:
    """Our peers' origins, as ``claimed_key_origin`` spells them."""
    return frozenset(_origin(iri) for iri in iris)


def signed_get_verifier(
    keys: KeyResolver, *, scheme: str | None = None, base_url: str | None = None
) -> Verifier:
    """The verifier routes use in production: our policy with `keys` as the key source.

    `base_url` (BASE_URL) gives the scheme peers used, for deployments behind a TLS proxy,
    and the only host a signature may be made for; `scheme` alone keeps any host.
    """

    async def verify(request: Request) -> VerificationResult:
        # A GET has no body to bind; verification then insists only on target and host.
        return await verify_starlette_request(request, b"", keys, scheme=scheme, base_url=base_url)

    return verify


async def require_signed_get(request: Request, verify: Verifier) -> str:
    """The IRI of the actor that signed this request, or an HTTPException (401, or 400)."""
    result = await verify(request)
    if isinstance(result, Rejected):
        problem = problem_for(result)
        raise HTTPException(
            status_code=problem.status,
            detail=f"{problem.title}: {problem.detail}",
            headers=UNAUTHORIZED if problem.status == 401 else None,
        )
    return result.owner
