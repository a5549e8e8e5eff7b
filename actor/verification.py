"""The verification policy for incoming signed requests (docs/protocol.md, "HTTP signatures").

Strict where it protects us, liberal where peers legitimately differ:
- a signature is required, in either scheme; `hs2019` or no algorithm is accepted;
- the request target and the host (or `@authority`) must be signed, and the host the
  request was sent to must be ours (BASE_URL's authority): a signature binds a request
  to one server, so a delivery signed for another instance cannot be replayed here;
- a request with a body must sign a `Digest` or `Content-Digest` that matches the raw
  body bytes;
- the signature time (`Date`, or `created`) is within an hour of now;
- cavage targets are tried with the query string and, failing that, without it; the
  Host is the one received, with its port and then without;
- when a cached key fails, the resolver is asked once for a fresh one (key rotation).

Outcomes are values (`Verified` or `Rejected` with a `Reason`,
actor/verification_outcomes.py, importable from here too), turned into an HTTP answer in
exactly one place, `problem_for`. Whether the key's owner is the activity's
actor needs the parsed body, so that is a separate step: `check_signer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from actor.digests import DigestCheck, check_content_digest, check_digest
from actor.exceptions import ActorError, MalformedSignature, MissingComponent
from actor.origin import same_origin
from actor.signatures import (
    Message,
    ParsedSignature,
    PublicKey,
    Scheme,
    is_known_algorithm,
    parse_signature,
    signing_strings,
    verify_signature,
)
from actor.verification_outcomes import Problem as Problem
from actor.verification_outcomes import Reason as Reason
from actor.verification_outcomes import Rejected as Rejected
from actor.verification_outcomes import VerificationResult as VerificationResult
from actor.verification_outcomes import Verified as Verified
from actor.verification_outcomes import problem_for as problem_for

MAX_SKEW_SECONDS = 3600
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DIGESTS: dict[str, Callable[[str, bytes], DigestCheck]] = {
    "digest": check_digest,
    "content-digest": check_content_digest,
}


@dataclass(frozen=True)
class RemoteKey:
    """A peer's public key, parsed once and kept parsed by whoever caches it."""

    key_id: str
    owner: str
    public_key: PublicKey = field(repr=False)
    # Whether this came from a cache rather than a fetch just now: only a cached key
    # can be stale, so only then is a refetch worth asking for when it fails.
    cached: bool = True


class KeyResolver(Protocol):
    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        """The key named `key_id` (with or without a fragment), or None if there is none.

        `refresh=True` asks for a fetch past any cache; the resolver rate-limits those
        and may answer with what it already holds.
        """
        ...


@runtime_checkable
class ExplainsMissingKeys(Protocol):
    """A resolver that can say why it had no key: the actor could not be fetched, is
    gone, or does not list that key id. The 401 then tells the peer's operator."""

    async def why_no_key(self, key_id: str) -> str: ...


def accept_signature(method: str) -> str:
    """The RFC 9421 Accept-Signature a 401 carries: the components we need signed.

    Draft-cavage signatures over the equivalent headers are accepted just the same.
    """
    components = '"@method" "@target-uri"'
    if method.upper() in _BODY_METHODS:
        components += ' "content-digest"'
    return f"sig1=({components});created"


def key_origin_matches(key_id: str, actor_id: str) -> bool:
    """Whether the key lives on the actor's origin (scheme, host and port)."""
    return same_origin(key_id, actor_id)


def check_signer(result: Verified, actor_id: str) -> VerificationResult:
    """After parsing the body: the key must be on the actor's origin and owned by it."""
    if not key_origin_matches(result.key_id, actor_id):
        return Rejected(
            Reason.KEY_ORIGIN_MISMATCH,
            f"the key {result.key_id} is not on the origin of the actor {actor_id}",
            result.key_id,
        )
    if result.owner != actor_id:
        return Rejected(
            Reason.SIGNER_NOT_ACTOR,
            f"the key {result.key_id} belongs to {result.owner}, not to the actor {actor_id}",
            result.key_id,
        )
    return result


@lru_cache(maxsize=16)  # our BASE_URL, asked at every signed request
def authority_of(base_url: str) -> str:
    """`https://Cart.example:443/` -> `cart.example`: what a Host must name to reach us."""
    return Message.of("GET", base_url, {}).authority


async def verify_request(
    message: Message,
    keys: KeyResolver,
    *,
    clock: Callable[[], float] = time.time,
    authority: str | None = None,
) -> VerificationResult:
    """Apply the policy to one request; the key comes from `keys`, the time from `clock`.

    `authority` is ours (`authority_of(BASE_URL)`): a request whose Host names another
    server is refused before any key is looked up. Only tests of the pure policy omit it.
    """
    try:
        parsed = parse_signature(message)
    except MalformedSignature as error:
        return Rejected(Reason.MALFORMED, str(error))
    if parsed is None:
        return Rejected(
            Reason.UNSIGNED,
            "sign the request (draft-cavage Signature or RFC 9421 Signature-Input)",
        )
    rejection = _check_headers(parsed, message, clock())
    if rejection is None and authority is not None and message.authority != authority.lower():
        rejection = Rejected(
            Reason.WRONG_HOST,
            f"the request is addressed to {message.host}, not to this server ({authority}): "
            "a signature is valid only at the server it was made for",
            parsed.key_id,
        )
    if rejection is not None:
        return rejection
    try:
        candidates = signing_strings(parsed, message)
    except MissingComponent as error:
        return Rejected(Reason.COMPONENT_MISSING, str(error), parsed.key_id)
    except MalformedSignature as error:
        return Rejected(Reason.MALFORMED, str(error), parsed.key_id)
    return await _check_key(parsed, candidates, keys)


MAX_KEY_ID = 2048  # an IRI, as long as any we store


def _key_id_problem(key_id: str) -> str | None:
    """Why `key_id` cannot name a key we would fetch, or None: checked before any lookup."""
    if len(key_id) > MAX_KEY_ID:
        return f"the keyId is longer than {MAX_KEY_ID} characters"
    return _key_id_form_problem(key_id)


# A peer signs every delivery with the same few key ids: each is read once, not each time.
@lru_cache(maxsize=1024)
def _key_id_form_problem(key_id: str) -> str | None:
    if not key_id.isascii() or not key_id.isprintable() or " " in key_id:
        return "the keyId must be an IRI in printable ASCII, without spaces"
    try:
        parts = urlsplit(key_id)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "the keyId is not a URL"
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        return "the keyId must be an absolute https (or http) URL"
    if parts.username is not None or parts.password is not None:
        return "the keyId must not carry user information"
    return None


def _check_headers(parsed: ParsedSignature, message: Message, now: float) -> Rejected | None:
    key_id = parsed.key_id
    key_id_problem = _key_id_problem(key_id)
    if key_id_problem is not None:
        return Rejected(Reason.MALFORMED, key_id_problem, key_id[:200])
    if not is_known_algorithm(parsed):
        return Rejected(
            Reason.UNKNOWN_ALGORITHM, f"unsupported algorithm {parsed.algorithm!r}", key_id
        )
    covered = set(parsed.covered)
    if parsed.scheme is Scheme.CAVAGE:
        target_signed = "(request-target)" in covered
        host_signed = "host" in covered
    else:
        target_signed = "@method" in covered and bool(
            covered & {"@target-uri", "@request-target", "@path"}
        )
        host_signed = bool(covered & {"@authority", "@target-uri", "host"})
    if not target_signed:
        return Rejected(
            Reason.TARGET_UNSIGNED, "the signature must cover the method and path", key_id
        )
    if not host_signed:
        return Rejected(
            Reason.HOST_UNSIGNED,
            "the signature must cover the host (cavage `host`, RFC 9421 `@authority`), "
            "which binds it to this server",
            key_id,
        )
    rejection = _check_time(parsed, message, now)
    if rejection is None:
        rejection = _check_digest(parsed, message)
    return rejection


def _signed_at(parsed: ParsedSignature, message: Message) -> float | None:
    if parsed.scheme is Scheme.RFC9421 or "(created)" in parsed.covered:
        return parsed.created
    if "date" not in parsed.covered:
        return None
    value = message.headers.get("date")
    if value is None:
        raise MissingComponent("date")
    seconds = _http_date(value) if len(value) <= _HTTP_DATE_KEPT else _read_http_date(value)
    if seconds is None:
        raise MalformedSignature(f"the Date header {value!r} is not an HTTP date")
    return seconds


_HTTP_DATE_KEPT = 64  # "Sun, 06 Nov 1994 08:49:37 GMT" is 29 characters


def _read_http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


# Every delivery a peer signs within one second names the same Date: it is read once.
_http_date = lru_cache(maxsize=256)(_read_http_date)


def _check_time(parsed: ParsedSignature, message: Message, now: float) -> Rejected | None:
    key_id = parsed.key_id
    try:
        signed_at = _signed_at(parsed, message)
    except MissingComponent as error:
        return Rejected(Reason.COMPONENT_MISSING, str(error), key_id)
    except MalformedSignature as error:
        return Rejected(Reason.MALFORMED, str(error), key_id)
    if signed_at is None:
        return Rejected(Reason.TIME_UNSIGNED, "the signature must cover Date or created", key_id)
    if signed_at < now - MAX_SKEW_SECONDS:
        return Rejected(Reason.TOO_OLD, "the signature is more than an hour old", key_id)
    if signed_at > now + MAX_SKEW_SECONDS:
        return Rejected(Reason.FROM_THE_FUTURE, "the signature is dated over an hour ahead", key_id)
    if parsed.expires is not None and parsed.expires < now:
        return Rejected(Reason.EXPIRED, "the signature has expired", key_id)
    return None


def _check_digest(parsed: ParsedSignature, message: Message) -> Rejected | None:
    key_id = parsed.key_id
    signed = [name for name in _DIGESTS if name in parsed.covered]
    if not signed:
        if message.method not in _BODY_METHODS and not message.body:
            return None
        if any(name in message.headers for name in _DIGESTS):
            return Rejected(Reason.DIGEST_UNSIGNED, "the signature must cover the digest", key_id)
        return Rejected(Reason.DIGEST_MISSING, "send a signed Digest or Content-Digest", key_id)
    for name in signed:
        value = message.headers.get(name)
        if value is None:
            return Rejected(Reason.DIGEST_MISSING, f"the signed {name} header is missing", key_id)
        outcome = _DIGESTS[name](value, message.body)
        if outcome is DigestCheck.MISMATCH:
            return Rejected(Reason.DIGEST_MISMATCH, f"the {name} does not match the body", key_id)
        if outcome is DigestCheck.MALFORMED:
            return Rejected(Reason.MALFORMED, f"the {name} header cannot be read", key_id)
        if outcome is DigestCheck.UNSUPPORTED:
            return Rejected(
                Reason.DIGEST_UNSUPPORTED, f"the {name} uses no SHA-256 or SHA-512", key_id
            )
    return None


async def _resolve(keys: KeyResolver, key_id: str, refresh: bool) -> RemoteKey | Rejected:
    try:
        key = await keys.key_for(key_id, refresh=refresh)
    except ActorError as error:
        return Rejected(
            Reason.KEY_UNAVAILABLE, f"the key {key_id} cannot be fetched: {error}", key_id
        )
    if key is None:
        if isinstance(keys, ExplainsMissingKeys):
            return Rejected(Reason.KEY_UNAVAILABLE, await keys.why_no_key(key_id), key_id)
        return Rejected(
            Reason.KEY_UNAVAILABLE, f"no key {key_id} is known or can be fetched", key_id
        )
    return key


def _verified(parsed: ParsedSignature, key: RemoteKey, refreshed: bool) -> Verified:
    return Verified(
        parsed.key_id, key.owner, parsed.scheme, parsed.algorithm, parsed.covered, refreshed
    )


async def _check_key(
    parsed: ParsedSignature, candidates: list[bytes], keys: KeyResolver
) -> VerificationResult:
    key = await _resolve(keys, parsed.key_id, refresh=False)
    if isinstance(key, Rejected):
        return key
    if verify_signature(parsed, candidates, key.public_key):
        return _verified(parsed, key, refreshed=False)
    if key.cached:
        # The peer may have rotated its key since we cached it: ask once for a fresh one.
        fresh = await _resolve(keys, parsed.key_id, refresh=True)
        if (
            isinstance(fresh, RemoteKey)
            and fresh.public_key != key.public_key
            and verify_signature(parsed, candidates, fresh.public_key)
        ):
            return _verified(parsed, fresh, refreshed=True)
    return Rejected(
        Reason.BAD_SIGNATURE, f"the signature does not verify with {parsed.key_id}", parsed.key_id
    )
