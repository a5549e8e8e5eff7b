"""The cheap checks: body size and content type before any cryptography; then, from the
verified signer alone and before the body is read as an activity, its rates.

Rates are token buckets: one per sender (RateLimiter), and for senders we do not
follow (no role in PEERS) a bucket per host and one for all of them together
(StrangerBudget), because a sender who mints actors has a fresh per-actor bucket for
each and only its host, or the total, bounds what it makes us store.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request

from actor.starlette_adapter import BadContentLength, BodyTooLarge, read_within
from inbox.exceptions import Rejected

MAX_BODY = 256 * 1024
# A delivery whose signature claims a key outside our peers' origins. What a stranger
# sends us (a Follow, an Undo, a Like, an actor's Update) is a few KB at most; 64 KiB
# leaves room for a long profile. A stranger's 256 KiB would be a digest, a signature
# check and a JSON parse of that size on the event loop before the first check that can
# refuse it (bench/hostile's heavy JSON-LD sent 90 KB), so this cap is checked first,
# from the unverified claim alone: a stranger who claims a peer's key pays the full
# checks and is refused by the signature.
STRANGER_MAX_BODY = 64 * 1024
ACCEPTED_MEDIA_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, read chunk by chunk; refused as soon as it passes `limit` bytes."""
    try:
        return await read_within(request, limit)
    except BadContentLength:
        raise Rejected(
            400, "bad-content-length", "the Content-Length header is not a number"
        ) from None
    except BodyTooLarge:
        raise Rejected(413, "too-large", f"the body is over {limit // 1024} KiB") from None
    except ClientDisconnect:
        raise Rejected(400, "incomplete-body", "the request body did not arrive") from None


def check_content_type(value: str | None) -> None:
    """An ActivityStreams document's media type, as real servers send it.

    application/activity+json; application/ld+json with or without the ActivityStreams
    profile (some servers omit it, some send other profiles beside it); and plain
    application/json, which several servers post. The body is read as AS2 either way.
    """
    media = (value or "").split(";", 1)[0].strip().lower()
    if media in ACCEPTED_MEDIA_TYPES:
        return
    raise Rejected(
        415,
        "unsupported-media-type",
        "send application/activity+json (or application/ld+json, application/json)"
        + (f", not {value!r}" if value else ""),
    )


class RateLimiter:
    """A token bucket per sender: `rate` deliveries a second, bursts up to `burst`.

    Held in process memory: with N web processes a sender gets N times the rate, which
    is still a limit, and no process depends on another's memory (docs/design.md).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_senders: int = 10_000,
        describe: Callable[[str], str] = lambda sender: f"from {sender}",
    ) -> None:
        self.rate, self.burst, self.clock, self.max_senders = rate, burst, clock, max_senders
        self.describe = describe
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def check(self, sender: str) -> None:
        """Take one token for `sender`, or refuse with 429 and when to come back."""
        if self.rate <= 0:
            return
        now = self.clock()
        tokens, last = self._buckets.pop(sender, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[sender] = (tokens, now)
            wait = max(1, int((1 - tokens) / self.rate + 0.999))
            raise Rejected(
                429,
                "rate-limited",
                f"too many deliveries {self.describe(sender)}; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        self._buckets[sender] = (tokens - 1, now)
        if len(self._buckets) > self.max_senders:
            self._buckets.popitem(last=False)


class StrangerBudget:
    """What senders we do not follow may make us store: per host, and all together.

    Over either budget a delivery is refused 429 (with Retry-After) before its body is
    read as an activity; a real server retries later, a flood stops costing us rows.
    """

    def __init__(
        self,
        *,
        host_rate: float,
        host_burst: int,
        total_rate: float,
        total_burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hosts = RateLimiter(
            host_rate, host_burst, clock=clock, describe=lambda host: f"from actors on {host}"
        )
        self.total = RateLimiter(
            total_rate,
            total_burst,
            clock=clock,
            describe=lambda _: "from actors we do not follow; the inbox is busy",
        )

    def check(self, sender: str) -> None:
        self.hosts.check(urlsplit(sender).netloc.lower())
        self.total.check("*")
