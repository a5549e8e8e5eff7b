"""HTTP signatures: sign and verify through our core vs bare `cryptography` on the same bytes.

"Ours" is everything a request pays: for signing, building the message, the digest,
the Date, the signing string and the header; for verifying, the whole policy
(parse, coverage, time, digest of the body, key lookup, candidate signing strings)
with an in-memory key resolver. "Bare" signs or verifies the very signing string
ours produced, so the ratio is the core's own overhead.
"""

from __future__ import annotations

import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from actor.signature_types import sign_bytes, verify_bytes
from actor.signatures import (
    Message,
    PrivateKey,
    Scheme,
    SigningKey,
    parse_signature,
    sign_request,
    signing_strings,
)
from actor.verification import RemoteKey, Verified, verify_request
from bench.harness import Figure, rate, report

KEY_ID = "https://peer.example/actor#main-key"
URL = "https://cart.example/actor/inbox"
# About the size of one order delivery (PERFORMANCE.md's 1.6 KB).
BODY = b'{"type": "Create", "actor": "https://peer.example/actor", "object": ' + b'"x' * 780 + b'"}'


@dataclass
class OneKey:
    key: RemoteKey

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        return self.key


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never waits (in-memory resolver) without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("the coroutine waited for something")


def unsigned() -> Message:
    return Message.of(
        "POST",
        URL,
        {"Host": "cart.example", "Content-Type": "application/activity+json"},
        BODY,
    )


def measure(name: str, key: PrivateKey, scheme: Scheme, seconds: float) -> list[Figure]:
    signing = SigningKey(KEY_ID, key)
    now = time.time()
    added = sign_request(unsigned(), signing, scheme=scheme, now=now)
    signed = Message("POST", URL, {**unsigned().headers, **added}, BODY)
    parsed = parse_signature(signed)
    assert parsed is not None
    base = signing_strings(parsed, signed)[0]
    keys = OneKey(RemoteKey(KEY_ID, "https://peer.example/actor", key.public_key()))
    assert isinstance(run(verify_request(signed, keys, clock=lambda: now)), Verified)

    def ours_sign() -> None:
        sign_request(unsigned(), signing, scheme=scheme, now=now)

    def ours_verify() -> None:
        run(verify_request(signed, keys, clock=lambda: now))

    public = key.public_key()
    signature = parsed.signature
    return [
        Figure(
            f"sign {name}",
            rate(ours_sign, seconds=seconds),
            rate(lambda: sign_bytes(key, base), seconds=seconds),
            "ops/s",
        ),
        Figure(
            f"verify {name} (whole policy)",
            rate(ours_verify, seconds=seconds),
            rate(lambda: verify_bytes(public, base, signature), seconds=seconds),
            "ops/s",
        ),
    ]


def main(seconds: float = 1.0) -> list[Figure]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    figures: list[Figure] = []
    cases: list[tuple[str, PrivateKey, Scheme]] = [
        ("cavage rsa-sha256", rsa_key, Scheme.CAVAGE),
        ("rfc9421 rsa-v1_5-sha256", rsa_key, Scheme.RFC9421),
        ("cavage hs2019 ed25519", ed_key, Scheme.CAVAGE),
        ("rfc9421 ed25519", ed_key, Scheme.RFC9421),
    ]
    for name, key, scheme in cases:
        figures.extend(measure(name, key, scheme, seconds))
    extra = [f"{f.name:<44} overhead {1e6 / f.ours - 1e6 / f.baseline:8.1f} µs/op" for f in figures]
    report(
        "HTTP signatures: our core vs bare cryptography on the same signing strings", figures, extra
    )
    return figures


if __name__ == "__main__":
    main()
