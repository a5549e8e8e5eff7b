"""The cheap checks that come before any cryptography: body size, content type, rate."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.requests import Request

from inbox.exceptions import Rejected

MAX_BODY = 256 * 1024
ACCEPTED_MEDIA_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, read chunk by chunk; refused as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Rejected(400, "bad-content-length", "the Content-Length header is not a number")
        if int(declared) > limit:
            raise Rejected(413, "too-large", f"the body is over {limit // 1024} KiB")
    chunks, size = [], 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise Rejected(400, "incomplete-body", "the request body did not arrive")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Rejected(413, "too-large", f"the body is over {limit // 1024} KiB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


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
    ) -> None:
        self.rate, self.burst, self.clock, self.max_senders = rate, burst, clock, max_senders
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
                f"too many deliveries from {sender}; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        self._buckets[sender] = (tokens - 1, now)
        if len(self._buckets) > self.max_senders:
            self._buckets.popitem(last=False)
