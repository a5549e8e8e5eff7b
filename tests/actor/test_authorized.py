"""Authorized fetch on our side: a route learns who signed the GET, or answers 401."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actor.authorized import Verifier, require_signed_get, signed_get_verifier
from actor.fetch import Fetcher, FetchSettings
from actor.remote import RemoteActors
from actor.signatures import Message, SigningKey, sign_request
from store import Database
from tests.actor.loopback import Peer, actor_document, running_peer

PEER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ORDER_URL = "https://cart.test/orders/1"


def cart_app(verify: Verifier) -> Starlette:
    async def order(request: Request) -> JSONResponse:
        signer = await require_signed_get(request, verify)
        return JSONResponse({"asked_by": signer})

    return Starlette(routes=[Route("/orders/1", order)])


def signed_headers(key_id: str, key: rsa.RSAPrivateKey) -> dict[str, str]:
    message = Message.of("GET", ORDER_URL, {"host": "cart.test"})
    return {**message.headers, **sign_request(message, SigningKey(key_id, key))}


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with running_peer() as running:
        running.serve_json("/users/alice", actor_document(running, PEER_KEY))
        yield running


@pytest.fixture
async def cart(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    fetcher = Fetcher(FetchSettings(allow_private=True))
    app = cart_app(signed_get_verifier(RemoteActors(db, fetcher)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://cart.test") as client:
        yield client
    await fetcher.aclose()


async def test_a_signed_get_tells_the_route_who_is_asking(
    peer: Peer, cart: httpx.AsyncClient
) -> None:
    key_id = peer.url("/users/alice#main-key")
    response = await cart.get("/orders/1", headers=signed_headers(key_id, PEER_KEY))
    assert response.status_code == 200
    assert response.json() == {"asked_by": peer.url("/users/alice")}


async def test_an_unsigned_get_is_told_to_sign(cart: httpx.AsyncClient) -> None:
    response = await cart.get("/orders/1")
    assert response.status_code == 401
    assert "Signature required" in response.text
    assert response.headers["WWW-Authenticate"].startswith("Signature")


async def test_a_get_signed_with_the_wrong_key_is_refused(
    peer: Peer, cart: httpx.AsyncClient
) -> None:
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = peer.url("/users/alice#main-key")
    response = await cart.get("/orders/1", headers=signed_headers(key_id, impostor))
    assert response.status_code == 401
    assert "does not verify" in response.text
