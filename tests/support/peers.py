"""A remote actor on a real loopback server: its own key, WebFinger and actor document.

It signs what it sends with our own SignatureAuth (the round trips with independent
implementations are proven in tests/actor); what matters here is that every request
crosses a real socket and every key is fetched over HTTP.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actor.http_auth import SignatureAuth
from actor.signatures import Scheme, SigningKey
from tests.actor.loopback import Peer
from tests.support.keypool import pooled_rsa
from tests.support.loopback import client, serving
from vocab.contexts import outgoing_context

AS2 = "application/activity+json"
CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
_counter = itertools.count(1)


class RemotePeer:
    def __init__(self, app: Peer, username: str = "peer") -> None:
        self.app = app
        self.username = username
        self.catalog: str | None = None
        self.received: list[dict[str, Any]] = []
        self.private = pooled_rsa()

    @property
    def base_url(self) -> str:
        return self.app.base_url

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def key_id(self) -> str:
        return f"{self.actor_id}#main-key"

    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def actor_document(self) -> dict[str, Any]:
        return {
            # `catalog` is a rose: term: a market says so with our context, as docs/protocol.md asks
            "@context": outgoing_context() if self.catalog else CONTEXT,
            "id": self.actor_id,
            "type": "Service",
            "preferredUsername": self.username,
            "inbox": f"{self.actor_id}/inbox",
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "publicKey": {
                "id": self.key_id,
                "owner": self.actor_id,
                "publicKeyPem": self.public_pem(),
            },
            **({"catalog": self.catalog} if self.catalog else {}),
        }

    def publish_actor(self) -> None:
        self.app.serve("/actor", lambda _r: JSONResponse(self.actor_document(), media_type=AS2))

    def accept_deliveries(self) -> None:
        """Answer 202 at the actor's inbox and the shared inbox, keeping what arrives.

        The signature is not checked here; tests/outbox proves ours verify elsewhere.
        """

        async def inbox(request: Request) -> Response:
            self.received.append(json.loads(await request.body()))
            return Response(status_code=202)

        for path in ("/actor/inbox", "/inbox"):
            self.app.serve(path, inbox)  # type: ignore[arg-type]

    def rotate_key(self) -> None:
        self.private = pooled_rsa()

    def new_id(self, kind: str = "activities") -> str:
        return f"{self.base_url}/{kind}/{next(_counter)}"

    def activity(self, activity_type: str, obj: Any, **extra: Any) -> dict[str, Any]:
        return {
            "@context": CONTEXT,
            "id": self.new_id(),
            "type": activity_type,
            "actor": self.actor_id,
            "object": obj,
            **extra,
        }

    def auth(self, scheme: Scheme = Scheme.CAVAGE) -> SignatureAuth:
        return SignatureAuth(
            SigningKey(self.key_id, self.private), default=scheme, double_knock=False
        )

    async def deliver(
        self,
        inbox: str,
        document: Any,
        *,
        scheme: Scheme = Scheme.CAVAGE,
        content_type: str = AS2,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        payload = body if body is not None else json.dumps(document).encode()
        async with client(auth=self.auth(scheme), timeout=10) as http:
            return await http.post(
                inbox, content=payload, headers={"Content-Type": content_type, **(headers or {})}
            )


@asynccontextmanager
async def remote_peer(username: str = "peer") -> AsyncIterator[RemotePeer]:
    app = Peer()
    async with serving(app, lifespan="off") as base_url:
        app.base_url = base_url
        peer = RemotePeer(app, username)
        peer.publish_actor()
        yield peer
