"""The verification policy: what we accept, every rejection and its reason, key
rotation, and the one mapping from a rejection to an HTTP answer."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from actor.digests import digest_header
from actor.signatures import Message, Scheme
from actor.verification import (
    Reason,
    Rejected,
    RemoteKey,
    Verified,
    authority_of,
    check_signer,
    key_origin_matches,
    problem_for,
    verify_request,
)
from tests.actor.signature_support import (
    ACTOR,
    BODY,
    HOURS,
    INBOX,
    KEY_ID,
    NOW,
    FakeKeys,
    altered,
    keys_for,
    rejected_for,
    signed,
    verify,
)

# --- accepted -------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_well_signed_request_is_verified_and_names_the_key_owner(
    peer_key: rsa.RSAPrivateKey, scheme: Scheme, method: str
) -> None:
    result = await verify(signed(peer_key, scheme=scheme, method=method), keys_for(peer_key))

    assert isinstance(result, Verified)
    assert (result.key_id, result.owner, result.scheme) == (KEY_ID, ACTOR, scheme)
    assert check_signer(result, ACTOR) is result


async def test_an_ed25519_cavage_signature_is_verified() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    message = signed(key)

    assert 'algorithm="hs2019"' in message.headers["signature"]
    assert isinstance(await verify(message, keys_for(key)), Verified)


@pytest.mark.parametrize("key_id", [ACTOR, KEY_ID])
async def test_a_key_id_with_or_without_a_fragment(
    peer_key: rsa.RSAPrivateKey, key_id: str
) -> None:
    keys = keys_for(peer_key, key_id=key_id)

    result = await verify(signed(peer_key, key_id=key_id), keys)

    assert isinstance(result, Verified)
    assert keys.calls == [(key_id, False)]
    assert check_signer(result, ACTOR) is result


@pytest.mark.parametrize("skew", [-59 * 60, 59 * 60])
async def test_a_signature_within_the_hour_is_accepted(
    peer_key: rsa.RSAPrivateKey, skew: float
) -> None:
    assert isinstance(await verify(signed(peer_key, at=NOW + skew), keys_for(peer_key)), Verified)


# --- rejected, each for its reason ---------------------------------------------------


async def test_unsigned(peer_key: rsa.RSAPrivateKey) -> None:
    message = Message.of(
        "POST", INBOX, {"Host": "cart.example", "Digest": digest_header(BODY)}, BODY
    )

    result = rejected_for(await verify(message, keys_for(peer_key)), Reason.UNSIGNED)

    assert problem_for(result).status == 401


@pytest.mark.parametrize(
    "signature",
    ['keyId="x",signature="not base64!"', "garbage", 'algorithm="rsa-sha256",signature="AAAA"'],
)
async def test_a_signature_header_that_cannot_be_read(
    peer_key: rsa.RSAPrivateKey, signature: str
) -> None:
    message = altered(signed(peer_key), signature=signature)

    result = rejected_for(await verify(message, keys_for(peer_key)), Reason.MALFORMED)

    assert problem_for(result).status == 400


async def test_unknown_cavage_algorithm(peer_key: rsa.RSAPrivateKey) -> None:
    message = signed(peer_key)
    message = altered(
        message, signature=message.headers["signature"].replace("rsa-sha256", "rsa-sha512")
    )

    rejected_for(await verify(message, keys_for(peer_key)), Reason.UNKNOWN_ALGORITHM)


async def test_unknown_rfc9421_algorithm(peer_key: rsa.RSAPrivateKey) -> None:
    message = signed(peer_key, scheme=Scheme.RFC9421)
    message = altered(
        message,
        signature_input=message.headers["signature-input"].replace(
            "rsa-v1_5-sha256", "rsa-pss-sha512"
        ),
    )

    rejected_for(await verify(message, keys_for(peer_key)), Reason.UNKNOWN_ALGORITHM)


@pytest.mark.parametrize("scheme", list(Scheme))
async def test_digest_missing(peer_key: rsa.RSAPrivateKey, scheme: Scheme) -> None:
    covered = (
        ("(request-target)", "host", "date")
        if scheme is Scheme.CAVAGE
        else ("@method", "@target-uri")
    )
    message = signed(peer_key, scheme=scheme, covered=covered)

    rejected_for(await verify(message, keys_for(peer_key)), Reason.DIGEST_MISSING)


async def test_digest_present_but_not_signed(peer_key: rsa.RSAPrivateKey) -> None:
    message = signed(
        peer_key,
        covered=("(request-target)", "host", "date"),
        extra={"Digest": digest_header(BODY)},
    )

    rejected_for(await verify(message, keys_for(peer_key)), Reason.DIGEST_UNSIGNED)


async def test_digest_mismatched(peer_key: rsa.RSAPrivateKey) -> None:
    # Signed over a Digest of some other body: the signature is fine, the digest is not.
    other = "SHA-256=" + base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    message = signed(peer_key, extra={"Digest": other})

    rejected_for(await verify(message, keys_for(peer_key)), Reason.DIGEST_MISMATCH)


@pytest.mark.parametrize("scheme", list(Scheme))
async def test_body_tampered(peer_key: rsa.RSAPrivateKey, scheme: Scheme) -> None:
    message = altered(signed(peer_key, scheme=scheme), body=BODY.replace(b"Create", b"Delete"))

    result = rejected_for(await verify(message, keys_for(peer_key)), Reason.DIGEST_MISMATCH)

    assert result.key_id == KEY_ID


@pytest.mark.parametrize("scheme", list(Scheme))
async def test_path_tampered(peer_key: rsa.RSAPrivateKey, scheme: Scheme) -> None:
    message = altered(signed(peer_key, scheme=scheme), url="https://cart.example/admin/inbox")

    rejected_for(await verify(message, keys_for(peer_key)), Reason.BAD_SIGNATURE)


async def test_query_tampered(peer_key: rsa.RSAPrivateKey) -> None:
    message = altered(signed(peer_key, method="GET", url=INBOX + "?page=1"), url=INBOX + "?page=2")

    rejected_for(await verify(message, keys_for(peer_key)), Reason.BAD_SIGNATURE)


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize(
    ("offset", "reason"), [(-2 * HOURS, Reason.TOO_OLD), (2 * HOURS, Reason.FROM_THE_FUTURE)]
)
async def test_signature_two_hours_off(
    peer_key: rsa.RSAPrivateKey, scheme: Scheme, offset: float, reason: Reason
) -> None:
    message = signed(peer_key, scheme=scheme, at=NOW + offset)

    rejected_for(await verify(message, keys_for(peer_key)), reason)


async def test_wrong_key(peer_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey) -> None:
    result = await verify(signed(other_key), keys_for(peer_key))

    assert problem_for(rejected_for(result, Reason.BAD_SIGNATURE)).status == 401


async def test_unknown_key(peer_key: rsa.RSAPrivateKey) -> None:
    rejected_for(await verify(signed(peer_key), FakeKeys({})), Reason.KEY_UNAVAILABLE)


async def test_get_without_the_host_signed(peer_key: rsa.RSAPrivateKey) -> None:
    message = signed(peer_key, method="GET", covered=("(request-target)", "date"))

    rejected_for(await verify(message, keys_for(peer_key)), Reason.HOST_UNSIGNED)


@pytest.mark.parametrize(
    ("scheme", "covered"),
    [
        (Scheme.CAVAGE, ("(request-target)", "date", "digest")),
        (Scheme.RFC9421, ("@method", "@path", "content-digest")),
    ],
)
async def test_a_post_without_the_host_signed(
    peer_key: rsa.RSAPrivateKey, scheme: Scheme, covered: tuple[str, ...]
) -> None:
    message = signed(peer_key, scheme=scheme, covered=covered)

    rejection = rejected_for(await verify(message, keys_for(peer_key)), Reason.HOST_UNSIGNED)
    assert problem_for(rejection).status == 401
    assert "host" in rejection.detail


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_request_signed_for_another_server_is_refused_before_any_key_lookup(
    peer_key: rsa.RSAPrivateKey, scheme: Scheme, method: str
) -> None:
    message = signed(peer_key, scheme=scheme, method=method, extra={"Host": "other.example"})
    keys = keys_for(peer_key)

    result = await verify_request(message, keys, clock=lambda: NOW, authority="cart.example")

    rejection = rejected_for(result, Reason.WRONG_HOST)
    assert problem_for(rejection).status == 401
    assert "other.example" in rejection.detail and "cart.example" in rejection.detail
    assert keys.calls == []


@pytest.mark.parametrize("host", ["cart.example", "Cart.Example", "cart.example:443"])
async def test_our_own_host_in_any_spelling_is_ours(peer_key: rsa.RSAPrivateKey, host: str) -> None:
    message = signed(peer_key, url=f"https://{host}/actor/inbox", extra={"Host": host})
    ours = authority_of("https://cart.example")

    result = await verify_request(message, keys_for(peer_key), clock=lambda: NOW, authority=ours)

    assert isinstance(result, Verified), result


async def test_target_not_signed(peer_key: rsa.RSAPrivateKey) -> None:
    message = signed(peer_key, covered=("host", "date", "digest"))

    rejected_for(await verify(message, keys_for(peer_key)), Reason.TARGET_UNSIGNED)


async def test_no_time_signed(peer_key: rsa.RSAPrivateKey) -> None:
    message = signed(peer_key, covered=("(request-target)", "host", "digest"))

    rejected_for(await verify(message, keys_for(peer_key)), Reason.TIME_UNSIGNED)


async def test_a_signed_header_that_is_absent(peer_key: rsa.RSAPrivateKey) -> None:
    message = signed(
        peer_key, covered=("(request-target)", "host", "date", "digest", "content-type")
    )
    fields = {k: v for k, v in message.headers.items() if k != "content-type"}

    result = await verify(
        Message(message.method, message.url, fields, message.body), keys_for(peer_key)
    )

    rejected_for(result, Reason.COMPONENT_MISSING)


async def test_key_owner_is_not_the_actor(peer_key: rsa.RSAPrivateKey) -> None:
    keys = keys_for(peer_key, owner="https://peer.example/someone-else")
    result = await verify(signed(peer_key), keys)
    assert isinstance(result, Verified)

    problem = problem_for(rejected_for(check_signer(result, ACTOR), Reason.SIGNER_NOT_ACTOR))

    assert problem.status == 401


async def test_key_id_on_another_origin_than_the_actor(peer_key: rsa.RSAPrivateKey) -> None:
    key_id = "https://elsewhere.example/actor#main-key"
    result = await verify(signed(peer_key, key_id=key_id), keys_for(peer_key, key_id=key_id))
    assert isinstance(result, Verified)

    rejected_for(check_signer(result, ACTOR), Reason.KEY_ORIGIN_MISMATCH)


@pytest.mark.parametrize(
    ("key_id", "same"),
    [
        ("https://peer.example/actor#main-key", True),
        ("https://PEER.example/keys/1", True),
        ("https://peer.example:8443/actor#main-key", False),
        ("http://peer.example/actor#main-key", False),
        ("https://evil.example/actor#main-key", False),
    ],
)
def test_key_origin_matches(key_id: str, same: bool) -> None:
    assert key_origin_matches(key_id, ACTOR) is same


# --- key rotation --------------------------------------------------------------------


async def test_a_rotated_key_is_refetched_once_and_then_verifies(
    peer_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    keys = keys_for(peer_key)
    keys.published = {KEY_ID: RemoteKey(KEY_ID, ACTOR, other_key.public_key())}

    result = await verify(signed(other_key), keys)

    assert isinstance(result, Verified) and result.key_refreshed
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_a_flood_of_bad_signatures_asks_for_one_refetch_per_request_at_most(
    peer_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    keys = keys_for(peer_key)
    # A query string and a Host with a port: four candidate signing strings each.
    bad = [
        altered(signed(other_key, url=f"{INBOX}?n={n}"), host="cart.example:443") for n in range(20)
    ]

    results = [await verify(message, keys) for message in bad]

    assert all(isinstance(r, Rejected) and r.reason is Reason.BAD_SIGNATURE for r in results)
    assert keys.refreshes == 20


async def test_a_key_just_fetched_is_not_fetched_again(
    peer_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    keys = FakeKeys({KEY_ID: RemoteKey(KEY_ID, ACTOR, peer_key.public_key(), cached=False)})

    rejected_for(await verify(signed(other_key), keys), Reason.BAD_SIGNATURE)

    assert keys.refreshes == 0


# --- the HTTP answers ------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_maps_to_400_or_401_with_its_name(reason: Reason) -> None:
    problem = problem_for(Rejected(reason, "why", KEY_ID))

    assert problem.status == (400 if reason is Reason.MALFORMED else 401)
    assert problem.extra == {"signature_problem": reason.value, "key_id": KEY_ID}
    assert problem.detail == "why" and problem.title
