"""The pure HTTP signature core: sign and verify `(method, url, headers, body)`.

No web framework and no network in here (the Starlette adapter and the `httpx.Auth`
sit on top). Two schemes: draft-cavage-12 (`actor.cavage`) and RFC 9421
(`actor.rfc9421`), with their body digests in `actor.digests`. This module picks the
scheme and says which algorithm names go with which key; what counts as an
acceptable signature (coverage, time, digests, keys) is policy, in
`actor.verification`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from actor import cavage, rfc9421
from actor.signature_types import (
    Message,
    ParsedSignature,
    PrivateKey,
    PublicKey,
    Scheme,
    SigningKey,
    field_map,
    key_kind,
    verify_bytes,
)

__all__ = [
    "Message",
    "ParsedSignature",
    "PrivateKey",
    "PublicKey",
    "Scheme",
    "SigningKey",
    "algorithm_fits",
    "field_map",
    "is_known_algorithm",
    "parse_signature",
    "sign_request",
    "signing_strings",
    "verify_signature",
]

# Which key kinds each algorithm name may be used with; None is "not named".
# hs2019 ("derive it from the key") is what cavage signers send when they say nothing.
_ALGORITHMS: dict[Scheme, dict[str | None, frozenset[str]]] = {
    Scheme.CAVAGE: {
        None: frozenset({"rsa", "ed25519"}),
        "hs2019": frozenset({"rsa", "ed25519"}),
        "rsa-sha256": frozenset({"rsa"}),
        "ed25519": frozenset({"ed25519"}),
    },
    Scheme.RFC9421: {
        None: frozenset({"rsa", "ed25519"}),
        "rsa-v1_5-sha256": frozenset({"rsa"}),
        "ed25519": frozenset({"ed25519"}),
    },
}


def sign_request(
    message: Message,
    key: SigningKey,
    *,
    scheme: Scheme = Scheme.CAVAGE,
    now: float | None = None,
    covered: Sequence[str] | None = None,
) -> dict[str, str]:
    """The header fields (lower-case names) to add to `message` to sign it.

    Missing Date, Host, Digest or Content-Digest fields that the signature covers are
    among them. `covered` defaults to docs/protocol.md's set for the method and scheme.
    """
    stamp = time.time() if now is None else now
    if scheme is Scheme.RFC9421:
        return rfc9421.sign(message, key, now=stamp, components=covered)
    return cavage.sign(message, key, now=stamp, headers=covered)


def parse_signature(message: Message) -> ParsedSignature | None:
    """The message's signature, or None when it carries none.

    Signature-Input decides: with it the message is RFC 9421 (its `Signature` header
    is a dictionary), without it a `Signature` header is cavage (RFC 9421 appendix A).
    Raises MalformedSignature when the headers cannot be read.
    """
    if "signature-input" in message.headers:
        return rfc9421.parse(message)
    return cavage.parse(message)


def is_known_algorithm(parsed: ParsedSignature) -> bool:
    return parsed.algorithm in _ALGORITHMS[parsed.scheme]


def algorithm_fits(parsed: ParsedSignature, key: PublicKey) -> bool:
    """Whether the signature's algorithm name can be used with this kind of key."""
    kinds = _ALGORITHMS[parsed.scheme].get(parsed.algorithm)
    return kinds is not None and key_kind(key) in kinds


def signing_strings(parsed: ParsedSignature, message: Message) -> list[bytes]:
    """What the signer may have signed, likeliest first (cavage peers differ).

    Raises MissingComponent when a covered header is absent.
    """
    if parsed.scheme is Scheme.RFC9421:
        return rfc9421.signing_strings(parsed, message)
    return cavage.signing_strings(parsed, message)


def verify_signature(parsed: ParsedSignature, candidates: Sequence[bytes], key: PublicKey) -> bool:
    """Whether `key` signed any of the candidate signing strings."""
    if not algorithm_fits(parsed, key):
        return False
    return any(verify_bytes(key, candidate, parsed.signature) for candidate in candidates)
