"""What the signature-policy tests share: a peer's request signed as it would sign it, a
key cache in front of that peer that counts its refetches, and the verifier's answer
checked for one reason. The peer's RSA keys are fixtures in tests/actor/conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from actor.signatures import Message, PrivateKey, Scheme, SigningKey, sign_request
from actor.verification import (
    Reason,
    Rejected,
    RemoteKey,
    VerificationResult,
    verify_request,
)

NOW = 1_790_000_000.0
ACTOR = "https://peer.example/actor"
KEY_ID = f"{ACTOR}#main-key"
INBOX = "https://cart.example/actor/inbox"
BODY = b'{"type": "Create", "actor": "https://peer.example/actor"}'
HOURS = 3600.0


@dataclass
class FakeKeys:
    """A key cache in front of a peer: `cached` is what we hold, `published` what a
    fetch would find now. Records every call so tests can count refetches."""

    cached: dict[str, RemoteKey]
    published: dict[str, RemoteKey] = field(default_factory=dict)
    calls: list[tuple[str, bool]] = field(default_factory=list)

    async def key_for(self, key_id: str, *, refresh: bool = False) -> RemoteKey | None:
        self.calls.append((key_id, refresh))
        if refresh:
            key = self.published.get(key_id) or self.cached.get(key_id)
            return replace(key, cached=False) if key else None
        return self.cached.get(key_id)

    @property
    def refreshes(self) -> int:
        return sum(1 for _, refresh in self.calls if refresh)


def keys_for(private: PrivateKey, key_id: str = KEY_ID, owner: str = ACTOR) -> FakeKeys:
    return FakeKeys({key_id: RemoteKey(key_id, owner, private.public_key())})


def signed(
    key: PrivateKey,
    *,
    scheme: Scheme = Scheme.CAVAGE,
    method: str = "POST",
    url: str = INBOX,
    body: bytes | None = None,
    at: float = NOW,
    covered: tuple[str, ...] | None = None,
    extra: dict[str, str] | None = None,
    key_id: str = KEY_ID,
) -> Message:
    headers = {"Host": "cart.example", **(extra or {})}
    body = (BODY if method == "POST" else b"") if body is None else body
    if method == "POST":
        headers["Content-Type"] = "application/activity+json"
    message = Message.of(method, url, headers, body)
    added = sign_request(message, SigningKey(key_id, key), scheme=scheme, now=at, covered=covered)
    return Message(message.method, message.url, {**message.headers, **added}, body)


def altered(
    message: Message, *, url: str | None = None, body: bytes | None = None, **headers: str
) -> Message:
    fields = {**message.headers, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return Message(
        message.method, url or message.url, fields, message.body if body is None else body
    )


async def verify(message: Message, keys: FakeKeys, now: float = NOW) -> VerificationResult:
    return await verify_request(message, keys, clock=lambda: now)


def rejected_for(result: VerificationResult, reason: Reason) -> Rejected:
    assert isinstance(result, Rejected), result
    assert result.reason is reason, result
    return result
