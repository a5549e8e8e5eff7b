"""Published test vectors: RFC 9421 (appendix B.2.6, section 4.3), draft-cavage-12
appendix C, and the RFC 9530 digest examples. The data and where it comes from are in
tests/data/http_signatures/vectors.json."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from actor import rfc9421
from actor.digests import (
    DigestCheck,
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
    parse_byte_sequences,
)
from actor.signature_types import sign_bytes
from actor.signatures import (
    Message,
    PrivateKey,
    parse_signature,
    signing_strings,
    verify_signature,
)

DATA = Path(__file__).parent.parent / "data" / "http_signatures"
VECTORS = json.loads((DATA / "vectors.json").read_text())
HELLO = b'{"hello": "world"}'


def private_key(name: str) -> PrivateKey:
    key = serialization.load_pem_private_key((DATA / name).read_bytes(), password=None)
    assert isinstance(key, PrivateKey)
    return key


def vector_message(vector: dict[str, Any], extra: list[tuple[str, str]] | None = None) -> Message:
    headers = [tuple(pair) for pair in vector["headers"]] + (extra or [])
    return Message.of(vector["method"], vector["url"], headers, vector["body"].encode())


@pytest.mark.parametrize("vector", VECTORS["rfc9421"], ids=lambda v: v["name"])
def test_rfc9421_published_signature_verifies_over_the_published_base(
    vector: dict[str, Any],
) -> None:
    message = vector_message(
        vector,
        [
            ("Signature-Input", f"{vector['label']}={vector['signature_params']}"),
            ("Signature", f"{vector['label']}=:{vector['signature']}:"),
        ],
    )
    parsed = parse_signature(message)
    assert parsed is not None and parsed.label == vector["label"]

    bases = signing_strings(parsed, message)

    assert bases == [vector["signature_base"].encode()]
    assert verify_signature(parsed, bases, private_key(vector["key"]).public_key())


@pytest.mark.parametrize("vector", VECTORS["rfc9421"], ids=lambda v: v["name"])
def test_rfc9421_our_signer_reproduces_the_published_signature(vector: dict[str, Any]) -> None:
    # Ed25519 and RSASSA-PKCS1-v1_5 are deterministic: same key and base, same bytes.
    message = vector_message(vector)
    key = private_key(vector["key"])

    base = rfc9421.signature_base(message, vector["components"], vector["signature_params"])

    assert base == vector["signature_base"].encode()
    assert base64.b64encode(sign_bytes(key, base)).decode() == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS["cavage"], ids=lambda v: v["name"])
def test_cavage_appendix_c_signatures_verify(vector: dict[str, Any]) -> None:
    request = VECTORS["cavage_request"]
    message = vector_message(request, [("Authorization", "Signature " + vector["signature"])])
    parsed = parse_signature(message)
    assert parsed is not None

    bases = signing_strings(parsed, message)

    assert bases[0] == vector["signing_string"].encode()
    assert verify_signature(parsed, bases, private_key(request["key"]).public_key())


def test_a_tampered_published_signature_does_not_verify() -> None:
    vector = VECTORS["rfc9421"][0]
    message = vector_message(
        vector,
        [
            ("Signature-Input", f"{vector['label']}={vector['signature_params']}"),
            ("Signature", f"{vector['label']}=:{vector['signature']}:"),
        ],
    )
    tampered = Message(
        message.method, message.url.replace("/foo", "/bar"), message.headers, message.body
    )
    parsed = parse_signature(tampered)
    assert parsed is not None

    assert not verify_signature(
        parsed, signing_strings(parsed, tampered), private_key(vector["key"]).public_key()
    )


def test_rfc9530_and_rfc3230_digest_examples() -> None:
    # RFC 9530 section 2 and draft-cavage appendix C: the digests of {"hello": "world"}.
    assert content_digest_header(HELLO) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    assert digest_header(HELLO) == "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
    sha512 = (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWn"
        "rIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
    )
    assert check_content_digest(sha512, HELLO) is DigestCheck.MATCH


@pytest.mark.parametrize(
    ("value", "body", "outcome"),
    [
        ("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", HELLO, DigestCheck.MATCH),
        ("sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", HELLO, DigestCheck.MATCH),
        ("Sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", HELLO, DigestCheck.MATCH),
        (
            "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
            HELLO + b" ",
            DigestCheck.MISMATCH,
        ),
        ("MD5=Sd/dVLAcvNLSq16eXua5uQ==", HELLO, DigestCheck.UNSUPPORTED),
        ("SHA-256", HELLO, DigestCheck.MALFORMED),
        ("SHA-256=not base64!", HELLO, DigestCheck.MALFORMED),
    ],
)
def test_digest_header_checks(value: str, body: bytes, outcome: DigestCheck) -> None:
    assert check_digest(value, body) is outcome


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:", DigestCheck.MATCH),
        (content_digest_header(b"another body"), DigestCheck.MISMATCH),
        ("md5=:Sd/dVLAcvNLSq16eXua5uQ==:", DigestCheck.UNSUPPORTED),
        ("sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", DigestCheck.MALFORMED),
    ],
)
def test_content_digest_checks(value: str, outcome: DigestCheck) -> None:
    assert check_content_digest(value, HELLO) is outcome


def test_byte_sequence_dictionaries_in_their_less_common_shapes() -> None:
    assert parse_byte_sequences("sig1=:AAAA:, sig2=:AQID:") == {
        "sig1": b"\0\0\0",
        "sig2": b"\1\2\3",
    }
    # Parameters on a member take the structured-field parser's path.
    assert parse_byte_sequences("sig1=:AQID:;x=1") == {"sig1": b"\1\2\3"}
    for bad in ("sig1=AQID", "sig1=:AQID", "sig1=:A Q:", 'sig1="text"'):
        with pytest.raises(ValueError):
            parse_byte_sequences(bad)


def test_signature_params_with_a_token_are_serialized_by_the_structured_field_library() -> None:
    vector = VECTORS["rfc9421"][0]
    params = vector["signature_params"] + ";tag=web-bot-auth"
    message = vector_message(
        vector, [("Signature-Input", f"s={params}"), ("Signature", f"s=:{vector['signature']}:")]
    )

    parsed = parse_signature(message)

    assert parsed is not None and parsed.params.endswith(";tag=web-bot-auth")


@pytest.mark.parametrize(
    "params",
    [
        '("@method" "@target-uri");created=1618884473;keyid="k";tag=app-123',  # a token
        '("@method");created=1618884473;keyid="k";nonce=:AAEC:',  # a byte sequence
        '("@method");created=1618884473;keyid="k";weight=0.5',  # a decimal
    ],
)
def test_signature_params_we_do_not_write_ourselves_keep_their_serialization(params: str) -> None:
    """The signature base repeats Signature-Input's member exactly; for parameter types our
    own writer does not produce, http_sf's serializer must give back the same text."""
    message = Message.of(
        "POST",
        "https://cart.test/inbox",
        [("Signature-Input", f"sig1={params}"), ("Signature", "sig1=:AAAA:")],
        b"",
    )
    parsed = parse_signature(message)
    assert parsed is not None and parsed.params == params
