"""What verifying a signed request comes to: `Verified`, or `Rejected` with a `Reason`.

Outcomes are values, made by actor/verification.py, and turned into an HTTP answer in
exactly one place, `problem_for`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from actor.signatures import Scheme


class Reason(enum.StrEnum):
    UNSIGNED = "unsigned"
    MALFORMED = "malformed"
    UNKNOWN_ALGORITHM = "unknown-algorithm"
    TARGET_UNSIGNED = "target-unsigned"
    HOST_UNSIGNED = "host-unsigned"
    WRONG_HOST = "wrong-host"
    TIME_UNSIGNED = "time-unsigned"
    TOO_OLD = "too-old"
    FROM_THE_FUTURE = "from-the-future"
    EXPIRED = "expired"
    DIGEST_MISSING = "digest-missing"
    DIGEST_UNSIGNED = "digest-unsigned"
    DIGEST_UNSUPPORTED = "digest-unsupported"
    DIGEST_MISMATCH = "digest-mismatch"
    COMPONENT_MISSING = "component-missing"
    KEY_UNAVAILABLE = "key-unavailable"
    BAD_SIGNATURE = "bad-signature"
    KEY_ORIGIN_MISMATCH = "key-origin-mismatch"
    SIGNER_NOT_ACTOR = "signer-not-actor"


@dataclass(frozen=True)
class Verified:
    key_id: str
    owner: str
    scheme: Scheme
    algorithm: str | None
    covered: tuple[str, ...]
    key_refreshed: bool = False
    ok: bool = field(default=True, init=False)


@dataclass(frozen=True)
class Rejected:
    reason: Reason
    detail: str
    key_id: str | None = None
    ok: bool = field(default=False, init=False)


VerificationResult = Verified | Rejected


@dataclass(frozen=True)
class Problem:
    """An HTTP answer for a rejection: status, RFC 9457 title and detail, extra members."""

    status: int
    title: str
    detail: str
    extra: dict[str, str] = field(default_factory=dict)


_TITLES: dict[Reason, tuple[int, str]] = {
    Reason.MALFORMED: (400, "Malformed signature"),
    Reason.UNSIGNED: (401, "Signature required"),
    Reason.KEY_ORIGIN_MISMATCH: (401, "Signer is not the actor"),
    Reason.SIGNER_NOT_ACTOR: (401, "Signer is not the actor"),
}


def problem_for(result: Rejected) -> Problem:
    """The one place where a rejection becomes an HTTP answer.

    400 when the signature headers cannot even be read; 401 for everything else (no
    signature, one that does not verify or does not cover enough, signer != actor),
    so that a double-knocking peer retries in its other scheme.
    """
    status, title = _TITLES.get(result.reason, (401, "Invalid signature"))
    extra = {"signature_problem": result.reason.value}
    if result.key_id:
        extra["key_id"] = result.key_id
    return Problem(status, title, result.detail, extra)
