"""A pool of real key pairs, generated once per test session and handed out in turn.

Consecutive draws are always different keys, which is all a test of rotation needs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import actor.keys

POOL_SIZE = 6
_rsa: list[rsa.RSAPrivateKey] = []
_cycle: Iterator[int] = itertools.cycle(range(POOL_SIZE))


def pooled_rsa() -> rsa.RSAPrivateKey:
    if not _rsa:
        _rsa.extend(
            rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(POOL_SIZE)
        )
    return _rsa[next(_cycle)]


def pooled_private_key(kind: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    return pooled_rsa() if kind == actor.keys.RSA else ed25519.Ed25519PrivateKey.generate()


def patch_key_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actor.keys, "new_private_key", pooled_private_key)
