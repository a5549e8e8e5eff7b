"""FEP-8b32 object integrity proofs (eddsa-jcs-2022): published vectors, round trips, tampering."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from actor.documents import actor_document
from actor.exceptions import ProofError
from actor.fetch import Fetcher, FetchSettings
from actor.identity import LocalActor
from actor.keys import Ed25519Key, LocalKeys, RsaKey
from actor.multibase import b58decode, ed25519_from_multikey, ed25519_multikey
from actor.proofs import create_proof, prove_as, verify_proof, verify_proof_with
from actor.remote import RemoteActors
from actor.verification import RemoteKey
from store import Database
from tests.actor.loopback import running_peer

DATA = Path(__file__).parent.parent / "data"
W3C = json.loads((DATA / "eddsa-jcs-2022-w3c.json").read_text())
FEP = json.loads((DATA / "fep-8b32.json").read_text())
CART = "https://cart.test/actor"
ORDER = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1",
    ],
    "id": "https://cart.test/orders/7f1e",
    "type": ["Object", "Order"],
    "attributedTo": CART,
    "orderNumber": "RA-000123",
    "total": {"type": "MonetaryAmount", "amount": "32.00", "currency": "GBP"},
    "items": [{"type": "OrderItem", "quantity": 2, "name": "Sourdough loaf ü"}],
}


def private_from_multibase(value: str) -> ed25519.Ed25519PrivateKey:
    decoded = b58decode(value[1:])
    assert decoded[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return ed25519.Ed25519PrivateKey.from_private_bytes(decoded[2:])


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_w3c_eddsa_jcs_2022_vector_verifies() -> None:
    public = ed25519_from_multikey(W3C["keyPair"]["publicKeyMultibase"])
    verified = verify_proof(W3C["signed"], public)
    assert verified.verification_method == W3C["signed"]["proof"]["verificationMethod"]


def test_signing_the_w3c_vector_document_gives_its_exact_proof_value() -> None:
    signed = W3C["signed"]
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    ours = create_proof(
        unsigned,
        private_from_multibase(W3C["keyPair"]["privateKeyMultibase"]),
        signed["proof"]["verificationMethod"],
        created=when(signed["proof"]["created"]),
        proof_context=signed["@context"],
    )
    assert ours == signed


def test_the_fep_8b32_vector_is_reproduced_and_verifies() -> None:
    key = private_from_multibase(FEP["privateKeyMultibase"])
    ours = create_proof(FEP["document"], key, FEP["keyId"], created=when(FEP["created"]))
    assert ours == FEP["signed"]
    multikey = FEP["actor"]["assertionMethod"][0]["publicKeyMultibase"]
    assert ed25519_multikey(key.public_key()) == multikey
    assert verify_proof(FEP["signed"], ed25519_from_multikey(multikey)).created == FEP["created"]


def test_an_order_we_sign_verifies_with_the_multikey_in_our_actor_document() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signed = create_proof(ORDER, key, f"{CART}#ed25519-key")
    assert signed["proof"]["proofPurpose"] == "assertionMethod"
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    # Forwarded through a third party: re-serialized with other key order and spacing.
    forwarded = json.loads(json.dumps(dict(reversed(list(signed.items()))), indent=3))
    public = ed25519_from_multikey(ed25519_multikey(key.public_key()))
    assert verify_proof(forwarded, public).verification_method == f"{CART}#ed25519-key"
    assert "proof" not in ORDER


def test_our_proof_names_the_assertion_key_our_actor_document_publishes() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    rsa_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = LocalKeys(rsa=RsaKey("unused", rsa_private), ed25519=Ed25519Key("unused", ed))
    cart = LocalActor(base_url="https://cart.test", username="cart", name="Cart", keys=keys)
    signed = prove_as(cart, {**ORDER, "attributedTo": cart.id})

    published = actor_document(cart)["assertionMethod"]
    method = next(m for m in published if m["id"] == signed["proof"]["verificationMethod"])
    assert method["type"] == "Multikey" and method["controller"] == cart.id
    verify_proof(signed, ed25519_from_multikey(method["publicKeyMultibase"]))


def _tampered(change: str) -> dict[str, Any]:
    document = copy.deepcopy(FEP["signed"])
    if change == "content":
        document["object"]["content"] = "Hello world!"
    elif change == "added member":
        document["to"] = ["https://www.w3.org/ns/activitystreams#Public"]
    elif change == "context":
        document["@context"] = document["@context"][:1]
    elif change == "created":
        document["proof"]["created"] = "2023-02-24T23:36:39Z"
    elif change == "verification method":
        document["proof"]["verificationMethod"] = "https://server.example/users/bob#ed25519-key"
    elif change == "signature":
        value = document["proof"]["proofValue"]
        document["proof"]["proofValue"] = (
            value[:-2] + ("3" if value[-2] != "3" else "4") + value[-1]
        )
    return document


@pytest.mark.parametrize(
    "change", ["content", "added member", "context", "created", "verification method", "signature"]
)
def test_any_change_to_a_signed_document_is_detected(change: str) -> None:
    public = ed25519_from_multikey(FEP["actor"]["assertionMethod"][0]["publicKeyMultibase"])
    with pytest.raises(ProofError, match="does not verify|proofValue"):
        verify_proof(_tampered(change), public)


@pytest.mark.parametrize(
    ("member", "value", "reason"),
    [
        ("cryptosuite", "eddsa-rdfc-2022", "cryptosuite"),
        ("type", "Ed25519Signature2020", "proof type"),
        ("proofPurpose", "authentication", "purpose"),
        ("proofValue", "u" + "A" * 86, "multibase"),
        ("expires", "2024-01-01T00:00:00Z", "expired"),
        ("expires", "9999-12-31T23:59:59-14:00", "not a date-time"),  # past year 9999 in UTC
        ("created", "0001-01-01T00:00:00+14:00", "not a date-time"),
        ("@context", ["https://example.org/other"], "@context"),
    ],
)
def test_proofs_we_cannot_accept_say_why(member: str, value: Any, reason: str) -> None:
    document = copy.deepcopy(FEP["signed"])
    document["proof"][member] = value
    public = ed25519_from_multikey(FEP["actor"]["assertionMethod"][0]["publicKeyMultibase"])
    with pytest.raises(ProofError, match=reason):
        verify_proof(document, public, now=datetime(2026, 11, 24, tzinfo=UTC))


def test_the_wrong_key_does_not_verify() -> None:
    with pytest.raises(ProofError, match="does not verify"):
        verify_proof(FEP["signed"], ed25519.Ed25519PrivateKey.generate().public_key())


def test_a_document_without_a_proof_or_with_a_proof_set_is_refused() -> None:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(ProofError, match="no proof"):
        verify_proof(FEP["document"], public)
    with pytest.raises(ProofError, match="proof set"):
        verify_proof({**FEP["document"], "proof": [FEP["signed"]["proof"]]}, public)
    with pytest.raises(ProofError, match="already carries"):
        create_proof(FEP["signed"], ed25519.Ed25519PrivateKey.generate(), FEP["keyId"])


def test_numbers_without_a_canonical_form_are_refused_when_signing() -> None:
    with pytest.raises(ProofError, match="RFC 8785"):
        create_proof({"n": 2**60}, ed25519.Ed25519PrivateKey.generate(), FEP["keyId"])


class Keys:
    """A resolver that hands out a stale key first, as a cache would after a rotation."""

    def __init__(self, *keys: RemoteKey) -> None:
        self.keys = list(keys)
        self.asked: list[bool] = []

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        self.asked.append(refresh)
        return self.keys[min(len(self.asked) - 1, len(self.keys) - 1)]


async def test_a_third_partys_proof_is_checked_with_its_key_refetched_once_after_rotation() -> None:
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    key_id = "https://calendar.example/actor#ed25519-key"
    signed = create_proof(ORDER, new, key_id)
    keys = Keys(
        RemoteKey(key_id, "https://calendar.example/actor", old.public_key()),
        RemoteKey(key_id, "https://calendar.example/actor", new.public_key(), cached=False),
    )
    verified = await verify_proof_with(signed, keys)
    assert verified.controller == "https://calendar.example/actor"
    assert keys.asked == [False, True]


async def test_an_rsa_key_cannot_vouch_for_an_eddsa_proof() -> None:
    key_id = "https://calendar.example/actor#main-key"
    signed = create_proof(ORDER, ed25519.Ed25519PrivateKey.generate(), key_id)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(ProofError, match="not an Ed25519 key"):
        await verify_proof_with(
            signed, Keys(RemoteKey(key_id, "https://calendar.example/actor", rsa_key))
        )


async def test_a_proof_is_checked_against_the_multikey_a_real_peer_publishes(db: Database) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    async with running_peer() as peer:
        actor_id = peer.url("/actor")
        peer.serve_json(
            "/actor",
            {
                "id": actor_id,
                "type": "Service",
                "inbox": f"{actor_id}/inbox",
                "assertionMethod": [
                    {
                        "id": f"{actor_id}#ed25519-key",
                        "type": "Multikey",
                        "controller": actor_id,
                        "publicKeyMultibase": ed25519_multikey(key.public_key()),
                    }
                ],
            },
        )
        signed = create_proof({**ORDER, "attributedTo": actor_id}, key, f"{actor_id}#ed25519-key")
        fetcher = Fetcher(FetchSettings(allow_private=True))
        try:
            verified = await verify_proof_with(signed, RemoteActors(db, fetcher))
            tampered = {**signed, "orderNumber": "RA-999999"}
            with pytest.raises(ProofError, match="does not verify"):
                await verify_proof_with(tampered, RemoteActors(db, fetcher))
        finally:
            await fetcher.aclose()
    assert verified.controller == actor_id
    assert peer.hits["/actor"] == 1
