"""What both signature schemes share: the message, keys, the parsed signature, the maths.

A `Message` is a request reduced to what a signature can cover: method, absolute URL
(as sent or received, percent-encoding untouched), header fields and raw body. Header
names are lower-cased and repeated fields joined with ", " once, here, so neither
scheme has to think about it again.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import SplitResult, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class Scheme(enum.StrEnum):
    CAVAGE = "cavage"  # draft-cavage-http-signatures-12
    RFC9421 = "rfc9421"

    @property
    def other(self) -> Scheme:
        return Scheme.RFC9421 if self is Scheme.CAVAGE else Scheme.CAVAGE


def field_map(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased names; a field sent on several lines becomes one comma-joined value."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    fields: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        value = value.strip()
        fields[key] = f"{fields[key]}, {value}" if key in fields else value
    return fields


@dataclass(frozen=True)
class Message:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""

    @classmethod
    def of(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes = b"",
    ) -> Message:
        return cls(method.upper(), url, field_map(headers), body)

    @cached_property
    def _parts(self) -> SplitResult:
        return urlsplit(self.url)

    @property
    def scheme(self) -> str:
        return self._parts.scheme.lower()

    @property
    def path(self) -> str:
        return self._parts.path or "/"

    @property
    def query(self) -> str:
        return self._parts.query

    @property
    def target(self) -> str:
        """The request target as sent: path and, when there is one, the query."""
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def host(self) -> str:
        """The Host header as received, or the URL's authority when there is none."""
        return self.headers.get("host") or self._parts.netloc

    @property
    def authority(self) -> str:
        """RFC 9421 `@authority`: the host lower-cased, without a default port."""
        host = self.host.lower()
        name, colon, port = host.rpartition(":")
        if colon and not name.endswith("]") and "]" not in port:
            if port == _DEFAULT_PORTS.get(self.scheme):
                return name
        return host


@dataclass(frozen=True)
class SigningKey:
    """Our private key and the keyId peers fetch its public half from."""

    key_id: str
    private_key: PrivateKey = field(repr=False)


@dataclass(frozen=True)
class ParsedSignature:
    """A signature read from a message, before anything about it is trusted."""

    scheme: Scheme
    key_id: str
    # Lower-cased as sent; None when the signer named none (cavage: hs2019).
    algorithm: str | None
    # Cavage: header names and pseudo-headers; RFC 9421: component names.
    covered: tuple[str, ...]
    created: int | None
    expires: int | None
    signature: bytes = field(repr=False)
    # RFC 9421 only: the serialized `@signature-params` value.
    params: str = ""
    label: str = ""


def key_kind(key: PublicKey | PrivateKey) -> str:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "rsa"
    return "ed25519"


def sign_bytes(key: PrivateKey, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 SHA-256 for RSA (what fediverse peers verify), else Ed25519."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, _PKCS1, _SHA256)
    return key.sign(data)


def verify_bytes(key: PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, _PKCS1, _SHA256)
        else:
            key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
