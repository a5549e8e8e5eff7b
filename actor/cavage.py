"""draft-cavage-http-signatures-12: the `Signature` header most of the fediverse speaks.

The signing string is one `name: value` line per covered header, joined by "\\n",
where `(request-target)` is the lower-cased method and the request target. Peers
differ on whether the target includes the query string, and proxies on whether Host
keeps its port, so verification offers several candidate strings (`signing_strings`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from actor.digests import digest_header
from actor.exceptions import MalformedSignature, MissingComponent
from actor.signature_types import (
    Message,
    ParsedSignature,
    Scheme,
    SigningKey,
    key_kind,
    sign_bytes,
)
from vocab.numbers import parse_natural, parse_timestamp

POST_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")
GET_HEADERS = ("(request-target)", "host", "date")

# keyId="...", algorithm="...", created=1618884473, ...
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9]+(?:\.[0-9]+)?))\s*(?:,|$)')


def default_headers(message: Message) -> tuple[str, ...]:
    """What we sign: the docs/protocol.md set for requests with a body, and for GETs."""
    if message.method in ("GET", "HEAD"):
        return GET_HEADERS + (("accept",) if "accept" in message.headers else ())
    if "content-type" not in message.headers:
        return POST_HEADERS[:-1]
    return POST_HEADERS


def http_date(timestamp: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(timestamp), UTC), usegmt=True)


def sign(
    message: Message,
    key: SigningKey,
    *,
    now: float,
    headers: Sequence[str] | None = None,
) -> dict[str, str]:
    """The header fields to add to `message` so that it carries a cavage signature."""
    covered = tuple(h.lower() for h in (headers or default_headers(message)))
    added: dict[str, str] = {}
    if "host" in covered and "host" not in message.headers:
        added["host"] = message.host
    if "date" in covered and "date" not in message.headers:
        added["date"] = http_date(now)
    if "digest" in covered and "digest" not in message.headers:
        added["digest"] = digest_header(message.body)
    fields = {**message.headers, **added}
    lines = [
        _line(name, message, fields, message.target, fields.get("host", ""), None, None)
        for name in covered
    ]
    signature = sign_bytes(key.private_key, "\n".join(lines).encode())
    # Mastodon and most peers expect rsa-sha256 for RSA keys; hs2019 is the name for the rest.
    algorithm = "rsa-sha256" if key_kind(key.private_key) == "rsa" else "hs2019"
    added["signature"] = (
        f'keyId="{key.key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return added


def parse(message: Message) -> ParsedSignature | None:
    """The signature in the `Signature` header (or `Authorization: Signature ...`)."""
    value = message.headers.get("signature")
    if value is None:
        authorization = message.headers.get("authorization", "")
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "signature":
            return None
        value = rest
    params: dict[str, str] = {}
    position = 0
    value = value.strip()
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None or match.end() == position:
            raise MalformedSignature("the Signature header is not a list of name=value parameters")
        name = match.group(1)
        params[name.lower() if name != "keyId" else name] = (
            match.group(2) if match.group(2) is not None else match.group(3)
        )
        position = match.end()
    key_id, encoded = params.get("keyId"), params.get("signature")
    if not key_id or not encoded:
        raise MalformedSignature("the Signature header needs keyId and signature")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedSignature("the signature is not base64") from error
    # Without a headers parameter, cavage-12 says only the Date header is signed.
    covered = tuple(params.get("headers", "date").lower().split())
    algorithm = params.get("algorithm")
    return ParsedSignature(
        scheme=Scheme.CAVAGE,
        key_id=key_id,
        algorithm=algorithm.lower() if algorithm else None,
        covered=covered,
        created=_integer(params.get("created")),
        expires=_integer(params.get("expires")),
        signature=signature,
    )


def _integer(value: str | None) -> int | None:
    if value is None:
        return None
    seconds = parse_timestamp(value)
    if seconds is None:
        raise MalformedSignature(f"{value!r} is not a timestamp")
    return seconds


def signing_strings(parsed: ParsedSignature, message: Message) -> list[bytes]:
    """Candidate signing strings, the likeliest first: the target with its query string
    and the Host as received, then without the query, then Host without its port."""
    targets = [message.target]
    if message.query and "(request-target)" in parsed.covered:
        targets.append(message.path)
    hosts = [message.host]
    name, colon, port = message.host.rpartition(":")
    if colon and parse_natural(port) is not None and "host" in parsed.covered:
        hosts.append(name)
    return [
        "\n".join(
            _line(header, message, message.headers, target, host, parsed.created, parsed.expires)
            for header in parsed.covered
        ).encode()
        for host in hosts
        for target in targets
    ]


def _line(
    name: str,
    message: Message,
    fields: Mapping[str, str],
    target: str,
    host: str,
    created: int | None,
    expires: int | None,
) -> str:
    if name == "(request-target)":
        return f"(request-target): {message.method.lower()} {target}"
    if name == "host":
        return f"host: {host}"
    if name in ("(created)", "(expires)"):
        stamp = created if name == "(created)" else expires
        if stamp is None:
            raise MissingComponent(name)
        return f"{name}: {stamp}"
    value = fields.get(name)
    if value is None:
        raise MissingComponent(name)
    return f"{name}: {value}"
