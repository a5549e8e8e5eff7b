"""Round trips with independent implementations from the package index: `httpsig`
(draft-cavage) and `http-message-signatures` (RFC 9421). Ours signs and theirs
verifies; theirs signs and our whole verification policy accepts it."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

import httpsig
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from actor.cavage import http_date
from actor.signatures import Message, PrivateKey, Scheme, SigningKey, sign_request
from actor.verification import RemoteKey, Verified, verify_request

NOW = 1_790_000_000.0
ACTOR = "https://peer.example/actor"
KEY_ID = f"{ACTOR}#main-key"
BODY = b'{"type": "Create", "actor": "https://peer.example/actor"}'
URLS = ["https://cart.example/actor/inbox", "https://cart.example/actor/inbox?page=2&x=%20y"]


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@dataclass
class OneKey:
    key: RemoteKey

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        return self.key if key_id == self.key.key_id else None


def resolver(private: PrivateKey, key_id: str = KEY_ID) -> OneKey:
    return OneKey(RemoteKey(key_id, ACTOR, private.public_key()))


def pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signed_by_us(url: str, key: PrivateKey, scheme: Scheme, method: str = "POST") -> httpx.Request:
    body = BODY if method == "POST" else b""
    headers = (
        {"Content-Type": "application/activity+json"}
        if body
        else {"Accept": "application/activity+json"}
    )
    request = httpx.Request(method, url, headers=headers, content=body)
    message = Message.of(method, str(request.url), request.headers.multi_items(), body)
    for name, value in sign_request(
        message, SigningKey(KEY_ID, key), scheme=scheme, now=NOW
    ).items():
        request.headers[name] = value
    return request


def as_message(request: httpx.Request) -> Message:
    return Message.of(
        request.method, str(request.url), request.headers.multi_items(), request.content
    )


async def accepted(message: Message, key: PrivateKey) -> bool:
    result = await verify_request(message, resolver(key), clock=lambda: NOW)
    assert isinstance(result, Verified), result
    return result.owner == ACTOR


# --- draft-cavage: ours <-> httpsig ------------------------------------------------


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_httpsig_verifies_our_cavage_signature(
    rsa_key: rsa.RSAPrivateKey, url: str, method: str
) -> None:
    request = signed_by_us(url, rsa_key, Scheme.CAVAGE, method)
    covered = request.headers["signature"].split('headers="')[1].split('"')[0].split()

    verifier = httpsig.HeaderVerifier(
        headers=dict(request.headers),
        secret=public_pem(rsa_key),
        required_headers=covered,
        method=method,
        path=request.url.raw_path.decode(),
        sign_header="signature",
    )

    assert verifier.verify()
    assert "digest" in covered if method == "POST" else "digest" not in covered


def httpsig_signed(
    key: rsa.RSAPrivateKey,
    url: str,
    *,
    host: str = "cart.example",
    digest_name: str = "SHA-256",
    algorithm: str | None = "rsa-sha256",
    with_query: bool = True,
) -> Message:
    target = httpx.URL(url)
    path = target.raw_path.decode() if with_query else target.path
    headers = {
        "Host": host,
        "Date": http_date(NOW),
        "Content-Type": "application/activity+json",
        "Digest": f"{digest_name}={base64.b64encode(hashlib.sha256(BODY).digest()).decode()}",
    }
    signer = httpsig.HeaderSigner(
        KEY_ID,
        pem(key),
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest", "content-type"],
        sign_header="signature",
    )
    signed = dict(signer.sign(headers, method="POST", path=path))
    if algorithm != "rsa-sha256":
        # The algorithm parameter is not signed: this is exactly what hs2019 senders
        # (and senders naming no algorithm) put on the wire over the same bytes.
        replacement = f'algorithm="{algorithm}",' if algorithm else ""
        signed["signature"] = signed["signature"].replace('algorithm="rsa-sha256",', replacement)
    return Message.of("POST", f"https://{host}{target.raw_path.decode()}", signed, BODY)


@pytest.mark.parametrize("url", URLS)
async def test_we_verify_httpsig_rsa_sha256(rsa_key: rsa.RSAPrivateKey, url: str) -> None:
    assert await accepted(httpsig_signed(rsa_key, url), rsa_key)


@pytest.mark.parametrize("algorithm", ["hs2019", "HS2019", None])
async def test_we_verify_hs2019_and_a_missing_algorithm(
    rsa_key: rsa.RSAPrivateKey, algorithm: str | None
) -> None:
    assert await accepted(httpsig_signed(rsa_key, URLS[1], algorithm=algorithm), rsa_key)


async def test_we_verify_a_lower_case_digest_name(rsa_key: rsa.RSAPrivateKey) -> None:
    assert await accepted(httpsig_signed(rsa_key, URLS[0], digest_name="sha-256"), rsa_key)


async def test_we_verify_a_host_without_port(rsa_key: rsa.RSAPrivateKey) -> None:
    message = httpsig_signed(rsa_key, "http://cart.example:8080/actor/inbox", host="cart.example")

    assert message.url == "https://cart.example/actor/inbox"
    assert await accepted(message, rsa_key)


async def test_we_verify_a_peer_that_signed_the_path_without_the_query(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    assert await accepted(httpsig_signed(rsa_key, URLS[1], with_query=False), rsa_key)


async def test_we_verify_a_signature_over_the_host_a_proxy_gave_a_port(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    signed = httpsig_signed(rsa_key, URLS[0], host="cart.example")
    # The proxy in front of us forwarded "Host: cart.example:443"; the peer signed without.
    received = Message(
        signed.method, signed.url, {**signed.headers, "host": "cart.example:443"}, signed.body
    )

    assert await accepted(received, rsa_key)


# --- RFC 9421: ours <-> http-message-signatures ---------------------------------------


def _algorithm(key: PrivateKey) -> type[algorithms.HTTPSignatureAlgorithm]:
    return algorithms.RSA_V1_5_SHA256 if isinstance(key, rsa.RSAPrivateKey) else algorithms.ED25519


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_http_message_signatures_verifies_ours(
    rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey, url: str, method: str, kind: str
) -> None:
    key = rsa_key if kind == "rsa" else ed_key
    request = signed_by_us(url, key, Scheme.RFC9421, method)
    verifier = HTTPMessageVerifier(
        signature_algorithm=_algorithm(key),
        key_resolver=MappingKeyResolver(public_keys={KEY_ID: key.public_key()}, private_keys={}),
    )

    results = verifier.verify(request, max_age=None, body=request.content)

    assert [r.parameters["keyid"] for r in results] == [KEY_ID]
    assert '"@target-uri"' in results[0].covered_components
    if method == "POST":
        assert results[0].body == BODY


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
async def test_we_verify_http_message_signatures(
    rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey, url: str, kind: str
) -> None:
    key = rsa_key if kind == "rsa" else ed_key
    request = httpx.Request(
        "POST", url, headers={"Content-Type": "application/activity+json"}, content=BODY
    )
    signer = HTTPMessageSigner(
        signature_algorithm=_algorithm(key),
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={KEY_ID: key}),
    )
    signer.sign(
        request,
        key_id=KEY_ID,
        created=dt.datetime.fromtimestamp(NOW, dt.UTC),
        covered_component_ids=("@method", "@target-uri", "@authority", "content-type"),
        body=BODY,
    )

    assert "content-digest" in request.headers
    assert await accepted(as_message(request), key)


async def test_we_verify_http_message_signatures_without_alg(rsa_key: rsa.RSAPrivateKey) -> None:
    request = httpx.Request("GET", URLS[1])
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={KEY_ID: rsa_key}),
    )
    signer.sign(
        request,
        key_id=KEY_ID,
        created=dt.datetime.fromtimestamp(NOW, dt.UTC),
        include_alg=False,
        covered_component_ids=("@method", "@path", "@query", "@authority"),
    )

    assert "alg=" not in request.headers["signature-input"]
    assert await accepted(as_message(request), rsa_key)
