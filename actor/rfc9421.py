"""RFC 9421 HTTP Message Signatures: `Signature-Input` and `Signature`.

The signature base is one `"component": value` line per covered component and a
final `"@signature-params"` line holding the serialized Signature-Input member
(RFC 9421 section 2.5). Structured fields (RFC 9651) are read with `http_sf`, the
maintained successor of the deprecated `http_sfv`, and the common shapes written here.
Components with parameters (`;sf`, `;key`, `;req`, `;bs`) are not supported: no peer
we federate with sends them, and refusing is safer than guessing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import http_sf

from actor.digests import content_digest_header, parse_byte_sequences
from actor.exceptions import MalformedSignature, MissingComponent
from actor.signature_types import (
    Message,
    ParsedSignature,
    Scheme,
    SigningKey,
    key_kind,
    sign_bytes,
)

LABEL = "sig1"
POST_COMPONENTS = ("@method", "@target-uri", "@authority", "content-digest")
GET_COMPONENTS = ("@method", "@target-uri", "@authority")
ALGORITHMS = {"rsa": "rsa-v1_5-sha256", "ed25519": "ed25519"}

_DERIVED: dict[str, Callable[[Message], str]] = {
    "@method": lambda m: m.method,
    "@target-uri": lambda m: f"{m.scheme}://{m.host}{m.target}",
    "@authority": lambda m: m.authority,
    "@scheme": lambda m: m.scheme,
    "@request-target": lambda m: m.target,
    "@path": lambda m: m.path,
    "@query": lambda m: f"?{m.query}",
}


def default_components(message: Message) -> tuple[str, ...]:
    return GET_COMPONENTS if message.method in ("GET", "HEAD") else POST_COMPONENTS


def _sf_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signature_params(covered: Sequence[str], params: Mapping[str, object]) -> str | None:
    """The `@signature-params` value: the serialized Signature-Input member.

    Written here for the plain strings, integers and booleans every signer uses
    (a general serializer cost ~13 µs a request); None for anything else.
    """
    parts = ["(" + " ".join(_sf_string(c) for c in covered) + ")"]
    for name, value in params.items():
        if isinstance(value, bool):
            parts.append(f";{name}" if value else f";{name}=?0")
        elif isinstance(value, int):
            parts.append(f";{name}={value}")
        elif type(value) is str:
            parts.append(f";{name}={_sf_string(value)}")
        else:
            return None
    return "".join(parts)


def sign(
    message: Message,
    key: SigningKey,
    *,
    now: float,
    components: Sequence[str] | None = None,
) -> dict[str, str]:
    """The header fields to add to `message` so that it carries an RFC 9421 signature."""
    covered = tuple(c.lower() for c in (components or default_components(message)))
    added: dict[str, str] = {}
    if "content-digest" in covered and "content-digest" not in message.headers:
        added["content-digest"] = content_digest_header(message.body)
    signed = Message(message.method, message.url, {**message.headers, **added}, message.body)
    params = signature_params(
        covered,
        {"created": int(now), "keyid": key.key_id, "alg": ALGORITHMS[key_kind(key.private_key)]},
    )
    assert params is not None
    signature = sign_bytes(key.private_key, signature_base(signed, covered, params))
    added["signature-input"] = f"{LABEL}={params}"
    added["signature"] = f"{LABEL}=:{base64.b64encode(signature).decode()}:"
    return added


def signature_base(message: Message, covered: Sequence[str], params: str) -> bytes:
    lines = [f'"{name}": {component_value(message, name)}' for name in covered]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


def component_value(message: Message, name: str) -> str:
    derived = _DERIVED.get(name)
    if derived is not None:
        return derived(message)
    if name.startswith("@"):
        raise MalformedSignature(f"unsupported derived component {name!r}")
    value = message.headers.get(name)
    if value is None:
        raise MissingComponent(name)
    return value


def _dictionary(value: str, header: str) -> dict[str, Any]:
    """Member name -> (value, parameters), as http_sf parses a dictionary."""
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except (ValueError, UnicodeEncodeError) as error:
        raise MalformedSignature(f"the {header} header is not a structured dictionary") from error
    assert isinstance(parsed, dict)
    return parsed


def parse(message: Message) -> ParsedSignature | None:
    """The first signature whose label appears in both Signature-Input and Signature."""
    inputs_value = message.headers.get("signature-input")
    if inputs_value is None:
        return None
    signatures_value = message.headers.get("signature")
    if signatures_value is None:
        raise MalformedSignature("Signature-Input without a Signature header")
    inputs = _dictionary(inputs_value, "Signature-Input")
    try:
        signatures = parse_byte_sequences(signatures_value)
    except ValueError as error:
        raise MalformedSignature(
            "the Signature header is not a dictionary of byte sequences"
        ) from error
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise MalformedSignature("no label appears in both Signature-Input and Signature")
    member, signature = inputs[label], signatures[label]
    items, params = member if isinstance(member, tuple) else (member, {})
    if not isinstance(items, list):
        raise MalformedSignature(f"signature input {label!r} is not an inner list")
    covered: list[str] = []
    for item in items:
        value, item_params = item if isinstance(item, tuple) else (item, {})
        if type(value) is not str or item_params:
            raise MalformedSignature("components must be plain strings without parameters")
        covered.append(value)
    key_id = params.get("keyid")
    if type(key_id) is not str or not key_id:
        raise MalformedSignature(f"signature {label!r} has no keyid")
    algorithm = params.get("alg")
    created, expires = params.get("created"), params.get("expires")
    for stamp in (created, expires):
        if stamp is not None and (not isinstance(stamp, int) or isinstance(stamp, bool)):
            raise MalformedSignature("created and expires must be integers")
    return ParsedSignature(
        scheme=Scheme.RFC9421,
        key_id=key_id,
        algorithm=algorithm.lower() if type(algorithm) is str else None,
        covered=tuple(covered),
        created=created,
        expires=expires,
        signature=signature,
        params=signature_params(covered, params) or http_sf.ser([(items, params)]),
        label=label,
    )


def signing_strings(parsed: ParsedSignature, message: Message) -> list[bytes]:
    return [signature_base(message, parsed.covered, parsed.params)]
