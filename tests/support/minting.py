"""A host that mints actors: many actor documents on one loopback server, one key for all.

What a sender does to escape a per-actor limit: every delivery comes from a fresh actor
IRI, each with a document we can fetch and a key that verifies.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.responses import JSONResponse

from actor.http_auth import SignatureAuth
from actor.signatures import SigningKey
from tests.support import loopback
from tests.support.peers import AS2, CONTEXT, RemotePeer


def minted_actor(peer: RemotePeer, number: int) -> str:
    """Publish actor number `number` on the peer's server; returns its IRI."""
    actor_id = f"{peer.base_url}/actors/{number}"
    document = {
        "@context": CONTEXT,
        "id": actor_id,
        "type": "Person",
        "inbox": f"{actor_id}/inbox",
        "publicKey": {
            "id": f"{actor_id}#main-key",
            "owner": actor_id,
            "publicKeyPem": peer.public_pem(),
        },
    }
    peer.app.serve(f"/actors/{number}", lambda _r: JSONResponse(document, media_type=AS2))
    return actor_id


async def deliver_as(
    peer: RemotePeer, actor_id: str, inbox: str, document: dict[str, Any]
) -> httpx.Response:
    """POST `document` to `inbox`, signed with the peer's key under `actor_id`'s key id."""
    auth = SignatureAuth(SigningKey(f"{actor_id}#main-key", peer.private), double_knock=False)
    async with loopback.client(auth=auth, timeout=10) as client:
        return await client.post(
            inbox, content=json.dumps(document).encode(), headers={"Content-Type": AS2}
        )


def like_from(peer: RemotePeer, actor_id: str, target: str) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": peer.new_id("likes"),
        "type": "Like",
        "actor": actor_id,
        "object": target,
    }


def follow_from(peer: RemotePeer, actor_id: str, target: str, **extra: Any) -> dict[str, Any]:
    """A Follow of `target` by `actor_id`, with any `extra` members (padding, say)."""
    return {
        "@context": CONTEXT,
        "id": peer.new_id("follows"),
        "type": "Follow",
        "actor": actor_id,
        "object": target,
        **extra,
    }
