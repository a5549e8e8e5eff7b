"""Object integrity proofs (FEP-8b32): a `DataIntegrityProof` with `eddsa-jcs-2022`.

An HTTP signature vouches for one delivery; a proof travels inside the object, so an
order forwarded by a third party can still be checked as ours. The cryptosuite is the
W3C one (Data Integrity EdDSA Cryptosuites v1.0, section "eddsa-jcs-2022"): hash the
RFC 8785 (JCS) form of the proof options and of the document without its proof with
SHA-256, sign the two hashes concatenated (options first) with Ed25519, and publish the
signature base58btc-multibase encoded as `proofValue`. The key is an Ed25519 Multikey
listed in the signer's `assertionMethod` (FEP-521a).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from actor.exceptions import ProofError
from actor.identity import LocalActor
from actor.multibase import b58decode, b58encode
from actor.verification import KeyResolver

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
ASSERTION_METHOD = "assertionMethod"


@dataclass(frozen=True)
class VerifiedProof:
    verification_method: str
    # The actor that controls the key, when a resolver found it; None with a bare key.
    controller: str | None
    created: str | None


def _jcs(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as error:
        # Integers beyond 2**53 and non-finite floats have no JCS form.
        raise ProofError(f"the document cannot be canonicalized (RFC 8785): {error}") from error


def hash_data(unsecured: Mapping[str, Any], options: Mapping[str, Any]) -> bytes:
    """The bytes signed: SHA-256 of the JCS proof options, then of the JCS document."""
    return hashlib.sha256(_jcs(options)).digest() + hashlib.sha256(_jcs(unsecured)).digest()


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_proof(
    document: Mapping[str, Any],
    private_key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    *,
    created: datetime | None = None,
    proof_context: list[Any] | None = None,
    purpose: str = ASSERTION_METHOD,
) -> dict[str, Any]:
    """A copy of `document` with a `proof` by `private_key`, named by `verification_method`.

    FEP-8b32 leaves `@context` out of an embedded proof (the document's context must
    then include https://w3id.org/security/data-integrity/v1); `proof_context` puts one
    in, as the W3C test vectors do.
    """
    if "proof" in document:
        raise ProofError("the document already carries a proof; proof sets are not supported")
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": purpose,
        "created": _timestamp(created or datetime.now(UTC)),
    }
    if proof_context is not None:
        options["@context"] = proof_context
    unsecured = dict(document)
    signature = private_key.sign(hash_data(unsecured, options))
    return {**unsecured, "proof": {**options, "proofValue": "z" + b58encode(signature)}}


def prove_as(
    actor: LocalActor, document: Mapping[str, Any], *, created: datetime | None = None
) -> dict[str, Any]:
    """`document` with our proof: our Ed25519 key, named by our assertionMethod key id."""
    return create_proof(
        document, actor.keys.ed25519.private, actor.assertion_key_id, created=created
    )


def proof_of(document: Mapping[str, Any]) -> dict[str, Any]:
    proof = document.get("proof")
    if proof is None:
        raise ProofError("the document carries no proof")
    if not isinstance(proof, dict):
        raise ProofError("only a single proof object is supported, not a proof set")
    return proof


def _checked_options(
    document: Mapping[str, Any], proof: Mapping[str, Any], purpose: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """The document without its proof, the proof options, and the signature."""
    if proof.get("type") != PROOF_TYPE:
        raise ProofError(f"the proof type is {proof.get('type')!r}, not {PROOF_TYPE}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"the cryptosuite is {proof.get('cryptosuite')!r}, not {CRYPTOSUITE}")
    if proof.get("proofPurpose") != purpose:
        raise ProofError(f"the proof purpose is {proof.get('proofPurpose')!r}, not {purpose}")
    if not isinstance(proof.get("verificationMethod"), str):
        raise ProofError("the proof names no verificationMethod")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("the proofValue is not base58btc multibase")
    try:
        signature = b58decode(value[1:])
    except ValueError as error:
        raise ProofError(f"the proofValue cannot be decoded: {error}") from error
    if len(signature) != 64:
        raise ProofError("the proofValue is not an Ed25519 signature")
    expires = proof.get("expires")
    if expires is not None and _parse_time(expires) <= now:
        raise ProofError("the proof has expired")
    if "created" in proof:
        _parse_time(proof["created"])
    options = {name: item for name, item in proof.items() if name != "proofValue"}
    unsecured = {name: item for name, item in document.items() if name != "proof"}
    if "@context" in options:
        # The document's context must begin with the proof's; the proof's is what was signed.
        proof_context = _as_list(options["@context"])
        if _as_list(unsecured.get("@context"))[: len(proof_context)] != proof_context:
            raise ProofError("the document's @context does not start with the proof's @context")
        unsecured["@context"] = options["@context"]
    return unsecured, options, signature


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ProofError(f"{value!r} is not a date-time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        # In UTC now, so no later comparison with it can step past year 9999 or before 1.
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        raise ProofError(f"{value!r} is not a date-time") from error


def verify_proof(
    document: Mapping[str, Any],
    public_key: ed25519.Ed25519PublicKey,
    *,
    purpose: str = ASSERTION_METHOD,
    now: datetime | None = None,
) -> VerifiedProof:
    """Check the document's proof against `public_key`; raises ProofError if it fails."""
    proof = proof_of(document)
    unsecured, options, signature = _checked_options(
        document, proof, purpose, now or datetime.now(UTC)
    )
    try:
        public_key.verify(signature, hash_data(unsecured, options))
    except InvalidSignature as error:
        raise ProofError("the proof does not verify: the document or proof was altered") from error
    created = proof.get("created")
    return VerifiedProof(
        proof["verificationMethod"], None, created if isinstance(created, str) else None
    )


async def verify_proof_with(
    document: Mapping[str, Any],
    keys: KeyResolver,
    *,
    purpose: str = ASSERTION_METHOD,
    now: datetime | None = None,
) -> VerifiedProof:
    """Check a third party's proof, fetching the Multikey its verificationMethod names.

    The answer's `controller` is the actor that lists the key; whether that actor may
    speak for this document (its `actor` or `attributedTo`) is the caller's decision.
    A cached key that fails is refetched once, for key rotation.
    """
    method = proof_of(document).get("verificationMethod")
    if not isinstance(method, str):
        raise ProofError("the proof names no verificationMethod")
    for refresh in (False, True):
        key = await keys.key_for(method, refresh=refresh)
        if key is None:
            raise ProofError(f"no key {method} is known or can be fetched")
        if not isinstance(key.public_key, ed25519.Ed25519PublicKey):
            raise ProofError(f"the key {method} is not an Ed25519 key")
        try:
            verified = verify_proof(document, key.public_key, purpose=purpose, now=now)
        except ProofError:
            if refresh or not key.cached:
                raise
            continue
        return VerifiedProof(verified.verification_method, key.owner, verified.created)
    raise AssertionError("unreachable: the second pass returns or raises")
