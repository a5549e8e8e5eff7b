"""The stranger of issue 14, federation side: signed abuse of the inbox and collections.

Shared, through `bench/_attackers.py`'s ATTACKS, by `bench/hostile.py` and the
hostile-load test. Each attack starts a host of its own on loopback (a real HTTP server
the shop may fetch keys and actors from: "a stranger's server"), on the attacker's own
loopback address (a fresh port each round: the shop's per-host budgets go by host name,
so the ports of one machine share them), and speaks to the shop from that address:

- unknown key ids: signed deliveries whose keyId names nothing (a 404 on the stranger's
  host, or a port where nothing listens), so each asks us to fetch a key;
- heavy JSON-LD: a Follow from a real, verifiable actor whose @context carries dozens
  of property-scoped contexts, the kind that kept pyld busy for seconds;
- minted actors: Likes, each from a fresh actor IRI the host serves with one key;
- an unknown key reading followers: signed GET /followers?page=1 under an unknown keyId,
  which once made a request wait on itself for the only database connection.

Each counts every status it is answered into `seen` as the answer arrives, and returns it.

The attackers share the machine with the shop (bench/hostile.py), so what they spend on
themselves shows in the shopper's figures as if the shop had spent it: each process makes
one key for its strangers and one TLS context for its clients (a fresh httpx client
loads the CA bundle, about 35 ms of CPU, more than the shop spends on a page), and each
attack request costs the attacker little beyond sending it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actor.http_auth import SignatureAuth
from actor.signatures import SigningKey
from bench.harness import counting, free_port

if TYPE_CHECKING:
    from bench._attackers import Attack, Target

AS2 = "application/activity+json"
AS = "https://www.w3.org/ns/activitystreams"
CONTEXT = [AS, "https://w3id.org/security/v1"]


@cache
def _tls() -> ssl.SSLContext:
    """One context for every client of this process (only loopback http is spoken)."""
    return ssl.create_default_context()


@cache
def _stranger_key() -> rsa.RSAPrivateKey:
    """One key for every stranger host of this process (about 70 ms of CPU to make)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Stranger:
    """A host on loopback that serves any actor `/actors/NAME`, all with one key."""

    base_url: str
    key: rsa.RSAPrivateKey

    def actor(self, name: str) -> str:
        return f"{self.base_url}/actors/{name}"

    def signed(
        self, target: Target, address: str, key_id: str, seen: Counter[int]
    ) -> httpx.AsyncClient:
        """A client signing with `key_id`, counting every status it is answered into `seen`."""
        transport = httpx.AsyncHTTPTransport(local_address=address, retries=0, verify=_tls())
        auth = SignatureAuth(SigningKey(key_id, self.key), double_knock=False)
        return httpx.AsyncClient(
            base_url=target.origin,
            transport=transport,
            auth=auth,
            timeout=30,
            event_hooks=counting(seen),
        )


def _actor_document(stranger: Stranger, actor_id: str) -> dict[str, Any]:
    pem = (
        stranger.key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return {
        "@context": CONTEXT,
        "id": actor_id,
        "type": "Person",
        "inbox": f"{actor_id}/inbox",
        "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": pem},
    }


@asynccontextmanager
async def stranger_host(address: str) -> AsyncIterator[Stranger]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((address, 0))
    stranger = Stranger(f"http://{address}:{sock.getsockname()[1]}", _stranger_key())

    async def actor(request: Request) -> Response:
        actor_id = stranger.actor(request.path_params["name"])
        return JSONResponse(_actor_document(stranger, actor_id), media_type=AS2)

    app = Starlette(routes=[Route("/actors/{name}", actor)])
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            serving.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    try:
        yield stranger
    finally:
        server.should_exit = True
        await serving


def _post(document: dict[str, Any]) -> dict[str, Any]:
    return {"content": json.dumps(document).encode(), "headers": {"Content-Type": AS2}}


async def unknown_key_ids(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    seen = Counter() if seen is None else seen
    nobody = f"http://{address}:{free_port()}"  # nothing listens there
    async with stranger_host(address) as stranger:
        for n in range(rounds):
            host = nobody if n % 2 else stranger.base_url
            actor = f"{host}/ghosts/{uuid.uuid4().hex}"  # a 404 on the stranger's host
            follow = {"@context": AS, "id": f"{actor}/follows/1", "type": "Follow"}
            follow |= {"actor": actor, "object": f"{target.origin}/actor"}
            async with stranger.signed(target, address, f"{actor}#main-key", seen) as http:
                await http.post("/inbox", **_post(follow))
    return seen


# As many scoped terms as fit under a stranger's 64 KiB (inbox/admission.py,
# STRANGER_MAX_BODY): ~61 KB a Follow. Larger ones are refused before any work.
HEAVY_TERMS = 40


def _heavy_context(terms: int = HEAVY_TERMS, scoped: int = 20) -> dict[str, Any]:
    """Property-scoped contexts, each with its own terms: cheap to send, dear to process."""
    ns = "https://stranger.example/ns#"
    return {
        "@version": 1.1,
        **{
            f"t{i}": {
                "@id": f"{ns}t{i}",
                "@context": {
                    f"u{j}": {"@id": f"{ns}u{i}-{j}", "@type": "@id"} for j in range(scoped)
                },
            }
            for i in range(terms)
        },
    }


async def heavy_json_ld(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    seen = Counter() if seen is None else seen
    context = [AS, _heavy_context()]
    async with stranger_host(address) as stranger:
        actor = stranger.actor("heavy")
        async with stranger.signed(target, address, f"{actor}#main-key", seen) as http:
            for n in range(rounds):
                follow: dict[str, Any] = {"@context": context, "type": "Follow"}
                follow |= {"id": f"{actor}/follows/{n}"}
                follow |= {"actor": actor, "object": f"{target.origin}/actor"}
                follow |= {f"t{i}": {f"u{i}": f"{actor}/x/{i}"} for i in range(HEAVY_TERMS)}
                await http.post("/inbox", **_post(follow))
    return seen


async def minted_likes(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    seen = Counter() if seen is None else seen
    async with stranger_host(address) as stranger:
        for _ in range(rounds):
            actor = stranger.actor(uuid.uuid4().hex)
            like = {"@context": AS, "id": f"{actor}/likes/1", "type": "Like"}
            like |= {"actor": actor, "object": f"{target.origin}/actor"}
            async with stranger.signed(target, address, f"{actor}#main-key", seen) as http:
                await http.post("/inbox", **_post(like))
    return seen


async def followers_with_unknown_key(
    target: Target, address: str, rounds: int, seen: Counter[int] | None = None
) -> Counter[int]:
    seen = Counter() if seen is None else seen
    async with stranger_host(address) as stranger:
        for _ in range(rounds):
            key_id = f"{stranger.base_url}/keys/{uuid.uuid4().hex}"  # a 404
            async with stranger.signed(target, address, key_id, seen) as http:
                await http.get("/followers", params={"page": "1"}, headers={"Accept": AS2})
    return seen


FEDERATION_ATTACKS: dict[str, Attack] = {
    "unknown-key-ids": unknown_key_ids,
    "heavy-json-ld": heavy_json_ld,
    "minted-likes": minted_likes,
    "followers-unknown-key": followers_with_unknown_key,
}
