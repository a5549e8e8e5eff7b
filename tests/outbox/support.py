"""Shared pieces for the outbox tests: our actor, a clock, and receivers that verify us.

A `Receiver` is a real HTTP inbox (served by uvicorn on loopback) that checks every
request's signature with actor.verification against our public key only (it knows
nothing else about us), records what arrived, and answers as the test scripts it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpsig
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from actor.http_auth import SignatureAuth
from actor.identity import LocalActor
from actor.keys import Ed25519Key, LocalKeys, RsaKey
from actor.remote import RemoteActorRow
from actor.signatures import SigningKey
from actor.starlette_adapter import message_from_request
from actor.verification import RemoteKey, Verified, verify_request
from outbox.models import Follower, OutboxDelivery
from outbox.states import FollowerState
from outbox.worker import DeliverySettings
from store import Database

# The receivers in these tests listen on 127.0.0.1, which the SSRF guard refuses by default.
LOOPBACK = DeliverySettings(allow_private=True)
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def _pem(key: Any) -> str:
    return str(
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def local_actor(base_url: str = "https://cart.test") -> LocalActor:
    keys = LocalKeys(RsaKey(_pem(RSA_KEY), RSA_KEY), Ed25519Key(_pem(ED_KEY), ED_KEY))
    return LocalActor(base_url=base_url, username="cart", name="Cart", keys=keys)


def signature_auth(actor: LocalActor) -> SignatureAuth:
    return SignatureAuth(SigningKey(actor.key_id, actor.keys.rsa.private))


class OurKey:
    """The receiver's key resolver: it knows our key id and public key, nothing more."""

    def __init__(self, actor: LocalActor) -> None:
        self.key = RemoteKey(actor.key_id, actor.id, actor.keys.rsa.private.public_key())

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        return self.key if key_id == self.key.key_id else None


@dataclass
class Arrival:
    path: str
    activity_id: str
    body: dict[str, Any]
    verified: bool  # by actor.verification, against our public key only
    independently_verified: bool  # by the httpsig package (draft-cavage only) + our digest check


def cavage_check(request: Request, body: bytes, public_pem: str) -> bool:
    """A second opinion from code that is not ours: the `httpsig` package."""
    if "signature" not in request.headers:
        return False
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    if request.headers.get("digest") != digest:
        return False
    verifier = httpsig.HeaderVerifier(
        headers=dict(request.headers),
        secret=public_pem.encode(),
        required_headers=["(request-target)", "host", "date", "digest"],
        method=request.method,
        path=request.scope["raw_path"].decode(),
        sign_header="signature",
    )
    return bool(verifier.verify())


Answer = Callable[[Request, dict[str, Any]], Awaitable[Response] | Response]


@dataclass
class Receiver:
    """An inbox on loopback; `answer` decides each reply (default 202 Accepted)."""

    actor: LocalActor
    base_url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    answer: Answer | None = None
    refuse_unsigned: bool = True

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def seen(self, path: str | None = None) -> list[str]:
        return [
            a.activity_id for a in self.arrivals if a.verified and (path is None or a.path == path)
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        message = message_from_request(request, body)
        result = await verify_request(message, OurKey(self.actor))
        document = orjson.loads(body) if body else {}
        verified = isinstance(result, Verified) and result.owner == document.get("actor")
        independent = cavage_check(request, body, self.actor.keys.rsa.public_pem)
        self.arrivals.append(
            Arrival(request.url.path, document.get("id", ""), document, verified, independent)
        )
        if not verified and self.refuse_unsigned:
            response: Response = Response(status_code=401)
        elif self.answer is None:
            response = Response(status_code=202)
        else:
            reply = self.answer(request, document)
            response = await reply if asyncio.iscoroutine(reply) else reply  # type: ignore[assignment]
        await response(scope, receive, send)


async def add_follower(
    db: Database,
    ap_id: str,
    inbox: str,
    shared_inbox: str | None = None,
    state: FollowerState = FollowerState.ACCEPTED,
) -> None:
    async with db.transaction() as session:
        session.add(
            Follower(
                ap_actor_id=ap_id,
                follow_ap_id=f"{ap_id}/follows/1",
                state=state,
                inbox=inbox,
                shared_inbox=shared_inbox,
            )
        )


async def cache_actor(
    db: Database, ap_id: str, inbox: str, shared_inbox: str | None = None
) -> None:
    async with db.transaction() as session:
        session.add(
            RemoteActorRow(
                ap_id=ap_id,
                inbox=inbox,
                shared_inbox=shared_inbox,
                document={"id": ap_id, "type": "Service", "inbox": inbox},
                fetched_at=datetime.now(UTC),
            )
        )


async def deliveries(db: Database) -> list[OutboxDelivery]:
    async with db.sessions() as session:
        rows = await session.execute(select(OutboxDelivery).order_by(OutboxDelivery.id))
        return list(rows.scalars())


def create_note(actor: LocalActor, number: int, cc: tuple[str, ...] = ()) -> dict[str, Any]:
    """A Create addressed like an order: to our followers, cc the peers."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.base_url}/activities/{number:04d}",
        "type": "Create",
        "actor": actor.id,
        "to": [actor.followers],
        "cc": list(cc),
        "object": {"id": f"{actor.base_url}/orders/{number}", "type": ["Object", "Order"]},
    }
