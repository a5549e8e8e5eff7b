"""Signing outgoing requests with `SignatureAuth`, and double-knocking.

Fake peers verify with our own policy (its correctness against independent
implementations is shown in test_signatures_roundtrip.py); what matters here is what a
peer sees: which scheme arrives first, how many requests, and what we remember."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actor.http_auth import SignatureAuth
from actor.origin import origin_of
from actor.schemes import SchemeMemory, load_memory, remembered_scheme, save_learned
from actor.signatures import Message, Scheme, SigningKey
from actor.starlette_adapter import verify_starlette_request
from actor.verification import Rejected, RemoteKey, Verified, problem_for, verify_request
from store import Database, utcnow
from tests.support.loopback import serving

ACTOR = "https://cart.example/actor"
KEY_ID = f"{ACTOR}#main-key"


@pytest.fixture(scope="module")
def our_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class OneKey:
    key: RemoteKey

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        return self.key if key_id == self.key.key_id else None


@dataclass
class Peer:
    """A peer that accepts only the schemes in `accepts`, and notes what arrived."""

    keys: OneKey
    accepts: frozenset[Scheme]
    seen: list[tuple[str, Scheme | None]] = field(default_factory=list)

    async def answer(self, message: Message) -> tuple[int, Scheme | None]:
        result = await verify_request(message, self.keys)
        scheme = result.scheme if isinstance(result, Verified) else None
        self.seen.append((message.method, scheme))
        if isinstance(result, Verified) and result.scheme in self.accepts:
            return (202 if message.method == "POST" else 200), scheme
        return 401, scheme

    async def handle(self, request: httpx.Request) -> httpx.Response:
        message = Message.of(
            request.method, str(request.url), request.headers.multi_items(), request.content
        )
        status, _ = await self.answer(message)
        return httpx.Response(status)


def peer(key: rsa.RSAPrivateKey, *accepts: Scheme) -> Peer:
    return Peer(OneKey(RemoteKey(KEY_ID, ACTOR, key.public_key())), frozenset(accepts))


def auth(key: rsa.RSAPrivateKey, memory: SchemeMemory | None = None) -> SignatureAuth:
    return SignatureAuth(SigningKey(KEY_ID, key), memory=memory)


async def post(client: httpx.AsyncClient, url: str) -> httpx.Response:
    return await client.post(
        url, content=b'{"type": "Follow"}', headers={"Content-Type": "application/activity+json"}
    )


async def test_a_cavage_peer_gets_one_cavage_request(our_key: rsa.RSAPrivateKey) -> None:
    remote = peer(our_key, Scheme.CAVAGE)
    signing = auth(our_key)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(remote.handle), auth=signing
    ) as client:
        response = await post(client, "https://peer.example/inbox?x=1")

    assert response.status_code == 202
    assert remote.seen == [("POST", Scheme.CAVAGE)]
    assert signing.memory.take_learned() == {"https://peer.example": Scheme.CAVAGE}


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_an_rfc9421_only_peer_gets_a_second_knock_and_is_remembered(
    our_key: rsa.RSAPrivateKey, method: str
) -> None:
    remote = peer(our_key, Scheme.RFC9421)
    signing = auth(our_key)
    responses: list[httpx.Response] = []
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(remote.handle), auth=signing
    ) as client:
        for _ in range(2):
            if method == "POST":
                responses.append(await post(client, "https://peer.example/inbox"))
            else:
                responses.append(await client.get("https://peer.example/actor"))

    assert [r.status_code for r in responses] == ([202, 202] if method == "POST" else [200, 200])
    assert remote.seen == [
        (method, Scheme.CAVAGE),
        (method, Scheme.RFC9421),
        (method, Scheme.RFC9421),
    ]
    assert signing.memory.scheme_for("https://peer.example") is Scheme.RFC9421


async def test_a_peer_refusing_both_gets_two_knocks_and_nothing_is_learned(
    our_key: rsa.RSAPrivateKey,
) -> None:
    remote = peer(our_key)
    signing = auth(our_key)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(remote.handle), auth=signing
    ) as client:
        response = await post(client, "https://peer.example/inbox")

    assert response.status_code == 401
    assert [scheme for _, scheme in remote.seen] == [Scheme.CAVAGE, Scheme.RFC9421]
    assert signing.memory.take_learned() == {}


def test_the_sync_client_double_knocks_too(our_key: rsa.RSAPrivateKey) -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        scheme = "rfc9421" if "signature-input" in request.headers else "cavage"
        seen.append(scheme)
        return httpx.Response(202 if scheme == "rfc9421" else 401)

    with httpx.Client(transport=httpx.MockTransport(handle), auth=auth(our_key)) as client:
        assert client.post("https://peer.example/inbox", content=b"{}").status_code == 202

    assert seen == ["cavage", "rfc9421"]


# --- a real server on loopback, and the memory in the database ------------------------


@pytest.fixture
async def rfc9421_only_server(our_key: rsa.RSAPrivateKey) -> AsyncIterator[tuple[str, Peer]]:
    remote = peer(our_key, Scheme.RFC9421)

    async def inbox(request: Request) -> Response:
        body = await request.body()
        result = await verify_starlette_request(request, body, remote.keys)
        scheme = result.scheme if isinstance(result, Verified) else None
        remote.seen.append((request.method, scheme))
        if isinstance(result, Verified) and scheme is Scheme.RFC9421:
            return Response(status_code=202)
        problem = problem_for(result) if isinstance(result, Rejected) else None
        return JSONResponse(
            {"title": problem.title if problem else "cavage refused"}, status_code=401
        )

    app = Starlette(routes=[Route("/inbox", inbox, methods=["POST"])])
    async with serving(app, lifespan="off") as origin:
        yield origin, remote


async def test_double_knock_against_a_real_server_is_remembered_in_the_database(
    our_key: rsa.RSAPrivateKey, rfc9421_only_server: tuple[str, Peer], db: Database
) -> None:
    base, remote = rfc9421_only_server
    origin = origin_of(base)
    memory = await db.read(load_memory, [origin])

    async with httpx.AsyncClient(auth=auth(our_key, memory)) as client:
        # A query with percent-encoding: the adapter must rebuild the target as sent.
        response = await post(client, f"{base}/inbox?to=%2Fcart%20x")
    saved = await db.write(save_learned, memory.take_learned(), utcnow())

    assert response.status_code == 202
    assert remote.seen == [("POST", Scheme.CAVAGE), ("POST", Scheme.RFC9421)]
    assert saved == 1
    assert await db.read(remembered_scheme, origin) is Scheme.RFC9421
    remembered = await db.read(load_memory)

    # Another process, later: it loads the memory and knocks once, in the right scheme.
    async with httpx.AsyncClient(auth=auth(our_key, remembered)) as client:
        assert (await post(client, f"{base}/inbox")).status_code == 202
    assert remote.seen[2:] == [("POST", Scheme.RFC9421)]
    assert remembered.take_learned() == {}
