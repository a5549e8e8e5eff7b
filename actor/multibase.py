"""Multibase/multicodec encoding of Ed25519 public keys (FEP-521a `Multikey`)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
# multicodec prefix for an ed25519 public key (varint of 0xed)
_ED25519_PUB = b"\xed\x01"


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(_ALPHABET[rest])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError(f"not a base58btc character: {char!r}")
        number = number * 58 + _INDEX[char]
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


def ed25519_multikey(public: ed25519.Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + b58encode(_ED25519_PUB + raw)


def ed25519_from_multikey(value: str) -> ed25519.Ed25519PublicKey:
    if not value.startswith("z"):
        raise ValueError("publicKeyMultibase must be base58btc ('z' prefix)")
    decoded = b58decode(value[1:])
    if not decoded.startswith(_ED25519_PUB) or len(decoded) != 34:
        raise ValueError("publicKeyMultibase is not an Ed25519 public key")
    return ed25519.Ed25519PublicKey.from_public_bytes(decoded[2:])
