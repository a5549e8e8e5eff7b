"""A real HTTP peer on a loopback port, for tests where the network is the thing under test.

`Peer` is a tiny ASGI app whose answers the test sets per path and which counts the
requests it receives, so a test can tell whether a fetch really went out.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from actor.multibase import ed25519_multikey
from tests.support.loopback import serving

AS2 = "application/activity+json"
Handler = Callable[[Request], Response]
_ED_KEY = ed25519.Ed25519PrivateKey.generate()


class Peer:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[Request] = []
        self.base_url = ""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def serve_json(self, path: str, document: dict[str, Any], content_type: str = AS2) -> None:
        body = orjson.dumps(document)
        self.routes[path] = lambda _request: Response(body, media_type=content_type)

    def serve(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        self.hits[request.url.path] += 1
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        response = handler(request) if handler else Response(status_code=404)
        if inspect.isawaitable(response):  # a handler that reads the body is async
            response = await response
        await response(scope, receive, send)


@asynccontextmanager
async def running_peer() -> AsyncIterator[Peer]:
    peer = Peer()
    async with serving(peer, lifespan="off") as base_url:
        peer.base_url = base_url
        yield peer


def pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def actor_document(
    peer: Peer,
    key: rsa.RSAPrivateKey,
    path: str = "/users/alice",
    ed_key: ed25519.Ed25519PrivateKey = _ED_KEY,
) -> dict[str, Any]:
    """A Mastodon-like actor with an RSA publicKey and an Ed25519 Multikey (FEP-521a)."""
    actor_id = peer.url(path)
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": "Person",
        "inbox": f"{actor_id}/inbox",
        "endpoints": {"sharedInbox": peer.url("/inbox")},
        "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": pem(key)},
        "assertionMethod": [
            {
                "id": f"{actor_id}#ed25519-key",
                "type": "Multikey",
                "controller": actor_id,
                "publicKeyMultibase": ed25519_multikey(ed_key.public_key()),
            }
        ],
    }
