"""What the common servers send a cart actor, in their own shapes, answered as the contract says.

tests/data/servers/shapes.json holds, per server (Mastodon, Misskey, Akkoma/Pleroma,
GoToSocial, PeerTube, Lemmy, activitypub-express, Fedify, bovine), how it signs (keyId
form, scheme, algorithm label, covered headers, digest spelling, content type) and how
its messages look. Each server is a real loopback peer serving its actor (and, for
GoToSocial, a separate key document); the deliveries are signed here, independently of
our own signer, exactly in that server's shape. Every server then walks the same table:
Follow, Like, Announce, Create of a Note, Update of itself, Undo of its Follow with the
Follow's id and without it, and Delete of itself (by IRI or with a Tombstone): each is
answered 202 and has the effect docs/protocol.md promises.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from sqlalchemy import select

from actor.multibase import ed25519_multikey
from actor.remote import RemoteActorRow
from inbox.models import InboxActivity, InboxStatus
from outbox.models import Follower
from outbox.states import FollowerState
from tests.actor.loopback import Peer, pem, running_peer
from tests.support.inbox_peers import Served
from tests.support.keypool import pooled_rsa
from tests.support.loopback import client

SHAPES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "servers" / "shapes.json").read_text()
)
AS2 = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS2}#Public"
_numbers = itertools.count(1)


class Server:
    """One server's actor on a loopback peer, signing and shaping as that server does."""

    def __init__(self, name: str, peer: Peer) -> None:
        self.name, self.shape, self.peer = name, SHAPES[name], peer
        self.rsa: rsa.RSAPrivateKey = pooled_rsa()
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.origin = peer.base_url
        self.actor = peer.url(self.shape["actor_path"])

    @property
    def key_id(self) -> str:
        return {
            "fragment": f"{self.actor}#main-key",
            "bare": self.actor,
            "document": self.peer.url(self.shape.get("key_path", "")),
            "multikey": f"{self.actor}#ed25519-key",
        }[self.shape["key"]]

    def actor_document(self) -> dict[str, Any]:
        main_key = (
            self.key_id
            if self.shape["key"] in ("fragment", "document")
            else f"{self.actor}#main-key"
        )
        return {
            "@context": [AS2, "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": self.shape["actor_type"],
            "preferredUsername": "alice",
            "inbox": f"{self.actor}/inbox",
            "outbox": f"{self.actor}/outbox",
            "endpoints": {"sharedInbox": f"{self.origin}/inbox"},
            "publicKey": {"id": main_key, "owner": self.actor, "publicKeyPem": pem(self.rsa)},
            "assertionMethod": [
                {
                    "id": f"{self.actor}#ed25519-key",
                    "type": "Multikey",
                    "controller": self.actor,
                    "publicKeyMultibase": ed25519_multikey(self.ed.public_key()),
                }
            ],
        }

    def publish(self) -> None:
        self.peer.serve_json(self.shape["actor_path"], self.actor_document())
        if self.shape["key"] == "document":  # GoToSocial: the key at its own URL, a stub
            stub = {k: v for k, v in self.actor_document().items() if k != "assertionMethod"}
            stub.pop("inbox"), stub.pop("outbox"), stub.pop("endpoints")
            self.peer.serve_json(self.shape["key_path"], stub)

    def new_id(self, kind: str) -> str:
        n = next(_numbers)
        return self.shape["ids"][kind].format(
            origin=self.origin,
            actor=self.actor,
            n=n,
            uuid=uuid.uuid4(),
            ulid=f"01J{n:023d}",
            hex=uuid.uuid4().hex,
        )

    def _sign(self, data: bytes) -> bytes:
        if self.shape["key"] == "multikey":
            return self.ed.sign(data)
        return self.rsa.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def signed_headers(self, url: str, body: bytes) -> dict[str, str]:
        parts = urlsplit(url)
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        fields = {
            "host": parts.netloc,
            "date": formatdate(usegmt=True),
            "content-type": self.shape["content_type"],
            "content-length": str(len(body)),
        }
        if self.shape["scheme"] == "rfc9421":
            fields["content-digest"] = f"{self.shape['digest']}=:{digest}:"
            derived = {"@method": "POST", "@target-uri": url, "@authority": parts.netloc}
            components = self.shape["components"]
            params = (
                "(" + " ".join(f'"{c}"' for c in components) + ")"
                f';created={int(time.time())};keyid="{self.key_id}";alg="{self.shape["algorithm"]}"'
            )
            lines = [f'"{c}": {derived.get(c) or fields[c]}' for c in components]
            base = "\n".join([*lines, f'"@signature-params": {params}']).encode()
            signature = base64.b64encode(self._sign(base)).decode()
            fields["signature-input"] = f"sig1={params}"
            fields["signature"] = f"sig1=:{signature}:"
            return fields
        fields["digest"] = f"{self.shape['digest']}={digest}"
        covered = self.shape["headers"]
        lines = [
            f"(request-target): post {parts.path}"
            if h == "(request-target)"
            else f"{h}: {fields[h]}"
            for h in covered
        ]
        signature = base64.b64encode(self._sign("\n".join(lines).encode())).decode()
        fields["signature"] = (
            f'keyId="{self.key_id}",algorithm="{self.shape["algorithm"]}",'
            f'headers="{" ".join(covered)}",signature="{signature}"'
        )
        return fields

    async def deliver(self, inbox: str, activity: dict[str, Any]) -> httpx.Response:
        body = json.dumps({"@context": [AS2, "https://w3id.org/security/v1"], **activity}).encode()
        async with client(timeout=10) as http:
            return await http.post(inbox, content=body, headers=self.signed_headers(inbox, body))

    # -- the messages, as this server shapes them ----------------------------------------

    def follow(self, cart: str) -> dict[str, Any]:
        return {"id": self.new_id("Follow"), "type": "Follow", "actor": self.actor, "object": cart}

    def undo(self, follow: dict[str, Any], *, with_id: bool) -> dict[str, Any]:
        undone = {"type": "Follow", "actor": self.actor, "object": follow["object"]}
        if with_id:
            undone["id"] = follow["id"]
        return {"id": self.new_id("Undo"), "type": "Undo", "actor": self.actor, "object": undone}

    def like(self, cart: str) -> dict[str, Any]:
        return {"id": self.new_id("Like"), "type": "Like", "actor": self.actor, "object": cart}

    def announce(self) -> dict[str, Any]:
        note = f"{self.origin}/notes/{next(_numbers)}"
        return {
            "id": self.new_id("Announce"),
            "type": "Announce",
            "actor": self.actor,
            "to": [PUBLIC],
            "object": note,
        }

    def create_note(self, cart: str) -> dict[str, Any]:
        note = f"{self.origin}/notes/{next(_numbers)}"
        return {
            "id": self.new_id("Create"),
            "type": "Create",
            "actor": self.actor,
            "to": [cart],
            "object": {
                "id": note,
                "type": "Note",
                "attributedTo": self.actor,
                "to": [cart],
                "content": "<p>@cart is my bread order in?</p>",
                "tag": [{"type": "Mention", "href": cart, "name": "@cart"}],
            },
        }

    def update_self(self) -> dict[str, Any]:
        document = {k: v for k, v in self.actor_document().items() if k != "@context"}
        document["name"] = "Alice, renamed"
        return {
            "id": self.new_id("Update"),
            "type": "Update",
            "actor": self.actor,
            "to": [PUBLIC],
            "object": document,
        }

    def delete_note(self) -> dict[str, Any]:
        note = f"{self.origin}/notes/{next(_numbers)}"
        gone: Any = note
        if self.shape["delete_actor"] == "tombstone":
            gone = {"id": note, "type": "Tombstone"}
        return {
            # Some servers' Delete ids are fixed per actor ("{actor}#delete" is Mastodon's
            # for the actor itself); a post's deletion is named after the post.
            "id": f"{note}#delete",
            "type": "Delete",
            "actor": self.actor,
            "to": [PUBLIC],
            "object": gone,
        }

    def delete_self(self) -> dict[str, Any]:
        gone: Any = self.actor
        if self.shape["delete_actor"] == "tombstone":
            gone = {"id": self.actor, "type": "Tombstone"}
        return {
            "id": self.new_id("Delete"),
            "type": "Delete",
            "actor": self.actor,
            "to": [PUBLIC],
            "object": gone,
        }


@pytest.fixture(params=sorted(SHAPES))
async def server(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    async with running_peer() as peer:
        made = Server(request.param, peer)
        made.publish()
        yield made


async def stored(served: Served, ap_id: str) -> InboxActivity:
    async with served.db.sessions() as session:
        row = await session.scalar(select(InboxActivity).where(InboxActivity.ap_id == ap_id))
    assert row is not None, f"{ap_id} was not stored"
    return row


async def follower_state(served: Served, actor: str) -> str | None:
    async with served.db.sessions() as session:
        row = await session.get(Follower, actor)
        return row.state if row is not None else None


async def test_each_server_is_answered_as_the_contract_says(served: Served, server: Server) -> None:
    cart = f"{served.base_url}/actor"
    worker = served.app.state.federation.inbox_worker

    async def deliver(activity: dict[str, Any], *, handled: bool) -> InboxActivity:
        answer = await server.deliver(served.inbox, activity)
        assert answer.status_code == 202, f"{server.name} {activity['type']}: {answer.text}"
        if handled:
            assert await worker.step() == 1
        return await stored(served, activity["id"])

    follow = server.follow(cart)
    await deliver(follow, handled=True)
    assert await follower_state(served, server.actor) == FollowerState.PENDING

    # What a cart has no use for is acknowledged and kept only as a line in the log.
    for ignored in (
        server.like(cart),
        server.announce(),
        server.create_note(cart),
        server.delete_note(),
    ):
        row = await deliver(ignored, handled=False)
        assert row.status == InboxStatus.IGNORED, ignored["type"]
        assert "content" not in row.body and len(row.body) < 1024

    row = await deliver(server.update_self(), handled=True)
    assert row.status == InboxStatus.DONE
    async with served.db.sessions() as session:
        cached = await session.get(RemoteActorRow, server.actor)
    assert cached is not None and cached.fetched_at is None  # refetched at next use

    # The Undo names the Follow with its id, and (as Fedify does) without it.
    await deliver(server.undo(follow, with_id=True), handled=True)
    assert await follower_state(served, server.actor) == FollowerState.REMOVED
    again = server.follow(cart)
    await deliver(again, handled=True)
    assert await follower_state(served, server.actor) == FollowerState.PENDING
    await deliver(server.undo(again, with_id=False), handled=True)
    assert await follower_state(served, server.actor) == FollowerState.REMOVED

    await deliver(server.follow(cart), handled=True)
    await deliver(server.delete_self(), handled=True)
    assert await follower_state(served, server.actor) == FollowerState.REMOVED
    async with served.db.sessions() as session:
        gone = await session.get(RemoteActorRow, server.actor)
    assert gone is not None and gone.gone_at is not None


def test_the_table_covers_every_shape_the_issue_names() -> None:
    keys = {shape["key"] for shape in SHAPES.values()}
    assert {"fragment", "bare", "document", "multikey"} <= keys
    assert {shape["scheme"] for shape in SHAPES.values()} == {"cavage", "rfc9421"}
    assert {shape["delete_actor"] for shape in SHAPES.values()} == {"iri", "tombstone"}
    assert {shape["undo_embeds_follow_id"] for shape in SHAPES.values()} == {True, False}
    assert len({shape["content_type"] for shape in SHAPES.values()}) > 1
