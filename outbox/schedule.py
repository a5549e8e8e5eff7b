"""When to try a delivery again, and what an answer means: pure functions, no I/O.

The retry schedule (attempt n failed, n counted from 1): wait 1 min x 2^(n-1), capped
at 12 h, then stretched by a random 0-25 % (jitter, so a recovering host is not hit by
every worker at the same second). Without jitter the attempts fall at about

    0, 1 m, 3 m, 7 m, 15 m, 31 m, 1 h 03, 2 h 07, 4 h 15, 8 h 31, 17 h 03,
    29 h 03, 41 h 03, 53 h 03, 65 h 03

after the activity was published: 15 attempts. A retry that would fall more than 72 h
after the delivery was created is not made: the delivery is dead (an operator can
retry it). A `Retry-After` header (seconds or an HTTP date) pushes the next attempt
later, never earlier, and likewise counts against the 72 h window.

Answers: 2xx done; 408, 429, 5xx and network errors retry; 410 dead, and the followers
behind that inbox are removed; any other status (3xx, 4xx, including a 401/403 that
survived double-knocking) is a permanent failure.

The per-host breaker: after 5 consecutive failures a host is left alone for
1 min x 2^(failures-5), capped at 1 h; when that passes, the next delivery is a probe
that closes the breaker on success or reopens it (for longer) on failure. A host whose
failures have gone unbroken for 7 days is marked unavailable.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from vocab.numbers import parse_natural

FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=12)
RETRY_WINDOW = timedelta(hours=72)
JITTER = 0.25
BREAKER_THRESHOLD = 5
BREAKER_FIRST_OPEN = timedelta(minutes=1)
BREAKER_MAX_OPEN = timedelta(hours=1)
UNAVAILABLE_AFTER = timedelta(days=7)
_RETRYABLE = frozenset({408, 429})


class Outcome(enum.StrEnum):
    DONE = "done"
    RETRY = "retry"
    DEAD = "dead"
    GONE = "gone"  # 410: dead, and the followers behind the inbox are removed


def classify(status: int | None) -> Outcome:
    """`None` stands for a network error or a timeout: no answer at all."""
    if status is None or status in _RETRYABLE or status >= 500:
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.DONE
    if status == 410:
        return Outcome.GONE
    return Outcome.DEAD


def backoff(failed_attempts: int) -> timedelta:
    """The un-jittered wait after the n-th failed attempt."""
    exponent = max(0, failed_attempts - 1)
    if exponent >= 20:  # 2^20 minutes is long past the cap
        return MAX_RETRY
    return min(FIRST_RETRY * (1 << exponent), MAX_RETRY)


def next_attempt(
    *,
    failed_attempts: int,
    created_at: datetime,
    now: datetime,
    retry_after: timedelta | None = None,
    rand: Callable[[], float] = random.random,
) -> datetime | None:
    """When to try again, or None when the retry window is spent."""
    delay = backoff(failed_attempts) * (1 + JITTER * rand())
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    when = now + delay
    return when if when <= created_at + RETRY_WINDOW else None


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """RFC 9110 section 10.2.3: delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    seconds = parse_natural(value, max_digits=9)
    if seconds is not None:
        return timedelta(seconds=seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - now)


def breaker_open_for(consecutive_failures: int) -> timedelta | None:
    """How long to leave a host alone after this many failures in a row (None: not at all)."""
    if consecutive_failures < BREAKER_THRESHOLD:
        return None
    exponent = consecutive_failures - BREAKER_THRESHOLD
    if exponent >= 10:
        return BREAKER_MAX_OPEN
    return min(BREAKER_FIRST_OPEN * (1 << exponent), BREAKER_MAX_OPEN)
