"""Body digests: `Digest` (RFC 3230) and `Content-Digest` (RFC 9530).

A signature covers the digest header, not the body; only a digest that matches the
raw body bytes ties the two together. Checks answer a `DigestCheck` value rather
than raising, so the verification policy can say which way a digest failed.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import re
from collections.abc import Callable

import http_sf

# Algorithms we compute and accept, by their lower-cased token. RFC 3230 tokens are
# case-insensitive (peers send "SHA-256", "sha-256" and "Sha-256").
_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}


# One dictionary member whose value is a bare byte sequence, e.g. `sig1=:AAAA:`.
_BYTES_MEMBER = re.compile(r"\s*([a-z*][a-z0-9_.*-]*)=:([A-Za-z0-9+/]*={0,2}):\s*")


def parse_byte_sequences(value: str) -> dict[str, bytes]:
    """A structured-field dictionary of byte sequences (`Signature`, `Content-Digest`).

    The common shape is read with one regular expression: a general structured-field
    parser validates byte sequences a character at a time, which cost ~40 µs for an RSA
    signature. Anything else (parameters, other types) goes through http_sf. Raises
    ValueError.
    """
    members: dict[str, bytes] = {}
    for part in value.split(","):
        match = _BYTES_MEMBER.fullmatch(part)
        if match is None or match.group(1) in members:
            return _parse_with_sfv(value)
        try:
            members[match.group(1)] = base64.b64decode(match.group(2), validate=True)
        except binascii.Error as error:
            raise ValueError("not base64") from error
    return members


def _parse_with_sfv(value: str) -> dict[str, bytes]:
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except UnicodeEncodeError as error:
        raise ValueError("not ASCII") from error
    assert isinstance(parsed, dict)
    members: dict[str, bytes] = {}
    for name, member in parsed.items():
        item = member[0] if isinstance(member, tuple) else member
        if type(item) is not bytes:
            raise ValueError(f"{name} is not a byte sequence")
        members[name] = item
    return members


class DigestCheck(enum.Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    # Well-formed, but no algorithm we compute (e.g. only md5 or unixsum).
    UNSUPPORTED = "unsupported"
    MALFORMED = "malformed"


def digest_header(body: bytes) -> str:
    """The value of a `Digest` header for `body`, in the form Mastodon sends."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest_header(body: bytes) -> str:
    """The value of a `Content-Digest` header for `body` (RFC 9530, sha-256)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def check_digest(value: str, body: bytes) -> DigestCheck:
    """Compare an RFC 3230 `Digest` value (`token=base64[, ...]`) with `body`.

    Every supported algorithm listed must match; at least one must be supported.
    """
    checked = False
    for part in value.split(","):
        token, separator, encoded = part.strip().partition("=")
        if not separator or not token:
            return DigestCheck.MALFORMED
        algorithm = _HASHES.get(token.strip().lower())
        if algorithm is None:
            continue
        try:
            claimed = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return DigestCheck.MALFORMED
        if claimed != algorithm(body):
            return DigestCheck.MISMATCH
        checked = True
    return DigestCheck.MATCH if checked else DigestCheck.UNSUPPORTED


def check_content_digest(value: str, body: bytes) -> DigestCheck:
    """Compare an RFC 9530 `Content-Digest` dictionary with `body`."""
    try:
        parsed = parse_byte_sequences(value)
    except ValueError:
        return DigestCheck.MALFORMED
    checked = False
    for token, claimed in parsed.items():
        algorithm = _HASHES.get(token)
        if algorithm is None:
            continue
        if claimed != algorithm(body):
            return DigestCheck.MISMATCH
        checked = True
    return DigestCheck.MATCH if checked else DigestCheck.UNSUPPORTED
